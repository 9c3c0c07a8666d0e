import CProcessSpawn
import DroverCore
import Foundation
import Testing

#if canImport(Glibc)
import Glibc
#endif

/// The C spawn function on its own: what the Swift API cannot reach.
@Suite struct DroverSpawnTests {
    @Test func childDiesWhenTheThreadThatSpawnedItExits() async throws {
        let devNull = open("/dev/null", O_WRONLY | O_CLOEXEC)
        try #require(devNull >= 0)
        defer { close(devNull) }

        // Spawn `sleep 30` from a thread that returns right away.
        let spawned: Int32 = await withCheckedContinuation { continuation in
            let thread = Thread {
                var pid: pid_t = 0
                var childErrno: Int32 = 0
                var step: Int32 = 0
                let result = spawn(
                    "/bin/sleep", ["sleep", "30"], [], devNull, &pid, &childErrno, &step)
                continuation.resume(returning: result == 0 ? pid : -1)
            }
            thread.start()
        }
        try #require(spawned > 0)

        let exited = await waitUntilExited(pid: spawned)
        if !exited { kill(spawned, SIGKILL) }
        let status = try #require(reap(spawned))
        #expect(exited, "the child outlived the thread that spawned it")
        #expect(status == .signaled(SIGKILL))
    }

    @Test func childStartsWithNoSignalBlockedWhateverTheSpawningThreadBlocks() async throws {
        // Exec grep directly: a shell in between would hide the mask (dash clears it for
        // its children).
        let output: String? = await withCheckedContinuation { continuation in
            let thread = Thread {
                var blocked = sigset_t()
                sigemptyset(&blocked)
                sigaddset(&blocked, SIGTERM)
                sigaddset(&blocked, SIGUSR1)
                pthread_sigmask(SIG_BLOCK, &blocked, nil)
                continuation.resume(returning: runToEnd("/bin/grep", ["grep", "^Sig", "/proc/self/status"]))
            }
            thread.start()
        }
        let status = try #require(output)
        #expect(signalMask("SigBlk", in: status) == 0)
        // What the spawn blocks around the fork must not leak either.
        #expect(signalMask("SigIgn", in: status).map { $0 & 0x7fff_ffff } == 0)
    }

    @Test func execFailureIsReportedWithItsErrno() throws {
        let devNull = open("/dev/null", O_WRONLY | O_CLOEXEC)
        try #require(devNull >= 0)
        defer { close(devNull) }
        var pid: pid_t = 0
        var childErrno: Int32 = 0
        var step: Int32 = 0
        let result = spawn("/drover/no/such/program", ["x"], [], devNull, &pid, &childErrno, &step)
        #expect(result == -1)
        #expect(step == Int32(DROVER_SPAWN_STEP_EXEC))
        #expect(childErrno == ENOENT)
    }
}

private enum WaitStatus: Equatable {
    case exited(Int32)
    case signaled(Int32)
}

/// Reaps our child `pid`; nil if it cannot be waited for.
private func reap(_ pid: Int32) -> WaitStatus? {
    var signaled: Int32 = 0
    var value: Int32 = 0
    guard drover_reap(pid, &signaled, &value) == 0 else { return nil }
    return signaled != 0 ? .signaled(value) : .exited(value)
}

/// Spawns `path` with stdout and stderr on a pipe, reads the pipe to its end and reaps the
/// child; the output if it exited 0, else nil. Blocks: call on a thread of its own.
private func runToEnd(_ path: String, _ arguments: [String]) -> String? {
    var fds: [Int32] = [-1, -1]
    guard drover_pipe(&fds, 0) == 0 else { return nil }
    var pid: pid_t = 0
    var childErrno: Int32 = 0
    var step: Int32 = 0
    let result = spawn(path, arguments, [], fds[1], &pid, &childErrno, &step)
    close(fds[1])
    defer { close(fds[0]) }
    guard result == 0 else { return nil }
    var bytes: [UInt8] = []
    var buffer = [UInt8](repeating: 0, count: 4096)
    while true {
        let count = read(fds[0], &buffer, buffer.count)
        if count > 0 { bytes += buffer[..<count] } else if count == 0 || errno != EINTR { break }
    }
    guard reap(pid) == .exited(0) else { return nil }
    return String(decoding: bytes, as: UTF8.self)
}

/// `drover_spawn` with Swift arrays, stdout and stderr both on `output`, no working directory.
private func spawn(
    _ path: String, _ arguments: [String], _ environment: [String], _ output: Int32,
    _ pid: inout pid_t, _ childErrno: inout Int32, _ step: inout Int32
) -> Int32 {
    let argv: [UnsafeMutablePointer<CChar>?] = arguments.map { strdup($0) } + [nil]
    let envp: [UnsafeMutablePointer<CChar>?] = environment.map { strdup($0) } + [nil]
    defer { (argv + envp).forEach { free($0) } }
    return drover_spawn(path, argv, envp, nil, output, output, &pid, &childErrno, &step)
}
