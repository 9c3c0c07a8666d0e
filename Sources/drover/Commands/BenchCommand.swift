import ArgumentParser
import DroverBench
import DroverClient
import DroverCore
import Foundation

#if canImport(Glibc)
import Glibc
#endif

/// `drover bench`: simulated workers against a server, with the latencies and throughput they saw.
struct BenchCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "bench",
        abstract: "Load-test a Drover server with simulated workers and measure dispatch.",
        discussion: """
            Starts a server of its own on a temporary home (or uses --server), connects --workers \
            simulated workers with --limit runs each, creates --runs runs of a deployment of its own \
            (as fast as the server answers, or at --rate runs/s), and waits until the workers have \
            finished them all. Simulated workers run nothing: they report each run started at once \
            and finished after --run-duration. It prints the dispatch latency (run created to its \
            worker reading it), the end-to-end time, the throughput and, for its own server, the \
            server's CPU time and peak memory. It stops by itself, after --timeout at the latest.
            """
    )

    @Option(help: "Simulated workers, each with its own connection.") var workers = 1
    @Option(help: "Runs each worker takes at once.") var limit: UInt32 = 4
    @Option(help: "Runs to create.") var runs = 1000
    @Option(help: "Runs created per second (default: as fast as the server answers).") var rate: Double?
    @Option(help: "Seconds each simulated run lasts.") var runDuration: Double = 0
    @Option(help: "Seconds after which the bench gives up.") var timeout: Double = 300
    @Option(
        help: ArgumentHelp(
            "Bench this server instead of one started for the bench.", valueName: "endpoint"))
    var server: String?
    @Flag(help: "Start the bench's own server with --relaxed-durability (fsync at checkpoints only).")
    var relaxedDurability = false
    @OptionGroup var output: OutputOptions

    func validate() throws {
        guard (1...1000).contains(workers) else {
            throw ValidationError("--workers must be from 1 to 1000 in one process; got \(workers).")
        }
        guard limit >= 1 else { throw ValidationError("--limit must be at least 1.") }
        guard (1...10_000_000).contains(runs) else { throw ValidationError("--runs must be from 1 to 10000000; got \(runs).") }
        if let rate { guard rate > 0, rate.isFinite else { throw ValidationError("--rate must be above 0; got \(rate).") } }
        guard runDuration >= 0, runDuration <= 3600 else {
            throw ValidationError("--run-duration must be from 0 to 3600 seconds; got \(runDuration).")
        }
        guard timeout > 0, timeout <= 86_400 else { throw ValidationError("--timeout must be from 0 to 86400 seconds.") }
        if relaxedDurability && server != nil {
            throw ValidationError("--relaxed-durability applies to the bench's own server; start yours with it instead.")
        }
    }

    func run() throws {
        let plan = BenchPlan(
            workers: workers, limit: limit, runs: runs, rate: rate, runDuration: .milliseconds(Int64(runDuration * 1000)),
            timeout: .milliseconds(Int64(timeout * 1000)))
        let own = server == nil ? try BenchServer.start(relaxedDurability: relaxedDurability) : nil
        defer { own?.stop() }
        let endpoint = server ?? own!.endpoint
        let showProgress = !output.json && isatty(STDERR_FILENO) == 1
        var report = try Bench.run(plan, control: endpoint) { created in
            if showProgress { Terminal.error("\rcreated \(created)/\(plan.runs) runs", newline: false) }
        }
        if showProgress { Terminal.error("") }
        if let own { report.server = ServerUsage.read(pid: own.pid) }
        if output.json {
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.sortedKeys]
            Terminal.print(String(decoding: try encoder.encode(report), as: UTF8.self))
        } else {
            Terminal.print(Self.describe(report))
        }
        guard report.finished == report.runs else {
            throw DroverError(
                .unavailable, "Only \(report.finished) of \(report.runs) runs finished within \(seconds(timeout)) s.")
        }
    }

    static func describe(_ report: BenchReport) -> String {
        func row(_ name: String, _ summary: LatencySummary) -> String {
            let cells = [summary.p50, summary.p90, summary.p99, summary.p999, summary.max].map { Self.duration($0) }
            return name.padding(toLength: 22, withPad: " ", startingAt: 0)
                + cells.map { $0.padding(toLength: 11, withPad: " ", startingAt: 0) }.joined()
        }
        var lines = [
            "\(report.finished) of \(report.runs) runs finished by \(report.workers) simulated worker\(report.workers == 1 ? "" : "s") "
                + "(limit \(report.limit) each, runs of \(seconds(report.runDurationSeconds)) s)",
            String(format: "throughput: %.0f runs/s over %.2f s (creating them took %.2f s)",
                   report.throughput, report.elapsedSeconds, report.createSeconds),
            "",
            "".padding(toLength: 22, withPad: " ", startingAt: 0)
                + ["p50", "p90", "p99", "p99.9", "max"].map { $0.padding(toLength: 11, withPad: " ", startingAt: 0) }.joined(),
            row("dispatch latency", report.dispatchLatency),
            row("created → finished", report.endToEnd),
        ]
        if let server = report.server {
            lines.append("")
            lines.append(String(format: "server: %.2f s of CPU, peak %.1f MiB resident", server.cpuSeconds,
                                Double(server.peakResidentBytes) / 1_048_576))
        }
        return lines.joined(separator: "\n")
    }

    /// Microseconds as people read them: "85 µs", "1.25 ms", "2.50 s".
    static func duration(_ microseconds: UInt64) -> String {
        switch microseconds {
        case ..<1000: return "\(microseconds) µs"
        case ..<1_000_000: return String(format: "%.2f ms", Double(microseconds) / 1000)
        default: return String(format: "%.2f s", Double(microseconds) / 1_000_000)
        }
    }
}

