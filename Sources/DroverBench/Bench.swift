import DroverClient
import DroverCore
import DroverProto
import DroverSystem
import Foundation
import SwiftProtobuf

/// What `drover bench` is asked to do.
public struct BenchPlan: Sendable {
    /// Simulated workers, each with its own connection.
    public var workers: Int
    /// Runs each worker takes at once.
    public var limit: UInt32
    /// Runs to create and see finished.
    public var runs: Int
    /// Runs created per second; nil creates them as fast as the server answers.
    public var rate: Double?
    /// How long each run "runs" on its simulated worker.
    public var runDuration: Duration
    /// The whole bench gives up after this long.
    public var timeout: Duration
    /// How long the workers stay connected and idle, heartbeating, before the runs come.
    public var idle: Duration
    /// The `drover` executable, to start fleet processes with when `workers` is more than
    /// `Bench.workersPerProcess`.
    public var fleetExecutable: URL?
    /// A command (argv) each run starts as a real process; nil runs nothing.
    public var process: [String]?
    /// The key file the bench presents to a `--secure` server, as a client and as every
    /// simulated worker (an admin key); nil: none.
    public var keyPath: String?

    public init(
        workers: Int = 1, limit: UInt32 = 4, runs: Int = 1000, rate: Double? = nil, runDuration: Duration = .zero,
        timeout: Duration = .seconds(300), idle: Duration = .zero, fleetExecutable: URL? = nil, process: [String]? = nil,
        keyPath: String? = nil
    ) {
        self.keyPath = keyPath
        self.process = process
        self.workers = workers
        self.limit = limit
        self.runs = runs
        self.rate = rate
        self.runDuration = runDuration
        self.timeout = timeout
        self.idle = idle
        self.fleetExecutable = fleetExecutable
    }
}

/// What `drover bench` measured.
public struct BenchReport: Sendable, Codable {
    public var workers: Int
    public var limit: UInt32
    public var runs: Int
    /// Runs the workers saw through to the end.
    public var finished: Int
    public var runDurationSeconds: Double
    /// From the first run created to the last reported finished.
    public var elapsedSeconds: Double
    /// Finished runs per second over `elapsedSeconds`.
    public var throughput: Double
    /// How long creating the runs took (requests pipelined, up to `Bench.creationWindow` in flight).
    public var createSeconds: Double
    /// Run created (the server's timestamp) → its worker has read the assignment.
    public var dispatchLatency: LatencySummary
    /// Run created → its worker reported it finished.
    public var endToEnd: LatencySummary
    /// Run created → started: its process spawned (`--process`), or its assignment read.
    public var start: LatencySummary
    /// The server's own cost, when the bench started it.
    public var server: ServerUsage?
    /// Seconds the workers were connected and idle before the runs came.
    public var idleSeconds: Double = 0
    /// The server's cost at the end of the idle time, before the first run.
    public var serverIdle: ServerUsage?
    /// The command each run started as a process, if any.
    public var process: [String]?
    /// Runs created per second, when paced.
    public var rate: Double?
    /// With `process`: how fast this machine starts and reaps that command with no Drover
    /// in between, at the fleet's concurrency, measured before the runs.
    public var rawSpawn: SpawnRateReport?
}

/// CPU time and peak memory of a server process, from /proc.
public struct ServerUsage: Sendable, Codable {
    public var cpuSeconds: Double
    public var peakResidentBytes: UInt64

    /// Reads them for `pid`; nil when /proc does not have it.
    public static func read(pid: Int32) -> ServerUsage? {
        guard let stat = try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8),
            let status = try? String(contentsOfFile: "/proc/\(pid)/status", encoding: .utf8),
            let afterName = stat.range(of: ") ")?.upperBound
        else { return nil }
        // Fields after the command name, from field 3 (state): utime is field 14, stime 15.
        let fields = stat[afterName...].split(separator: " ")
        guard fields.count > 13, let user = Double(fields[11]), let system = Double(fields[12]) else { return nil }
        let ticks = Double(sysconf(Int32(_SC_CLK_TCK)))
        let peak =
            status.split(separator: "\n").first { $0.hasPrefix("VmHWM:") }
            .flatMap { line in UInt64(line.split(separator: " ").dropFirst().first ?? "") } ?? 0
        return ServerUsage(cpuSeconds: (user + system) / ticks, peakResidentBytes: peak * 1024)
    }
}

/// Runs a bench against a live server: a fleet of simulated workers (on a thread of this
/// process, and in child processes beyond `workersPerProcess`), and runs created through
/// the control endpoint, one request each, pipelined.
public enum Bench {
    /// The most simulated workers one process runs; a larger fleet is spread over `drover
    /// bench fleet` child processes.
    public static let workersPerProcess = 1000

