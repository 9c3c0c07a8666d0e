import Foundation

#if canImport(Glibc)
import Glibc
#endif

/// How a child process ended.
enum ProcessExit: Equatable, Sendable, CustomStringConvertible {
    /// It returned or called `exit` with this code.
    case exit(Int32)
    /// A signal ended it.
    case signal(Int32)
    /// It had not ended (not even after SIGKILL) when asked.
    case stillRunning

    var description: String {
        switch self {
        case .exit(let code): "exit \(code)"
        case .signal(let number): "signal \(number)"
        case .stillRunning: "still running"
        }
    }
}

/// A process the tests started: its output is drained on background threads (so a
/// chatty child never blocks on a full pipe), and its end can be awaited with a bound.
///
/// Blocking waits happen on dedicated threads, never on Swift's cooperative pool.
final class ChildProcess: @unchecked Sendable {
    let arguments: [String]
    private let process = Process()
    private let stdoutReader: PipeReader
    private let stderrReader: PipeReader
    private let exited = Latch()

    /// Starts `executable` with exactly `environment` (nothing is inherited).
    ///
    /// - Parameters:
    ///   - onStdoutLine: called on a reader thread for each complete line of stdout.
    ///   - onStdoutEnd: called on that thread when stdout reaches end of file.
    init(
        executable: URL, arguments: [String], environment: [String: String],
        onStdoutLine: (@Sendable (String) -> Void)? = nil, onStdoutEnd: (@Sendable () -> Void)? = nil
    ) throws {
        self.arguments = arguments
        process.executableURL = executable
        process.arguments = arguments
        process.environment = environment
        process.standardInput = FileHandle.nullDevice
        let out = Pipe()
        let err = Pipe()
        process.standardOutput = out
        process.standardError = err
        let exited = self.exited
        process.terminationHandler = { _ in exited.open() }
        try process.run()
        stdoutReader = PipeReader(out.fileHandleForReading, onLine: onStdoutLine, onEnd: onStdoutEnd)
        stderrReader = PipeReader(err.fileHandleForReading, onLine: nil, onEnd: nil)
    }

    var pid: Int32 { process.processIdentifier }

    var isRunning: Bool { !exited.isOpen }

    /// Everything the child wrote to stdout so far.
    var stdout: String { stdoutReader.text }

    /// Everything the child wrote to stderr so far.
    var stderr: String { stderrReader.text }

    /// Sends `signal` to the child if it is still running.
    func send(_ signal: Int32) {
        if isRunning { kill(pid, signal) }
    }

    /// Blocks until the child has exited, at most `seconds`; true if it did.
    func waitForExit(seconds: Double) -> Bool {
        exited.wait(seconds: seconds)
    }

    /// How the child ended; `.stillRunning` before it did.
    var exit: ProcessExit {
        guard !isRunning else { return .stillRunning }
        return process.terminationReason == .exit
            ? .exit(process.terminationStatus) : .signal(process.terminationStatus)
    }

    /// Waits for both output streams to reach end of file (bounded), so `stdout` and
    /// `stderr` are complete.
    func finishReading(seconds: Double = 5) {
        _ = stdoutReader.waitForEnd(seconds: seconds)
        _ = stderrReader.waitForEnd(seconds: seconds)
    }

    /// Kills the child with SIGKILL if it is still running and waits until it is gone.
    /// Safe to call any number of times; meant for `defer` and teardown.
    func killAndReap() {
        guard isRunning else { return }
        kill(pid, SIGKILL)
        _ = exited.wait(seconds: 10)
    }

    deinit {
        killAndReap()
    }
}
