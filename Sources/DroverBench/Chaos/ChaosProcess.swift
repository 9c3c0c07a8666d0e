import CProcessSpawn
import DroverCore
import DroverSystem
import Foundation

#if canImport(Glibc)
import Glibc
#endif

/// A process the chaos soak starts, signals and reaps: a server, a limit service or a
/// worker, with its output in a log file. It is started with `drover_spawn`, so it dies with
/// the soak (a parent-death signal) even if the soak itself is killed.
final class ChaosProcess {
    let pid: Int32
    /// The line the process printed when it was ready (empty when not awaited).
    let readyLine: String
    private var reaped = false

    private init(pid: Int32, readyLine: String) {
        self.pid = pid
        self.readyLine = readyLine
    }

    /// Starts `executable` with `arguments`, its output going to `log`; with `awaiting`,
    /// returns once a line containing it was printed (30 s at most).
    static func launch(
        _ executable: URL, _ arguments: [String], environment: [String: String], log: URL, awaiting marker: String?
    ) throws(DroverError) -> ChaosProcess {
        // Nothing of the caller's own Drover settings: the soak says what each process serves.
        var inherited = ProcessInfo.processInfo.environment.filter { !$0.key.hasPrefix("DROVER_") }
        inherited.merge(environment) { _, new in new }
        let what = arguments.prefix(2).joined(separator: " ")
        let output = open(log.path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o644)
        guard output >= 0 else { throw DroverError(.internal, "The soak could not open \(log.path): errno \(errno).") }
        defer { close(output) }
        var pid: pid_t = 0
        var childErrno: Int32 = 0
        var step: Int32 = 0
        let started = CStringArray.with([executable.path] + arguments) { argv in
            CStringArray.with(inherited.map { "\($0.key)=\($0.value)" }) { envp in
                guard let argv, let envp else { return Int32(-1) }
                return drover_spawn(executable.path, argv, envp, nil, output, output, &pid, &childErrno, &step)
            }
        }
        guard started == 0 else {
            throw DroverError(.internal, "The soak could not start \(what): step \(step), errno \(childErrno).")
        }
        let process = ChaosProcess(pid: pid, readyLine: "")
        guard let marker else { return process }
        let deadline = Date().addingTimeInterval(30)
        while Date() < deadline && process.isRunning {
            let text = (try? String(contentsOf: log, encoding: .utf8)) ?? ""
            if let line = text.split(separator: "\n").first(where: { $0.contains(marker) }) {
                return ChaosProcess(pid: pid, readyLine: String(line))
            }
            usleep(10_000)
        }
        process.signal(SIGKILL)
        process.reap()
        let text = (try? String(contentsOf: log, encoding: .utf8)) ?? ""
        throw DroverError(.unavailable, "\(what) did not start:\n\(text.suffix(2000))")
    }

    /// Whether it has not exited yet.
    var isRunning: Bool { !reaped && drover_child_has_exited(pid) == 0 }

    func signal(_ signal: Int32) {
        if isRunning { kill(pid, signal) }
    }

    /// Signals the process and every process group its children lead (a worker's runs).
    func signalWithChildren(_ signal: Int32) {
        let listed = (try? String(contentsOfFile: "/proc/\(pid)/task/\(pid)/children", encoding: .utf8)) ?? ""
        for child in listed.split(separator: " ").compactMap({ Int32($0) }) { kill(-child, signal) }
        self.signal(signal)
    }

    /// Waits for the process to end; after `graceSeconds`, kills it.
    func reap(graceSeconds: Double = 10) {
        guard !reaped else { return }
        let deadline = Date().addingTimeInterval(graceSeconds)
        while isRunning && Date() < deadline { usleep(10_000) }
        if isRunning { kill(pid, SIGKILL) }
        var signaled: Int32 = 0
        var value: Int32 = 0
        _ = drover_reap(pid, &signaled, &value)
        reaped = true
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
