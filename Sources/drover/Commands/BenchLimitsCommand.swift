import ArgumentParser
import DroverBench
import DroverCore
import Foundation

#if canImport(Glibc)
import Glibc
#endif

/// `drover bench limits`: simulated clients taking and giving back slots of a limit service,
/// with the throughput and grant latency they saw.
struct BenchLimitsCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "limits",
        abstract: "Load-test a limit service with simulated clients and measure acquires and grants.",
        discussion: """
            Starts a standalone limit service of its own on a temporary home (or uses --limit-service), \
            creates --limits limits of --slots slots each, and connects --clients simulated clients, \
            spread over the limits. Each client Acquires one slot (waiting in line when the limit is \
            full), holds it for --hold seconds, Releases it and Acquires again, until --cycles cycles \
            are done. It prints the acquires per second, the grant latency (Acquire sent to Granted \
            read, waiting in line included), the release round trip and, for its own service, the \
            service's CPU time and peak memory. It fails if a limit ever had more holders than slots. \
            It stops by itself, after --timeout at the latest.
            """
    )

    @Option(help: "Simulated clients, each with its own connection.") var clients = 10
    @Option(help: "Limits the clients are spread over.") var limits = 1
    @Option(help: "Slots of each limit.") var slots: UInt32 = 1
    @Option(help: "Acquire-and-release cycles, over all clients.") var cycles = 10_000
    @Option(help: "Seconds each client holds its slot before it releases it.") var hold: Double = 0
    @Option(help: "Seconds after which the bench gives up.") var timeout: Double = 300
    @Option(
        help: ArgumentHelp(
            "Bench this limit service instead of one started for the bench.", valueName: "endpoint"))
    var limitService: String?
    @Flag(help: "Start the bench's own limit service with --relaxed-durability (fsync at checkpoints only).")
    var relaxedDurability = false
    @OptionGroup var output: OutputOptions

    func validate() throws {
        guard (1...1000).contains(clients) else {
            throw ValidationError("--clients must be from 1 to 1000 in one process; got \(clients).")
        }
        guard (1...clients).contains(limits) else {
            throw ValidationError("--limits must be from 1 to --clients (\(clients)); got \(limits).")
        }
        guard slots >= 1 else { throw ValidationError("--slots must be at least 1.") }
        guard (1...10_000_000).contains(cycles) else {
            throw ValidationError("--cycles must be from 1 to 10000000; got \(cycles).")
        }
        guard hold >= 0, hold <= 3600 else { throw ValidationError("--hold must be from 0 to 3600 seconds; got \(hold).") }
        guard timeout > 0, timeout <= 86_400 else { throw ValidationError("--timeout must be from 0 to 86400 seconds.") }
        if relaxedDurability && limitService != nil {
            throw ValidationError("--relaxed-durability applies to the bench's own limit service; start yours with it instead.")
        }
    }

    func run() throws {
        let plan = LimitBenchPlan(
            clients: clients, limits: limits, slots: slots, cycles: cycles, hold: .milliseconds(Int64(hold * 1000)),
            timeout: .milliseconds(Int64(timeout * 1000)))
        let own =
            limitService == nil
            ? try BenchServer.start(
                ["limit-service", "start", "--port", "0"] + (relaxedDurability ? ["--relaxed-durability"] : [])) : nil
        defer { own?.stop() }
        let endpoint = limitService ?? own!.endpoint
        let showProgress = !output.json && isatty(STDERR_FILENO) == 1
        var report = try LimitBench.run(plan, endpoint: endpoint) { done in
            if showProgress { Terminal.error("\r\(done)/\(plan.cycles) cycles", newline: false) }
        }
        if showProgress { Terminal.error("") }
        if let own { report.server = ServerUsage.read(pid: own.pid) }
        if output.json {
            try Terminal.printJSON(report)
        } else {
            Terminal.print(Self.describe(report))
        }
        guard !report.overGranted else {
            throw DroverError(
                .internal,
                "The limit service over-granted: clients held \(report.mostHeld) leases of one limit at once, "
                    + "which has \(report.slots) slot\(report.slots == 1 ? "" : "s").")
        }
        guard report.completed == report.cycles else {
            throw DroverError(
                .unavailable, "Only \(report.completed) of \(report.cycles) cycles were done within \(seconds(timeout)) s.")
        }
    }

    static func describe(_ report: LimitBenchReport) -> String {
        func row(_ name: String, _ summary: LatencySummary) -> String {
            let cells = [summary.p50, summary.p90, summary.p99, summary.p999, summary.max].map { BenchDispatchCommand.duration($0) }
            return name.padding(toLength: 22, withPad: " ", startingAt: 0)
                + cells.map { $0.padding(toLength: 11, withPad: " ", startingAt: 0) }.joined()
        }
        let limits = report.limits == 1 ? "1 limit" : "\(report.limits) limits"
        var lines = [
            "\(report.completed) of \(report.cycles) acquire-release cycles done by \(report.clients) simulated "
                + "client\(report.clients == 1 ? "" : "s") over \(limits) of \(report.slots) slot\(report.slots == 1 ? "" : "s") "
                + "(held \(seconds(report.holdSeconds)) s each)",
            String(
                format: "throughput: %.0f acquires/s and %.0f releases/s over %.2f s",
                report.acquiresPerSecond, report.releasesPerSecond, report.elapsedSeconds),
            "queued first: \(report.queued) of \(report.grantLatency.count) grants; "
                + "most holders of one limit at once: \(report.mostHeld) of \(report.slots)"
                + (report.overGranted ? " (OVER-GRANTED)" : ""),
            "",
            "".padding(toLength: 22, withPad: " ", startingAt: 0)
                + ["p50", "p90", "p99", "p99.9", "max"].map { $0.padding(toLength: 11, withPad: " ", startingAt: 0) }.joined(),
            row("grant latency", report.grantLatency),
            row("release round trip", report.releaseLatency),
        ]
        if let server = report.server {
            lines.append("")
            lines.append(
                String(
                    format: "limit service: %.2f s of CPU, peak %.1f MiB resident", server.cpuSeconds,
                    Double(server.peakResidentBytes) / 1_048_576))
        }
        return lines.joined(separator: "\n")
    }
}