/// A server the bench starts for itself: `drover server start` on a temporary home and
/// free ports, stopped (SIGINT, then SIGKILL) and its home removed at the end.
private final class BenchServer {
    let endpoint: String
    let pid: Int32
    private let process: Process
    private let home: URL
    /// Signalled when the server process ends.
    private let exited: DispatchSemaphore

    private init(endpoint: String, process: Process, home: URL, exited: DispatchSemaphore) {
        self.exited = exited
        self.endpoint = endpoint
        self.pid = process.processIdentifier
        self.process = process
        self.home = home
    }

    static func start(relaxedDurability: Bool) throws -> BenchServer {
        let home = FileManager.default.temporaryDirectory.appendingPathComponent("drover-bench-\(UUID().uuidString)")
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/proc/self/exe").resolvingSymlinksInPath()
        process.arguments = [
            "server", "start", "--home", home.path, "--control-port", "0", "--dispatch-port", "0", "--limits-port", "0",
            "--log-level", "warning",
        ] + (relaxedDurability ? ["--relaxed-durability"] : [])
        let output = Pipe()
        try FileManager.default.createDirectory(at: home, withIntermediateDirectories: true)
        let log = home.appendingPathComponent("server.log")
        _ = FileManager.default.createFile(atPath: log.path, contents: nil)
        process.standardOutput = output
        process.standardError = try FileHandle(forWritingTo: log)
        process.standardInput = FileHandle.nullDevice
        let exited = DispatchSemaphore(value: 0)
        process.terminationHandler = { _ in exited.signal() }
        try process.run()
        // The server prints one line when it serves: "Drover server listening on tcp://…".
        var text = ""
        let deadline = Date(timeIntervalSinceNow: 30)
        while !text.contains("\n"), Date() < deadline, process.isRunning {
            let chunk = output.fileHandleForReading.availableData
            if chunk.isEmpty { break }
            text += String(decoding: chunk, as: UTF8.self)
        }
        guard let start = text.range(of: "listening on ")?.upperBound else {
            process.interrupt()
            let logged = (try? String(contentsOf: log, encoding: .utf8)) ?? ""
            throw DroverError(.unavailable, "The bench's own server did not start:\n\(text)\(logged)")
        }
        let endpoint = String(text[start...].prefix { !$0.isWhitespace })
        return BenchServer(endpoint: endpoint, process: process, home: home, exited: exited)
    }

    func stop() {
        if process.isRunning {
            process.interrupt()
            if exited.wait(timeout: .now() + 10) == .timedOut { kill(pid, SIGKILL) }
            process.waitUntilExit()
        }
        try? FileManager.default.removeItem(at: home)
    }
}

/// Seconds as people write them: "2", "0.5".
private func seconds(_ value: Double) -> String {
    value == value.rounded() ? String(Int(value)) : String(value)
}
