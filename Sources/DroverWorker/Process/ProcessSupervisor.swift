import CProcessSpawn
import DroverCore
import DroverSystem
import Foundation

#if canImport(Glibc)
import Glibc
#endif

/// What runs on a child's supervising thread: the spawn, then a `poll(2)` loop over the
/// child's stdout and stderr pipes, its pidfd and a wake-up pipe, until the child is reaped
/// and its output read to the end.
///
/// The spawn happens on this thread because the child's parent-death signal is tied to the
/// thread that forked it; the thread returns only after reaping the child.
struct ProcessSupervisor {
    /// The path of the shell that runs every command.
    static let shell = "/bin/sh"
    /// How long output is still read after the child was reaped and its group killed.
    /// Only a process that left the group (`setsid`) and kept the pipe open makes it count.
    static let drainLimit: Duration = .seconds(2)
    /// How often to look for the child's exit where the kernel lacks pidfds.
    static let exitPollInterval: Duration = .milliseconds(50)
    /// Bytes read from a pipe per `read(2)`.
    static let readSize = 64 * 1024

    let control: ProcessControl
    let onEvent: @Sendable (ProcessEvent) -> Void

    /// Spawns `spec` and hands the pid or the error to `handshake`; on success supervises
    /// the child until `.exited` has been delivered. Call on the supervising thread.
    func run(_ spec: ProcessSpec, handshake: SpawnHandshake) {
        var stdoutPipe: [Int32] = [-1, -1]
        var stderrPipe: [Int32] = [-1, -1]
        guard drover_pipe(&stdoutPipe, 0) == 0 else {
            return handshake.fail(Self.startError("no pipe for its output: \(errnoDescription(errno))"))
        }
        guard drover_pipe(&stderrPipe, 0) == 0 else {
            let code = errno
            close(stdoutPipe[0])
            close(stdoutPipe[1])
            return handshake.fail(Self.startError("no pipe for its output: \(errnoDescription(code))"))
        }
        let pid: Int32
        do throws(DroverError) {
            pid = try Self.spawn(spec, stdoutFD: stdoutPipe[1], stderrFD: stderrPipe[1])
        } catch {
            (stdoutPipe + stderrPipe).forEach { close($0) }
            return handshake.fail(error)
        }
        // The child holds the write ends now; closing ours makes end of file mean "every
        // process of the run has closed its output".
        close(stdoutPipe[1])
        close(stderrPipe[1])
        control.started(pid: pid)
        handshake.succeed(pid)
        supervise(pid: pid, stdoutFD: stdoutPipe[0], stderrFD: stderrPipe[0])
    }

