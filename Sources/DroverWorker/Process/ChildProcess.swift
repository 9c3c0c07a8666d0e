import DroverCore
import Foundation

/// A flow run running as a local process, supervised by a thread of its own.
///
/// Guarantees:
/// - The child runs `/bin/sh -c command` with exactly the spec's environment, stdin from
///   `/dev/null`, in a new process group whose id is its pid, with every signal at its
///   default disposition and none blocked, and with SIGKILL as its parent-death signal.
/// - One dedicated thread (never Swift's cooperative pool) forks the child, reads its
///   stdout and stderr, and reaps it. `onEvent` is called on that thread, one call at a
///   time: `.output` for each line in the order it was written to its stream (the order
///   across the two streams is the order the thread read them), then `.exited` exactly
///   once, last. A slow `onEvent` slows the reading and so, once a pipe is full, the child.
/// - When the direct child has exited, the rest of its process group is sent SIGKILL before
///   the child is reaped: a run's processes end with the run, whether it finished or was
///   terminated. Output still in the pipes is then read to its end (for at most two seconds,
///   in case a process that left the group holds a pipe open) before `.exited` is sent.
/// - Signals are only ever sent while the direct child is unreaped, so they cannot reach a
///   process that reused its pid or group id.
///
/// Limitations: the parent-death signal covers the direct child only; grandchildren that
/// outlive a killed worker are not stopped (a finished or terminated run's are). The worker
/// must not ignore SIGCHLD or reap children it did not start, or the outcome is lost
/// (reported as `.exited(code: -1)`).
public final class ChildProcess: Sendable {
    /// The longest `OutputLine`, in bytes of the child's output: longer lines arrive in pieces.
    public static let maximumLineBytes = 16 * 1024

    /// The pid of the direct child (the shell), which is also its process group id.
    public let pid: Int32

    private let control: ProcessControl

    private init(pid: Int32, control: ProcessControl) {
        self.pid = pid
        self.control = control
    }

    /// Starts `spec` and returns once the child has exec'd the shell; `onEvent` then
    /// receives its output and, last and exactly once, how it ended.
    ///
    /// Blocks the calling thread for the fork and exec only (milliseconds).
    ///
    /// - Throws: `DroverError(.invalidArgument)` for a command, environment or directory that
    ///   contains NUL or an environment name that is empty or contains `=`;
    ///   `DroverError(.failedPrecondition)` when no process could be started: the working
    ///   directory is missing or not accessible, fork failed, descriptors ran out. The message
    ///   names the directory or step and the errno. A command the shell cannot find is not an
    ///   error: it is `.exited(code: 127)`. When `start` throws, no process runs and `onEvent`
    ///   is never called.
    public static func start(
        _ spec: ProcessSpec, onEvent: @escaping @Sendable (ProcessEvent) -> Void
    ) throws(DroverError) -> ChildProcess {
        try validate(spec)
        let control = try ProcessControl()
        let handshake = SpawnHandshake()
        let supervisor = ProcessSupervisor(control: control, onEvent: onEvent)
        let thread = Thread { supervisor.run(spec, handshake: handshake) }
        thread.name = "drover-process"
        thread.start()
        let pid = try handshake.wait()
        return ChildProcess(pid: pid, control: control)
    }

    /// Sends `signal` to every process in the child's process group, at once and without
    /// waiting. Does nothing once the child has been reaped.
    public func signalGroup(_ signal: Int32) {
        control.signalGroup(signal)
    }

    /// Stops the run: SIGTERM to the process group now, and SIGKILL to the group if the
    /// direct child has not exited `grace` later. Returns at once; the supervising thread
    /// keeps the deadline. Calling it again keeps the earlier deadline. Does nothing once the
    /// child has been reaped. `.exited` follows as usual.
    public func terminate(grace: Duration) {
        control.terminate(grace: grace)
    }

    /// Rejects what cannot be passed to `execve`: strings with NUL, bad variable names.
    private static func validate(_ spec: ProcessSpec) throws(DroverError) {
        if spec.command.utf8.contains(0) {
            throw .invalidArgument("the command contains a NUL character")
        }
        if let directory = spec.workingDirectory, directory.utf8.contains(0) {
            throw .invalidArgument("the working directory contains a NUL character")
        }
        for (name, value) in spec.environment {
            if name.isEmpty || name.utf8.contains(UInt8(ascii: "=")) || name.utf8.contains(0) {
                throw .invalidArgument("environment variable name '\(name)' is empty or contains '=' or NUL")
            }
            if value.utf8.contains(0) {
                throw .invalidArgument("the value of environment variable '\(name)' contains a NUL character")
            }
        }
    }
}
