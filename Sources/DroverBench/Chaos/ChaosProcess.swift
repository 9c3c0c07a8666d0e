import DroverCore
import Foundation

#if canImport(Glibc)
import Glibc
#endif

/// A process the chaos soak starts, signals and reaps: a server, a limit service or a
/// worker, with its output in a log file.
final class ChaosProcess {
    let pid: Int32
    /// The line the process printed when it was ready (empty when not awaited).
    let readyLine: String
    private let process: Process

    private init(process: Process, readyLine: String) {
        self.process = process
        self.pid = process.processIdentifier
        self.readyLine = readyLine
    }

    /// Starts `executable` with `arguments`, its output going to `log`; with `awaiting`,
    /// returns once a line containing it was printed (30 s at most).
    static func launch(
        _ executable: URL, _ arguments: [String], environment: [String: String], log: URL, awaiting marker: String?
    ) throws(DroverError) -> ChaosProcess {
        let process = Process()
        process.executableURL = executable
        process.arguments = arguments
        // Nothing of the caller's own Drover settings: the soak says what each process serves.
        var inherited = ProcessInfo.processInfo.environment.filter { !$0.key.hasPrefix("DROVER_") }
        inherited.merge(environment) { _, new in new }
        process.environment = inherited
        _ = FileManager.default.createFile(atPath: log.path, contents: nil)
        do {
            let handle = try FileHandle(forWritingTo: log)
            process.standardOutput = handle
            process.standardError = handle
            process.standardInput = FileHandle.nullDevice
            try process.run()
        } catch {
            throw DroverError(.internal, "The soak could not start \(arguments.prefix(2).joined(separator: " ")): \(error)")
        }
        let started = ChaosProcess(process: process, readyLine: "")
        guard let marker else { return started }
        let deadline = Date().addingTimeInterval(30)
        while Date() < deadline && process.isRunning {
            let text = (try? String(contentsOf: log, encoding: .utf8)) ?? ""
            if let line = text.split(separator: "\n").first(where: { $0.contains(marker) }) {
                return ChaosProcess(process: process, readyLine: String(line))
            }
            usleep(10_000)
        }
        started.signal(SIGKILL)
        started.reap()
        let text = (try? String(contentsOf: log, encoding: .utf8)) ?? ""
        throw DroverError(.unavailable, "\(arguments.prefix(2).joined(separator: " ")) did not start:\n\(text.suffix(2000))")
    }

    func signal(_ signal: Int32) {
        if process.isRunning { kill(pid, signal) }
    }

    /// Signals the process and every process group its children lead (a worker's runs).
    func signalWithChildren(_ signal: Int32) {
        let listed = (try? String(contentsOfFile: "/proc/\(pid)/task/\(pid)/children", encoding: .utf8)) ?? ""
        for child in listed.split(separator: " ").compactMap({ Int32($0) }) { kill(-child, signal) }
        self.signal(signal)
    }

    /// Waits for the process to end; after `graceSeconds`, kills it.
    func reap(graceSeconds: Double = 10) {
        let deadline = Date().addingTimeInterval(graceSeconds)
        while process.isRunning && Date() < deadline { usleep(10_000) }
        if process.isRunning { kill(pid, SIGKILL) }
        process.waitUntilExit()
    }

    /// The process's peak resident memory so far, in MiB (0 once it ended).
    var peakRSSMiB: Double {
        let status = (try? String(contentsOfFile: "/proc/\(pid)/status", encoding: .utf8)) ?? ""
        guard let line = status.split(separator: "\n").first(where: { $0.hasPrefix("VmHWM:") }),
            let kilobytes = Double(line.split(separator: " ").dropFirst().first ?? "")
        else { return 0 }
        return kilobytes / 1024
    }
}
