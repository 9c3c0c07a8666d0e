import ArgumentParser
import DroverBench
import DroverCore
import Foundation

#if canImport(Glibc)
import Glibc
#endif

/// `drover bench chaos`: a soak with faults and an invariant checker.
struct BenchChaosCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "chaos",
        abstract: "Soak a real server and real workers under injected faults, and check that nothing was lost or run twice.",
        discussion: """
            Starts a server of its own on a temporary home, four workers over two pools (pool limits \
            3 and 1, worker limits 2 and 1), a tag limit of 1 and a server-wide --all-runs limit of 3, \
            and creates --rate runs per second of six deployments (short, long, failing and retried, \
            tagged; some long ones are cancelled). Each run's process writes when it started and \
            ended. Meanwhile, on a schedule drawn from --seed, it SIGKILLs the server and restarts it \
            on the same home and ports (--server-kills), SIGKILLs workers and starts new ones \
            (--worker-kills), freezes a worker and its runs with SIGSTOP for 1 to 4 s (--worker-stops) \
            and, with --limit-service standalone, SIGKILLs the limit service. After --duration it \
            waits for every run to finish and checks: no run lost (every run is finished), no attempt \
            started twice, no pool, worker, tag or server-wide limit exceeded by what really ran, no \
            slot left taken. It prints the counts and every violation, and exits 1 on any.
            """
    )

    @Option(help: "The seed of the fault schedule and the load.") var seed: UInt64 = 1
    @Option(help: "Seconds of load and faults.") var duration: Double = 60
    @Option(help: "How many times the server is SIGKILLed and restarted.") var serverKills = 20
    @Option(help: "How many workers are SIGKILLed (each replaced by a new one).") var workerKills = 6
    @Option(help: "How many times a worker and its runs are frozen with SIGSTOP for 1 to 4 s.") var workerStops = 6
    @Option(help: "Runs created per second.") var rate: Double = 4
    @Option(
        help: ArgumentHelp(
            "embedded (the server's own) or standalone (a limit service of its own, SIGKILLed too).", valueName: "kind"))
    var limitService = "embedded"
    @Option(help: "How many times a standalone limit service is SIGKILLed and restarted.") var limitServiceKills = 3
    @Flag(help: "Every daemon --secure; the soak, its workers and the server present keys of their roles.")
    var secure = false
    @OptionGroup var output: OutputOptions

    func validate() throws {
        guard duration >= 5, duration <= 86_400 else { throw ValidationError("--duration must be from 5 to 86400 seconds.") }
        for (name, value) in [
            ("--server-kills", serverKills), ("--worker-kills", workerKills), ("--worker-stops", workerStops),
            ("--limit-service-kills", limitServiceKills),
        ] {
            guard (0...10_000).contains(value) else { throw ValidationError("\(name) must be from 0 to 10000; got \(value).") }
        }
        guard rate > 0, rate <= 100 else { throw ValidationError("--rate must be above 0 and at most 100 runs/s.") }
        guard ["embedded", "standalone"].contains(limitService) else {
            throw ValidationError("--limit-service must be embedded or standalone; got '\(limitService)'.")
        }
    }

    func run() throws {
        var configuration = ChaosSoak.Configuration(
            executable: URL(fileURLWithPath: "/proc/self/exe").resolvingSymlinksInPath())
        configuration.seed = seed
        configuration.duration = duration
        configuration.serverKills = serverKills
        configuration.workerKills = workerKills
        configuration.workerStops = workerStops
        configuration.runRate = rate
        configuration.standaloneLimitService = limitService == "standalone"
        configuration.limitServiceKills = limitServiceKills
        configuration.secure = secure
        if !output.json && isatty(STDERR_FILENO) == 1 {
            configuration.progress = { fraction, status in
                let width = 30
                let filled = Int(min(1, max(0, fraction)) * Double(width))
                let bar = String(repeating: "#", count: filled) + String(repeating: ".", count: width - filled)
                Terminal.error("\r[\(bar)] \(Int(fraction * 100))% \(status)\u{1B}[K", newline: false)
            }
        }
        let report = try ChaosSoak(configuration: configuration).run()
        if configuration.progress != nil { Terminal.error("") }
        if output.json {
            try Terminal.printJSON(report)
        } else {
            Terminal.print(Self.describe(report))
        }
        guard report.passed else {
            throw DroverError(
                .internal,
                "The soak found \(report.lost) lost, \(report.duplicated) duplicated, \(report.limitViolations) limit "
                    + "violations and \(report.leasesLeft) slots left taken (seed \(report.seed)).")
        }
    }

    static func describe(_ report: ChaosSoak.Report) -> String {
        var lines = [
            "chaos soak, seed \(report.seed)\(report.secure ? " (--secure: CURVE and keys everywhere)" : ""): "
                + String(format: "%d runs in %.0f s; %d attempts ran", report.runs, report.durationSeconds, report.attemptsRun),
            "faults: \(report.serverKills) server kills, \(report.workerKills) worker kills, \(report.workerStops) worker stops"
                + (report.limitServiceKills > 0 ? ", \(report.limitServiceKills) limit service kills" : ""),
            "runs: \(report.completed) completed, \(report.failed) failed, \(report.crashed) crashed, \(report.cancelled) "
                + "cancelled; \(report.retriedCrashes) crashes retried; \(report.createFailures) creations refused while the server was down",
            String(
                format: "recovery after a restart (every worker back): p50 %.0f ms, max %.0f ms; at most %d Hellos per restart",
                report.recoveryP50Ms, report.recoveryMaxMs, report.maxHellosPerRestart),
            String(format: "server peak memory: %.1f MiB", report.peakServerRSSMiB),
            "invariants: \(report.lost) lost, \(report.duplicated) duplicated, \(report.limitViolations) limit violations, "
                + "\(report.leasesLeft) slots left taken",
        ]
        lines += report.violations.map { "VIOLATION: \($0)" }
        if let kept = report.keptHome { lines.append("the logs and the journal are kept in \(kept)") }
        lines.append(report.passed ? "PASSED" : "FAILED")
        return lines.joined(separator: "\n")
    }
}
