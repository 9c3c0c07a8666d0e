import DroverCore
import DroverTestSupport
import DroverWorker
import Foundation
import Testing

#if canImport(Glibc)
import Glibc
#endif

/// The environment tests give their commands: just enough to find `sleep`, `grep` and `env`.
let testPath = ["PATH": "/usr/bin:/bin"]

/// Starting a flow run process: outcomes, environment, working directory, process group,
/// signal dispositions, and spawn errors.
@Suite struct ChildProcessTests {
    @Test func exitCodeZeroIsKept() async throws {
        let recorder = EventRecorder()
        _ = try ChildProcess.start(ProcessSpec(command: "exit 0"), onEvent: recorder.handler)
        #expect(await recorder.waitForExit() == .exited(code: 0))
        #expect(recorder.exitedExactlyOnceAndLast)
    }

    @Test func nonZeroExitCodeIsKept() async throws {
        let recorder = EventRecorder()
        _ = try ChildProcess.start(ProcessSpec(command: "exit 3"), onEvent: recorder.handler)
        #expect(await recorder.waitForExit() == .exited(code: 3))
        #expect(recorder.exitedExactlyOnceAndLast)
    }

    @Test func unknownCommandIsAnOutcomeNotAnError() async throws {
        let recorder = EventRecorder()
        _ = try ChildProcess.start(
            ProcessSpec(command: "drover-no-such-command-xyz", environment: testPath), onEvent: recorder.handler)
        #expect(await recorder.waitForExit() == .exited(code: 127))
        #expect(recorder.texts(.stderr).contains { $0.contains("not found") })
    }

    @Test func environmentIsExactlyTheOneGiven() async throws {
        // The test process has variables of its own (HOME, PATH, ...) that must not leak.
        let shellAdded: Set<String> = ["PWD"]
        let given = ["FOO": "bar", "DROVER_EMPTY": ""]
        let ownNames = Set(ProcessInfo.processInfo.environment.keys)
        try #require(!ownNames.subtracting(given.keys).subtracting(shellAdded).isEmpty)

        let recorder = EventRecorder()
        _ = try ChildProcess.start(
            ProcessSpec(command: "exec /usr/bin/env", environment: given), onEvent: recorder.handler)
        #expect(await recorder.waitForExit() == .exited(code: 0))

        let lines = recorder.texts(.stdout)
        #expect(lines.contains("FOO=bar"))
        #expect(lines.contains("DROVER_EMPTY="))
        let names = Set(lines.map { String($0.prefix { $0 != "=" }) })
        #expect(names.subtracting(shellAdded) == Set(given.keys))
    }

    @Test func workingDirectoryIsHonoured() async throws {
        let directory = try TemporaryDirectory()
        let expected = URL(fileURLWithPath: directory.path).resolvingSymlinksInPath().path
        let recorder = EventRecorder()
        _ = try ChildProcess.start(
            ProcessSpec(command: "pwd", workingDirectory: directory.path), onEvent: recorder.handler)
        #expect(await recorder.waitForExit() == .exited(code: 0))
        #expect(recorder.texts(.stdout) == [expected])
    }

    @Test func missingWorkingDirectoryThrowsAClearError() throws {
        let directory = try TemporaryDirectory()
        let missing = directory.path + "/does-not-exist"
        let recorder = EventRecorder()
        let error = #expect(throws: DroverError.self) {
            try ChildProcess.start(
                ProcessSpec(command: "exit 0", workingDirectory: missing), onEvent: recorder.handler)
        }
        #expect(error?.code == .failedPrecondition)
        #expect(error?.message.contains("working directory '\(missing)'") == true)
        #expect(error?.message.contains("No such file or directory") == true)
        #expect(recorder.events.isEmpty)
    }

    @Test func environmentNameWithEqualsSignIsRejected() throws {
        let error = #expect(throws: DroverError.self) {
            try ChildProcess.start(ProcessSpec(command: "exit 0", environment: ["A=B": "c"]), onEvent: { _ in })
        }
        #expect(error?.code == .invalidArgument)
    }

    @Test func childLeadsItsOwnProcessGroup() async throws {
        let recorder = EventRecorder()
        // Field 5 of /proc/PID/stat is the process group id; shell builtins only.
        let child = try ChildProcess.start(
            ProcessSpec(command: "read -r stat < /proc/$$/stat; set -- $stat; echo $5"),
            onEvent: recorder.handler)
        #expect(await recorder.waitForExit() == .exited(code: 0))
        #expect(recorder.texts(.stdout) == ["\(child.pid)"])
        #expect(child.pid != getpgrp())
    }

    @Test func childGetsDefaultSIGINTFromAWorkerThatIgnoresIt() async throws {
        let recorder = EventRecorder()
        // As a worker started with `&` from a script: SIGINT ignored (restored right after
        // the start). The shell would keep an inherited SIGINT ignored and pass it on to grep.
        let (child, ownIgnoredMask) = try withSIGINTIgnored {
            (
                try ChildProcess.start(
                    ProcessSpec(command: "grep '^SigIgn' /proc/self/status", environment: testPath),
                    onEvent: recorder.handler),
                signalMask("SigIgn", in: try String(contentsOfFile: "/proc/self/status", encoding: .utf8))
            )
        }
        _ = child
        #expect(await recorder.waitForExit() == .exited(code: 0))
        let sigint: UInt64 = 1 << (UInt64(SIGINT) - 1)
        try #require(ownIgnoredMask.map { $0 & sigint != 0 } == true, "the test process did not ignore SIGINT")

        let ignored = try #require(signalMask("SigIgn", in: recorder.texts(.stdout).joined(separator: "\n")))
        #expect(ignored & sigint == 0, "the child inherited SIGINT as ignored")
        // No standard signal (1-31) ignored. glibc reserves 32 and 33 and refuses to change
        // them, so an ignored 32 inherited from the test runner stays as it is.
        #expect(ignored & 0x7fff_ffff == 0)
    }
}

/// Runs `body` with SIGINT ignored process-wide, then restores the previous disposition.
private func withSIGINTIgnored<T>(_ body: () throws -> T) rethrows -> T {
    var ignore = sigaction()
    ignore.__sigaction_handler.sa_handler = SIG_IGN
    sigemptyset(&ignore.sa_mask)
    var previousAction = sigaction()
    sigaction(SIGINT, &ignore, &previousAction)
    defer { sigaction(SIGINT, &previousAction, nil) }
    return try body()
}

/// The hexadecimal mask on the `name:` line of a /proc/PID/status text.
func signalMask(_ name: String, in status: String) -> UInt64? {
    for line in status.split(separator: "\n") where line.hasPrefix(name + ":") {
        return UInt64(line.dropFirst(name.count + 1).trimmingCharacters(in: .whitespaces), radix: 16)
    }
    return nil
}