    /// Forks and execs `/bin/sh -c command`; returns the pid once the exec succeeded.
    static func spawn(_ spec: ProcessSpec, stdoutFD: Int32, stderrFD: Int32) throws(DroverError) -> Int32 {
        let arguments = [shell, "-c", spec.command]
        let environment = spec.environment.sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value)" }
        var pid: pid_t = 0
        var childErrno: Int32 = 0
        var step: Int32 = 0
        let result = CStringArray.with(arguments) { argv in
            CStringArray.with(environment) { envp -> Int32 in
                guard let argv, let envp else {
                    childErrno = ENOMEM
                    step = Int32(DROVER_SPAWN_STEP_REPORT_PIPE)
                    return -1
                }
                if let directory = spec.workingDirectory {
                    return directory.withCString {
                        drover_spawn(shell, argv, envp, $0, stdoutFD, stderrFD, &pid, &childErrno, &step)
                    }
                }
                return drover_spawn(shell, argv, envp, nil, stdoutFD, stderrFD, &pid, &childErrno, &step)
            }
        }
        guard result == 0 else {
            throw spawnError(step: step, errno: childErrno, spec: spec)
        }
        return pid
    }

    /// The error for a failed `drover_spawn`, naming the step and the errno.
    static func spawnError(step: Int32, errno code: Int32, spec: ProcessSpec) -> DroverError {
        let reason = errnoDescription(code)
        switch Int(step) {
        case Int(DROVER_SPAWN_STEP_WORKING_DIRECTORY):
            return startError("working directory '\(spec.workingDirectory ?? "")' is not usable: \(reason)")
        case Int(DROVER_SPAWN_STEP_FORK):
            return startError("fork failed: \(reason)")
        case Int(DROVER_SPAWN_STEP_PROCESS_GROUP):
            return startError("cannot give it a process group of its own: \(reason)")
        case Int(DROVER_SPAWN_STEP_PARENT_DEATH_SIGNAL):
            return startError("cannot set its parent-death signal: \(reason)")
        case Int(DROVER_SPAWN_STEP_STANDARD_STREAMS):
            return startError("cannot set up its stdin, stdout and stderr: \(reason)")
        case Int(DROVER_SPAWN_STEP_EXEC):
            return startError("cannot execute \(shell): \(reason)")
        default:
            return startError("cannot prepare the spawn: \(reason)")
        }
    }

    /// "cannot start the flow run process: <detail>", as a failed precondition.
    static func startError(_ detail: String) -> DroverError {
        DroverError(.failedPrecondition, "cannot start the flow run process: \(detail)")
    }

    // MARK: - Supervision

    /// One of the child's output pipes and the line splitter for it.
    private struct OutputPipe {
        let fd: Int32
        let stream: OutputStream
        var splitter = LineSplitter(maximumBytes: ChildProcess.maximumLineBytes)
        var isOpen = true
    }

    /// What a `pollfd` in the loop stands for.
    private enum Slot {
        case output(Int)
        case wakeUp
        case childExit
    }

    /// The poll loop: delivers output, escalates to SIGKILL at the kill deadline, kills the
    /// group and reaps the child when it exits, reads the output to the end (bounded by
    /// `drainLimit`), then delivers `.exited`.
    private func supervise(pid: Int32, stdoutFD: Int32, stderrFD: Int32) {
        var pipes = [OutputPipe(fd: stdoutFD, stream: .stdout), OutputPipe(fd: stderrFD, stream: .stderr)]
        let pidFD = drover_pidfd_open(pid)  // -1: look for the exit every `exitPollInterval`.
        defer { if pidFD >= 0 { close(pidFD) } }
        var outcome: ProcessOutcome?
        var drainDeadline: ContinuousClock.Instant?
        var buffer = [UInt8](repeating: 0, count: Self.readSize)

        while outcome == nil || pipes.contains(where: \.isOpen) {
            if let drainDeadline, ContinuousClock.now >= drainDeadline { break }

            var slots: [Slot] = []
            var pollFDs: [pollfd] = []
            for index in pipes.indices where pipes[index].isOpen {
                slots.append(.output(index))
                pollFDs.append(pollfd(fd: pipes[index].fd, events: Int16(POLLIN), revents: 0))
            }
            slots.append(.wakeUp)
            pollFDs.append(pollfd(fd: control.wakeReadFD, events: Int16(POLLIN), revents: 0))
            var deadlines: [ContinuousClock.Instant] = []
            if outcome == nil {
                if pidFD >= 0 {
                    slots.append(.childExit)
                    pollFDs.append(pollfd(fd: pidFD, events: Int16(POLLIN), revents: 0))
                } else {
                    deadlines.append(.now.advanced(by: Self.exitPollInterval))
                }
                if let killDeadline = control.killDeadline { deadlines.append(killDeadline) }
            }
            if let drainDeadline { deadlines.append(drainDeadline) }

            // On EINTR (or ENOMEM) nothing is marked ready and the checks below run as usual.
            _ = poll(&pollFDs, nfds_t(pollFDs.count), PollTimeout.milliseconds(until: deadlines.min()))

            for (slot, entry) in zip(slots, pollFDs) where entry.revents != 0 {
                switch slot {
                case .output(let index): readOnce(&pipes[index], into: &buffer)
                case .wakeUp: control.drainWakeUps()
                case .childExit: break
                }
            }

            guard outcome == nil else { continue }
            switch drover_child_has_exited(pid) {
            case 0:
                if let killDeadline = control.killDeadline, ContinuousClock.now >= killDeadline {
                    control.killAfterGrace()
                }
            case 1:
                outcome = control.killGroupAndReap()
                drainDeadline = .now.advanced(by: Self.drainLimit)
            default:
                // ECHILD: someone else reaped it (SIGCHLD ignored, or waitpid(-1) elsewhere).
                outcome = control.reapedElsewhere()
                drainDeadline = .now.advanced(by: Self.drainLimit)
            }
        }

        for index in pipes.indices where pipes[index].isOpen {
            finish(&pipes[index])
        }
        onEvent(.exited(outcome ?? .exited(code: -1)))
    }

    /// Reads what one pipe has (one `read`), delivering finished lines; at end of file
    /// delivers the unfinished last line and closes the pipe.
    private func readOnce(_ pipe: inout OutputPipe, into buffer: inout [UInt8]) {
        let count = buffer.withUnsafeMutableBytes { read(pipe.fd, $0.baseAddress, $0.count) }
        if count > 0 {
            let timestamp = Date()
            for text in pipe.splitter.append(buffer[..<count]) {
                onEvent(.output(OutputLine(stream: pipe.stream, text: text, timestamp: timestamp)))
            }
        } else if count == 0 || (errno != EINTR && errno != EAGAIN) {
            finish(&pipe)
        }
    }

    /// Delivers the pipe's unfinished last line, if any, and closes it.
    private func finish(_ pipe: inout OutputPipe) {
        if let rest = pipe.splitter.finish() {
            onEvent(.output(OutputLine(stream: pipe.stream, text: rest, timestamp: Date())))
        }
        close(pipe.fd)
        pipe.isOpen = false
    }

}
