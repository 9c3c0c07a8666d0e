import ArgumentParser
import DroverBench
import DroverClient
import DroverCore
import DroverLimits
import Foundation

#if canImport(Glibc)
import Glibc
#endif

/// `drover bench`: load tests, each one command.
struct BenchCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "bench",
        abstract: "Load-test Drover and measure it.",
        discussion: "`drover bench` alone runs `drover bench dispatch`. See docs/benchmarks.md for the scenarios.",
        subcommands: [BenchDispatchCommand.self, BenchLimitsCommand.self, BenchChaosCommand.self, BenchFleetCommand.self],
        defaultSubcommand: BenchDispatchCommand.self
    )
}

/// `drover bench dispatch`: simulated workers against a server, with the latencies and throughput they saw.
struct BenchDispatchCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "dispatch",
        abstract: "Load-test a Drover server with simulated workers and measure dispatch.",
        discussion: """
            Starts a server of its own on a temporary home (or uses --server), connects --workers \
            simulated workers with --limit runs each, creates --runs runs of a deployment of its own \
            (as fast as the server answers, or at --rate runs/s), and waits until the workers have \
            finished them all. Simulated workers run nothing: they report each run started at once \
            and finished after --run-duration. It prints the dispatch latency (run created to its \
            worker reading it), the end-to-end time, the throughput and, for its own server, the \
            server's CPU time and peak memory. With --idle, the workers first stay connected and \
            heartbeating that long, and the server's memory is read before the runs come. More than \
            \(Bench.workersPerProcess) workers are spread over child processes of \
            \(Bench.workersPerProcess) each. It stops by itself, after --timeout at the latest.
            """
    )

    @Option(help: "Simulated workers, each with its own connection (up to 20000).") var workers = 1
    @Option(help: "Runs each worker takes at once.") var limit: UInt32 = 4
    @Option(help: "Runs to create.") var runs = 1000
    @Option(help: "Runs created per second (default: as fast as the server answers).") var rate: Double?
    @Option(help: "Seconds each simulated run lasts.") var runDuration: Double = 0
    @Option(help: "Seconds after which the bench gives up.") var timeout: Double = 300
    @Option(help: "Seconds the workers stay connected and idle before the runs come.") var idle: Double = 0
    @Option(
        help: ArgumentHelp(
            "Start each run as a real process of this command, and first measure how fast the machine starts it.",
            valueName: "command"))
    var process: String?
    @Option(
        help: ArgumentHelp(
            "Bench this server instead of one started for the bench.", valueName: "endpoint"))
    var server: String?
    @Flag(help: "Start the bench's own server with --secure: CURVE on every endpoint, the bench and its workers with an admin key.")
    var secure = false
    @Flag(help: "Start the bench's own server with --relaxed-durability (fsync at checkpoints only).")
    var relaxedDurability = false
    @OptionGroup var output: OutputOptions

    func validate() throws {
        guard (1...20_000).contains(workers) else {
            throw ValidationError("--workers must be from 1 to 20000; got \(workers).")
        }
        guard idle >= 0, idle <= 3600 else { throw ValidationError("--idle must be from 0 to 3600 seconds; got \(idle).") }
        guard limit >= 1 else { throw ValidationError("--limit must be at least 1.") }
        guard (1...10_000_000).contains(runs) else { throw ValidationError("--runs must be from 1 to 10000000; got \(runs).") }
        if let rate { guard rate > 0, rate.isFinite else { throw ValidationError("--rate must be above 0; got \(rate).") } }
        guard runDuration >= 0, runDuration <= 3600 else {
            throw ValidationError("--run-duration must be from 0 to 3600 seconds; got \(runDuration).")
        }
        guard timeout > 0, timeout <= 86_400 else { throw ValidationError("--timeout must be from 0 to 86400 seconds.") }
        if let process, process.trimmingCharacters(in: .whitespaces).isEmpty {
            throw ValidationError("--process needs a command, such as --process true.")
        }
        if secure && server != nil {
            throw ValidationError("--secure applies to the bench's own server; a secure server of yours needs its admin key (DROVER_KEY).")
        }
        if relaxedDurability && server != nil {
            throw ValidationError("--relaxed-durability applies to the bench's own server; start yours with it instead.")
        }
    }

    func run() throws {
        var keyPath: String?
        let own =
            server == nil
            ? try BenchServer.start(
                ["server", "start", "--control-port", "0", "--dispatch-port", "0", "--limits-port", "0"]
                    + (relaxedDurability ? ["--relaxed-durability"] : []) + (secure ? ["--secure"] : []),
                prepare: { home throws(DroverError) in
                    guard secure else { return }
                    let path = home.appendingPathComponent("bench.key").path
                    try KeyStore(home: home).issue(name: "bench", role: .admin, pools: [], server: "").write(to: path)
                    keyPath = path
                }) : nil
        defer { own?.stop() }
        let plan = BenchPlan(
            workers: workers, limit: limit, runs: runs, rate: rate, runDuration: .milliseconds(Int64(runDuration * 1000)),
            timeout: .milliseconds(Int64(timeout * 1000)), idle: .milliseconds(Int64(idle * 1000)),
            fleetExecutable: URL(fileURLWithPath: "/proc/self/exe").resolvingSymlinksInPath(),
            process: process.map(Self.arguments(of:)), keyPath: keyPath)
        let endpoint = server ?? own!.endpoint
        let showProgress = !output.json && isatty(STDERR_FILENO) == 1
        var report = try Bench.run(plan, control: endpoint, serverPID: own?.pid) { progress in
            if showProgress { Terminal.error("\r" + Self.progressLine(progress, plan), newline: false) }
        }
        if showProgress { Terminal.error("") }
        if let own { report.server = ServerUsage.read(pid: own.pid) }
        if output.json {
            try Terminal.printJSON(report)
        } else {
            Terminal.print(Self.describe(report))
        }
        guard report.finished == report.runs else {
            throw DroverError(
                .unavailable, "Only \(report.finished) of \(report.runs) runs finished within \(seconds(timeout)) s.")
        }
    }

    /// How `--process` runs a command: split on spaces and started directly when it has no
    /// shell syntax, otherwise through `/bin/sh -c`.
    static func arguments(of command: String) -> [String] {
        let shellSyntax = CharacterSet(charactersIn: "|&;<>()$`\\\"'*?[]#~=%{}!\n")
        let words = command.split(whereSeparator: { $0 == " " || $0 == "\t" }).map(String.init)
        if command.unicodeScalars.contains(where: shellSyntax.contains) || words.isEmpty {
            return ["/bin/sh", "-c", command]
        }
        return words
    }

    /// One line of progress: workers welcomed, then runs created and finished, with a bar.
    static func progressLine(_ progress: Bench.Progress, _ plan: BenchPlan) -> String {
        guard progress.welcomed >= plan.workers else {
            return "connecting workers: \(progress.welcomed)/\(plan.workers) welcomed".padding(
                toLength: 70, withPad: " ", startingAt: 0)
        }
        let width = 30
        let done = plan.runs > 0 ? min(width, progress.finished * width / plan.runs) : width
        let created = plan.runs > 0 ? min(width, progress.created * width / plan.runs) : width
        let bar =
            String(repeating: "#", count: done) + String(repeating: "-", count: max(0, created - done))
            + String(repeating: " ", count: width - max(done, created))
        return "[\(bar)] created \(progress.created)/\(plan.runs), finished \(progress.finished)"
    }

    static func describe(_ report: BenchReport) -> String {
        func row(_ name: String, _ summary: LatencySummary) -> String {
            let cells = [summary.p50, summary.p90, summary.p99, summary.p999, summary.max].map { Self.duration($0) }
            return name.padding(toLength: 22, withPad: " ", startingAt: 0)
                + cells.map { $0.padding(toLength: 11, withPad: " ", startingAt: 0) }.joined()
        }
        var lines = [
            "\(report.finished) of \(report.runs) runs finished by \(report.workers) simulated worker\(report.workers == 1 ? "" : "s") "
                + "(limit \(report.limit) each, "
                + (report.process == nil ? "runs of \(seconds(report.runDurationSeconds)) s)" : "each run a process)"),
            String(
                format: "throughput: %.0f runs/s over %.2f s (creating them took %.2f s)",
                report.throughput, report.elapsedSeconds, report.createSeconds),
            "",
            "".padding(toLength: 22, withPad: " ", startingAt: 0)
                + ["p50", "p90", "p99", "p99.9", "max"].map { $0.padding(toLength: 11, withPad: " ", startingAt: 0) }.joined(),
            row("dispatch latency", report.dispatchLatency),
            row("created → started", report.start),
            row("created → finished", report.endToEnd),
        ]
        if let process = report.process, let raw = report.rawSpawn, report.rate != nil {
            lines.insert(
                String(
                    format: "runs started `%@` as processes, paced; the machine starts %.0f processes/s at %d at once",
                    process.joined(separator: " "), raw.perSecond, raw.concurrency), at: 2)
        } else if let process = report.process, let raw = report.rawSpawn {
            lines.insert(
                contentsOf: [
                    String(
                        format: "runs started `%@` as processes: %.0f runs/s against the machine's %.0f processes/s "
                            + "(%.0f %%) at %d at once", process.joined(separator: " "), report.throughput, raw.perSecond,
                        raw.perSecond > 0 ? 100 * report.throughput / raw.perSecond : 0, raw.concurrency)
                ], at: 2)
        }
        if let idle = report.serverIdle {
            lines.append("")
            lines.append(
                String(
                    format: "server after %.0f s idle with %d workers: %.2f s of CPU, peak %.1f MiB resident",
                    report.idleSeconds, report.workers, idle.cpuSeconds,
                    Double(idle.peakResidentBytes) / 1_048_576))
        }
        if let server = report.server {
            if report.serverIdle == nil { lines.append("") }
            lines.append(
                String(
                    format: "server: %.2f s of CPU, peak %.1f MiB resident", server.cpuSeconds,
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

/// Seconds as people write them: "2", "0.5".
func seconds(_ value: Double) -> String {
    value == value.rounded() ? String(Int(value)) : String(value)
}