    /// Where the bench stands, for a progress display.
    public struct Progress: Sendable {
        public var welcomed = 0
        public var created = 0
        public var finished = 0
    }

    /// Creates a pool and a deployment of its own on the server at `control`, connects
    /// `plan.workers` simulated workers, waits `plan.idle`, creates `plan.runs` runs and
    /// waits until the workers finished them all or `plan.timeout` passes. `progress` is
    /// called now and then on this thread. With `serverPID`, the server's usage is read
    /// after the idle time.
    public static func run(
        _ plan: BenchPlan, control endpoint: String, serverPID: Int32? = nil, progress: (Progress) -> Void = { _ in }
    ) throws -> BenchReport {
        let deadline = ContinuousClock.now + plan.timeout
        let key = try plan.keyPath.map { path throws(DroverError) in try KeyFile.read(from: path) }
        let control = try ControlClient(endpoint: endpoint, key: key)
        guard case .serverInfo(let info) = try control.call(.getServerInfo(.init())),
            let advertised = info.endpoints["dispatch"]
        else { throw DroverError(.unavailable, "The server at \(endpoint) does not accept workers.") }
        let dispatch = AdvertisedEndpoint.reachable(advertised, via: endpoint)
        let name = "bench-\(UUID().uuidString.prefix(8).lowercased())"
        _ = try control.call(
            .createWorkPool(
                .with {
                    $0.name = name; $0.type = "process"
                }))
        _ = try control.call(
            .createDeployment(
                .with {
                    $0.name = name; $0.workPoolName = name; $0.command = "true"
                }))
        defer { cleanUp(name, control: control) }

        // The machine's own rate for the command, before anything else competes for it.
        let rawSpawn = try plan.process.map { argv in
            try SpawnRate.measure(
                argv: argv, concurrency: min(plan.workers * Int(plan.limit), 64), count: min(plan.runs, 5000),
                timeout: plan.timeout)
        }

        let tally = FleetTally()
        let local = min(plan.workers, workersPerProcess)
        let fleet = SimulatedFleet(
            configuration: .init(
                dispatchEndpoint: dispatch, pool: name, workers: local, limit: plan.limit,
                runDuration: plan.runDuration, expectedRuns: plan.runs, process: plan.process, key: key),
            tally: tally)
        let outcome = FleetOutcome()
        let thread = Thread {
            outcome.finish(Result { try fleet.run(deadline: deadline) })
        }
        thread.name = "drover-bench-fleet"
        thread.start()
        defer { fleet.stop() }
        var children: [FleetChild] = []
        defer {
            for child in children { child.stop() }
            for child in children { child.kill() }
        }
        var first = local
        while first < plan.workers {
            let count = min(workersPerProcess, plan.workers - first)
            guard let executable = plan.fleetExecutable else {
                throw DroverError(
                    .invalidArgument, "More than \(workersPerProcess) workers need fleet processes: give the drover executable.")
            }
            children.append(
                try FleetChild(
                    executable: executable,
                    arguments: [
                        "bench", "fleet", "--dispatch", dispatch, "--pool", name, "--workers", "\(count)",
                        "--limit", "\(plan.limit)", "--run-duration", "\(plan.runDuration.inSeconds)",
                        "--first-worker", "\(first + 1)", "--timeout", "\(plan.timeout.inSeconds)",
                    ] + (plan.process.map { ["--process-argv", String(decoding: try JSONEncoder().encode($0), as: UTF8.self)] } ?? [])
                        + (plan.keyPath.map { ["--key", $0] } ?? []),
                    tally: tally))
            first += count
        }

        let welcomeDeadline = Date(timeIntervalSinceNow: plan.timeout.inSeconds)
        var welcomed = 0
        while welcomed < plan.workers {
            let counts = tally.wait(until: min(welcomeDeadline, Date(timeIntervalSinceNow: 0.2))) {
                $0.welcomed >= plan.workers || $0.partsEnded > 0
            }
            welcomed = counts.welcomed
            progress(Progress(welcomed: welcomed))
            guard counts.partsEnded == 0, Date() < welcomeDeadline else { break }
        }
        guard welcomed >= plan.workers else {
            throw DroverError(.unavailable, "Only \(welcomed) of \(plan.workers) simulated workers were welcomed in time.")
        }
        var serverIdle: ServerUsage?
        if plan.idle > .zero {
            tally.wait(until: Date(timeIntervalSinceNow: plan.idle.inSeconds)) { $0.partsEnded > 0 }
            serverIdle = serverPID.flatMap(ServerUsage.read(pid:))
        }

        let createStart = Date()
        try create(plan, deployment: name, control: control, deadline: deadline) { created in
            progress(Progress(welcomed: welcomed, created: created, finished: tally.current.finished))
        }
        let createSeconds = Date().timeIntervalSince(createStart)
        var finished = 0
        while finished < plan.runs {
            let counts = tally.wait(until: Date(timeIntervalSinceNow: 0.2)) { $0.finished >= plan.runs || $0.partsEnded > 0 }
            finished = counts.finished
            progress(Progress(welcomed: welcomed, created: plan.runs, finished: finished))
            guard counts.partsEnded == 0, ContinuousClock.now < deadline else { break }
        }
        fleet.stop()
        for child in children { child.stop() }

        var measurements = try outcome.wait(until: .now + .seconds(10))
        for child in children {
            measurements.merge(try child.result(until: Date(timeIntervalSinceNow: 10)))
        }
        let elapsed = (measurements.lastFinish ?? Date()).timeIntervalSince(createStart)
        return BenchReport(
            workers: plan.workers, limit: plan.limit, runs: plan.runs, finished: measurements.finished,
            runDurationSeconds: plan.runDuration.inSeconds, elapsedSeconds: elapsed,
            throughput: elapsed > 0 ? Double(measurements.finished) / elapsed : 0, createSeconds: createSeconds,
            dispatchLatency: LatencySummary(microseconds: measurements.dispatch),
            endToEnd: LatencySummary(microseconds: measurements.endToEnd),
            start: LatencySummary(microseconds: measurements.start), server: nil,
            idleSeconds: plan.idle.inSeconds, serverIdle: serverIdle, process: plan.process, rate: plan.rate, rawSpawn: rawSpawn)
    }

    /// Requests kept in flight while creating runs: enough to keep the server's batches
    /// full, few enough that a slow server is not buried.
    static let creationWindow = 256

    /// Creates `plan.runs` runs of `deployment`, pipelined (up to `creationWindow`
    /// unanswered requests) and, with `plan.rate`, each no earlier than its due time.
    private static func create(
        _ plan: BenchPlan, deployment name: String, control: ControlClient, deadline: ContinuousClock.Instant,
        progress: (Int) -> Void
    ) throws {
        let start = ContinuousClock.now
        func due(_ index: Int) -> ContinuousClock.Instant {
            guard let rate = plan.rate else { return start }
            return start + .seconds(Double(index) / rate)
        }
        var sent = 0
        var created = 0
        var lastProgress = start
        while created < plan.runs {
            let now = ContinuousClock.now
            guard now < deadline else { break }
            while sent < plan.runs, sent - created < creationWindow, due(sent) <= now {
                _ = try control.submit(.runDeployment(.with { $0.name = name }))
                sent += 1
            }
            // Wait for a reply, or until the next run is due.
            var wait = deadline - now
            if sent < plan.runs, sent - created < creationWindow { wait = min(wait, due(sent) - now) }
            if sent == created {
                if wait > .zero { Thread.sleep(forTimeInterval: wait.inSeconds) }
                continue
            }
            guard let (_, result) = try control.nextReply(timeout: max(wait, .zero)) else { continue }
            _ = try result.get()
            created += 1
            if ContinuousClock.now - lastProgress > .milliseconds(200) {
                progress(created)
                lastProgress = .now
            }
        }
        progress(created)
    }

    /// Removes the bench's deployment and pool; what cannot be removed stays.
    private static func cleanUp(_ name: String, control: ControlClient) {
        _ = try? control.call(.deleteDeployment(.with { $0.name = name }))
        // The workers' last reports travel on their own connections and may reach the
        // server after this request: a pool with unfinished runs is tried again, for 2 s at most.
        for _ in 0..<100 {
            do {
                _ = try control.call(.deleteWorkPool(.with { $0.name = name }))
                return
            } catch  where error.code == .failedPrecondition {
                Thread.sleep(forTimeInterval: 0.02)
            } catch {
                return
            }
        }
    }
}

/// The fleet's result, handed from its thread to the bench's.
final class FleetOutcome: @unchecked Sendable {
    private let condition = NSCondition()
    private var result: Result<SimulatedFleet.Measurements, any Error>?

    func finish(_ result: Result<SimulatedFleet.Measurements, any Error>) {
        condition.withLock {
            self.result = result
            condition.broadcast()
        }
    }

    /// The fleet's measurements, once it has returned; throws if it failed or never returned.
    func wait(until deadline: ContinuousClock.Instant) throws -> SimulatedFleet.Measurements {
        condition.lock()
        defer { condition.unlock() }
        while result == nil {
            let remaining = deadline - ContinuousClock.now
            guard remaining > .zero else {
                throw DroverError(.unavailable, "The simulated workers did not stop in time.")
            }
            _ = condition.wait(until: Date(timeIntervalSinceNow: remaining.inSeconds))
        }
        return try result!.get()
    }
}

extension Duration {
    /// The duration in seconds, as a `Date` arithmetic wants it.
    var inSeconds: Double {
        let (seconds, attoseconds) = components
        return Double(seconds) + Double(attoseconds) / 1e18
    }
}
