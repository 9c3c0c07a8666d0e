import DroverClient
import DroverCore
import DroverProto
import DroverSystem
import Foundation

#if canImport(Glibc)
import Glibc
#endif

/// `drover bench chaos`: a real server, real workers over two pools and a steady load of
/// runs, with faults injected on a seeded schedule (the server and the limit service
/// SIGKILLed and restarted, workers SIGKILLed and replaced, workers and their runs
/// SIGSTOPped for a while), then every invariant checked against what the runs' own
/// processes wrote: no run lost, no attempt run twice, no limit exceeded, no lease left.
public final class ChaosSoak {
    /// What to run and which faults to inject.
    public struct Configuration: Sendable {
        /// The `drover` binary that serves and works.
        public var executable: URL
        public var seed: UInt64 = 1
        /// Seconds of load and faults; then the soak waits for every run to finish.
        public var duration: Double = 60
        public var serverKills = 20
        public var workerKills = 6
        public var workerStops = 6
        /// A standalone limit service (killed too) instead of the server's own.
        public var standaloneLimitService = false
        public var limitServiceKills = 3
        /// Every daemon `--secure`, and every client and worker with a key of its role.
        public var secure = false
        /// Runs created per second.
        public var runRate: Double = 4
        /// How long the soak waits for the last runs to finish.
        public var settleTimeout: Double = 180
        /// Called about every 100 ms with the fraction done and a short status.
        public var progress: (@Sendable (Double, String) -> Void)?

        public init(executable: URL) {
            self.executable = executable
        }
    }

    /// What the soak saw.
    public struct Report: Sendable, Codable {
        public var seed: UInt64 = 0
        public var secure = false
        public var durationSeconds: Double = 0
        public var runs = 0
        public var lost = 0
        public var duplicated = 0
        public var limitViolations = 0
        public var leasesLeft = 0
        public var serverKills = 0
        public var workerKills = 0
        public var workerStops = 0
        public var limitServiceKills = 0
        public var completed = 0
        public var failed = 0
        public var crashed = 0
        public var cancelled = 0
        public var retriedCrashes = 0
        public var attemptsRun = 0
        public var createFailures = 0
        public var recoveryP50Ms = 0.0
        public var recoveryMaxMs = 0.0
        public var peakServerRSSMiB = 0.0
        public var maxHellosPerRestart = 0
        public var violations: [String] = []
        /// Where a failed soak left its logs and journal.
        public var keptHome: String?

        enum CodingKeys: String, CodingKey {
            case seed, secure, runs, lost, duplicated, violations, completed, failed, crashed, cancelled
            case durationSeconds = "duration_seconds"
            case limitViolations = "limit_violations"
            case leasesLeft = "leases_left"
            case serverKills = "server_kills"
            case workerKills = "worker_kills"
            case workerStops = "worker_stops"
            case limitServiceKills = "limit_service_kills"
            case retriedCrashes = "retried_crashes"
            case attemptsRun = "attempts_run"
            case createFailures = "create_failures"
            case recoveryP50Ms = "recovery_p50_ms"
            case recoveryMaxMs = "recovery_max_ms"
            case peakServerRSSMiB = "peak_server_rss_mib"
            case maxHellosPerRestart = "max_hellos_per_restart"
            case keptHome = "kept_home"
        }

        /// Whether every invariant held.
        public var passed: Bool { lost == 0 && duplicated == 0 && limitViolations == 0 && leasesLeft == 0 }
    }

    /// The fleet the soak runs: pools, their workers, deployments and limits.
    static let pools = [("chaos-a", 3), ("chaos-b", 1)]
    static let workers = [("a1", "chaos-a", 2), ("a2", "chaos-a", 2), ("b1", "chaos-b", 1), ("b2", "chaos-b", 1)]
    /// Name, pool, seconds, exit code, retries, tagged, weight.
    static let deployments: [(String, String, Double, Int, UInt32, Bool, Int)] = [
        ("short", "chaos-a", 0.2, 0, 2, false, 5),
        ("long", "chaos-a", 2.5, 0, 2, false, 2),
        ("tagged-a", "chaos-a", 0.3, 0, 2, true, 2),
        ("steady", "chaos-b", 0.2, 0, 2, false, 3),
        ("failing", "chaos-b", 0.1, 1, 1, false, 1),
        ("tagged-b", "chaos-b", 0.3, 0, 2, true, 1),
    ]
    static let tagLimit = 1
    static let allRunsLimit = 3

    private let configuration: Configuration
    private var random: SplitMix64
    private let home: URL
    private let journal: URL
    private var server: ChaosProcess?
    private var limitService: ChaosProcess?
    private var serverArguments: [String] = []
    private var limitServiceArguments: [String] = []
    private var controlEndpoint = ""
    private var limitsEndpoint = ""
    private var workers: [String: (process: ChaosProcess, pool: String, limit: Int)] = [:]
    private var workerLimits: [String: Int] = [:]
    private var workerDeaths: [String: UInt64] = [:]
    private var stopped: [String: Date] = [:]
    private var nextWorkerNumber = 3
    private var runIDs: [String] = []
    private var report = Report()
    private var recoveries: [Double] = []
    private var serverIncarnation = 0
    /// With `secure`: the key files of the soak's own client, its workers, and (with a
    /// standalone limit service) of the server and the soak as that service's clients.
    private var keys: (admin: KeyFile, worker: String, limitsAdmin: KeyFile?)?

    public init(configuration: Configuration) {
        self.configuration = configuration
        random = SplitMix64(state: configuration.seed)
        home = FileManager.default.temporaryDirectory.appendingPathComponent("drover-chaos-\(UUID().uuidString)")
        journal = home.appendingPathComponent("journal")
    }

    /// Runs the soak and returns what it saw; everything it started is stopped.
    public func run() throws(DroverError) -> Report {
        defer { stopEverything() }
        do {
            try FileManager.default.createDirectory(at: home, withIntermediateDirectories: true)
            _ = FileManager.default.createFile(atPath: journal.path, contents: nil)
        } catch {
            throw DroverError(.internal, "Could not create the soak's home \(home.path): \(error)")
        }
        report.seed = configuration.seed
        report.secure = configuration.secure
        if configuration.secure { try issueKeys() }
        try startServices()
        try setUp()
        for (name, pool, limit) in Self.workers { try startWorker(name, pool: pool, limit: limit) }
        let started = Date()
        try play(from: started)
        report.durationSeconds = Date().timeIntervalSince(started)
        try settle()
        try check()
        report.durationSeconds = Date().timeIntervalSince(started)
        // A failed soak keeps its logs and journal for whoever looks into it.
        if report.passed { try? FileManager.default.removeItem(at: home) } else { report.keptHome = home.path }
        return report
    }

    // MARK: Services

    private var serverHome: String { home.appendingPathComponent("server").path }
    private var limitsHome: String { home.appendingPathComponent("limits").path }
    private func keyPath(_ name: String) -> String { home.appendingPathComponent("\(name).key").path }

    /// Issues the keys with `drover keys create`, in the homes, before any daemon starts
    /// (which then uses the key pair made there).
    private func issueKeys() throws(DroverError) {
        var issues = [("admin", "admin", serverHome), ("workers", "worker", serverHome)]
        if configuration.standaloneLimitService {
            issues += [("server-to-limits", "admin", limitsHome), ("limits-admin", "admin", limitsHome)]
        }
        for (name, role, keyHome) in issues {
            let log = home.appendingPathComponent("keys-\(name).log")
            let process = try ChaosProcess.launch(
                configuration.executable, ["keys", "create", name, "--role", role, "--home", keyHome, "-o", keyPath(name)],
                environment: [:], log: log, awaiting: nil)
            process.reap()
            guard FileManager.default.fileExists(atPath: keyPath(name)) else {
                throw DroverError(
                    .internal, "The soak could not issue the key '\(name)': \((try? String(contentsOf: log, encoding: .utf8)) ?? "")")
            }
        }
        keys = (
            try KeyFile.read(from: keyPath("admin")), keyPath("workers"),
            configuration.standaloneLimitService ? try KeyFile.read(from: keyPath("limits-admin")) : nil
        )
    }

    private func startServices() throws(DroverError) {
        let secure = configuration.secure ? ["--secure"] : []
        var limitArguments: [String] = []
        if configuration.standaloneLimitService {
            let service = try ChaosProcess.launch(
                configuration.executable,
                ["limit-service", "start", "--home", limitsHome, "--port", "0"] + secure,
                environment: [:], log: home.appendingPathComponent("limits.log"), awaiting: "listening on ")
            let endpoint = try Self.endpoint(after: "listening on ", in: service.readyLine)
            limitServiceArguments =
                [
                    "limit-service", "start", "--home", limitsHome, "--port", String(endpoint.split(separator: ":").last ?? "0"),
                ] + secure
            limitService = service
            limitArguments = ["--limit-service", endpoint]
            if configuration.secure { limitArguments += ["--limit-service-key", keyPath("server-to-limits")] }
        }
        let first = try ChaosProcess.launch(
            configuration.executable,
            ["server", "start", "--home", serverHome, "--control-port", "0", "--dispatch-port", "0", "--limits-port", "0"]
                + limitArguments + secure,
            environment: [:], log: serverLog(0), awaiting: "listening on ")
        let line = first.readyLine
        controlEndpoint = try Self.endpoint(after: "listening on ", in: line)
        let dispatch = try Self.endpoint(after: "workers connect to ", in: line)
        limitsEndpoint = try Self.endpoint(after: "limits at ", in: line)
        func port(_ endpoint: String) -> String { String(endpoint.split(separator: ":").last ?? "0") }
        serverArguments =
            [
                "server", "start", "--home", serverHome, "--control-port", port(controlEndpoint), "--dispatch-port", port(dispatch),
                "--limits-port", configuration.standaloneLimitService ? "0" : port(limitsEndpoint),
            ] + limitArguments + secure
        server = first
    }

    private func serverLog(_ incarnation: Int) -> URL { home.appendingPathComponent("server-\(incarnation).log") }

    private static func endpoint(after marker: String, in line: String) throws(DroverError) -> String {
        guard let start = line.range(of: marker)?.upperBound else {
            throw DroverError(.internal, "The soak could not read an endpoint from: \(line)")
        }
        return String(line[start...].prefix { !$0.isWhitespace && $0 != ";" && $0 != ")" })
    }

    private func control(timeout: Duration = .seconds(3)) throws(DroverError) -> ControlClient {
        try ControlClient(endpoint: controlEndpoint, timeout: timeout, key: keys?.admin)
    }

    /// A client of the limit service: the server's own (the admin key), or the standalone one.
    private func limitClient() throws(DroverError) -> LimitClient {
        try LimitClient(endpoint: limitsEndpoint, timeout: .seconds(10), key: keys.map { $0.limitsAdmin ?? $0.admin })
    }

    private func setUp() throws(DroverError) {
        let client = try control(timeout: .seconds(10))
        for (pool, limit) in Self.pools {
            _ = try client.call(
                .createWorkPool(
                    .with {
                        $0.name = pool; $0.type = "process"; $0.concurrencyLimit = UInt32(limit)
                    }))
        }
        for (name, pool, seconds, exitCode, retries, tagged, _) in Self.deployments {
            _ = try client.call(
                .createDeployment(
                    .with {
                        $0.name = name
                        $0.workPoolName = pool
                        $0.command = ChaosJournal.command(
                            deployment: name, journal: journal.path, seconds: seconds, exitCode: exitCode)
                        $0.retries = retries
                        if tagged { $0.tags = ["chaos"] }
                    }))
        }
        let limits = try limitClient()
        _ = try limits.call(
            .createLimit(
                .with {
                    $0.name = Limit.name(ofTag: "chaos"); $0.limit = UInt32(Self.tagLimit)
                }))
        _ = try limits.call(
            .createLimit(
                .with {
                    $0.name = "chaos-all"; $0.limit = UInt32(Self.allRunsLimit); $0.appliesToAllRuns = true
                }))
    }

    // MARK: Workers

    private func startWorker(_ name: String, pool: String, limit: Int) throws(DroverError) {
        let process = try ChaosProcess.launch(
            configuration.executable, ["worker", "start", "-p", pool, "--name", name, "--limit", "\(limit)"],
            environment: ["CHAOS_WORKER": name, "DROVER_SERVER": controlEndpoint].merging(
                keys.map { ["DROVER_KEY": $0.worker] } ?? [:]
            ) { _, new in new },
            log: home.appendingPathComponent("worker-\(name).log"), awaiting: nil)
        workers[name] = (process, pool, limit)
        workerLimits[name] = limit
    }

    private func killWorker() throws(DroverError) {
        let alive = workers.keys.filter { stopped[$0] == nil }.sorted()
        guard !alive.isEmpty else { return }
        let name = alive[pick(alive.count)]
        guard let (process, pool, limit) = workers.removeValue(forKey: name) else { return }
        process.signal(SIGKILL)
        workerDeaths[name] = Self.nowNanos()
        process.reap()
        report.workerKills += 1
        let replacement = "\(pool == "chaos-a" ? "a" : "b")\(nextWorkerNumber)"
        nextWorkerNumber += 1
        try startWorker(replacement, pool: pool, limit: limit)
    }

    /// Freezes a worker and its runs' processes, as a hung host would be, for less than the
    /// server's patience; `resumeStoppedWorkers` thaws them.
    private func stopWorker() {
        let alive = workers.keys.filter { stopped[$0] == nil }.sorted()
        guard !alive.isEmpty else { return }
        let name = alive[pick(alive.count)]
        guard let worker = workers[name] else { return }
        worker.process.signalWithChildren(SIGSTOP)
        stopped[name] = Date().addingTimeInterval(1 + Double(pick(3000)) / 1000)
        report.workerStops += 1
    }

    private func resumeStoppedWorkers(force: Bool = false) {
        for (name, until) in stopped where force || until <= Date() {
            workers[name]?.process.signalWithChildren(SIGCONT)
            stopped[name] = nil
        }
    }

    // MARK: Faults

    private enum Fault: Comparable {
        case killServer, killWorker, stopWorker, killLimitService
    }

    private func schedule() -> [(at: Double, fault: Fault)] {
        var faults: [(Double, Fault)] = []
        func spread(_ count: Int, _ fault: Fault) {
            for index in 0..<count {
                // One in each equal slice of 5–85 % of the duration, at a random point of it.
                let slice = 0.8 / Double(max(1, count))
                let at = (0.05 + slice * (Double(index) + Double(pick(1000)) / 1000)) * configuration.duration
                faults.append((at, fault))
            }
        }
        spread(configuration.serverKills, .killServer)
        spread(configuration.workerKills, .killWorker)
        spread(configuration.workerStops, .stopWorker)
        if configuration.standaloneLimitService { spread(configuration.limitServiceKills, .killLimitService) }
        return faults.sorted { ($0.0, $0.1) < ($1.0, $1.1) }
    }

    private func play(from started: Date) throws(DroverError) {
        var faults = schedule()[...]
        let interval = 1 / configuration.runRate
        var nextRun = 0.0
        var nextCancel = 5.0
        var client = try control()
        while true {
            let elapsed = Date().timeIntervalSince(started)
            if elapsed >= configuration.duration { break }
            resumeStoppedWorkers()
            while let next = faults.first, next.at <= elapsed {
                faults.removeFirst()
                switch next.fault {
                case .killServer:
                    try restartServer()
                    client = try control()
                case .killWorker: try killWorker()
                case .stopWorker: stopWorker()
                case .killLimitService: try restartLimitService()
                }
            }
            while nextRun <= elapsed {
                nextRun += interval * (0.5 + Double(pick(1000)) / 1000)
                createRun(client)
            }
            if elapsed >= nextCancel {
                nextCancel += 6
                cancelALongRun(client)
            }
            configuration.progress?(
                elapsed / configuration.duration,
                "runs \(runIDs.count), server kills \(report.serverKills)/\(configuration.serverKills), "
                    + "worker kills \(report.workerKills), stops \(report.workerStops)")
            usleep(20_000)
        }
        resumeStoppedWorkers(force: true)
    }

    private func createRun(_ client: ControlClient) {
        let total = Self.deployments.reduce(0) { $0 + $1.6 }
        var choice = pick(total)
        var name = Self.deployments[0].0
        for deployment in Self.deployments {
            if choice < deployment.6 {
                name = deployment.0
                break
            }
            choice -= deployment.6
        }
        do {
            guard case .flowRun(let run) = try client.call(.runDeployment(.with { $0.name = name })) else { return }
            runIDs.append(run.id)
        } catch {
            // The server is down or restarting; a run it made without answering is found at the end.
            report.createFailures += 1
        }
    }

    private func cancelALongRun(_ client: ControlClient) {
        guard
            case .flowRuns(let list)? = try? client.call(
                .listFlowRuns(
                    .with {
                        $0.deploymentName = "long"; $0.stateTypes = [.running]; $0.limit = 10
                    })),
            !list.flowRuns.isEmpty
        else { return }
        _ = try? client.call(.cancelFlowRun(.with { $0.id = list.flowRuns[pick(list.flowRuns.count)].id }))
    }

    private func restartServer() throws(DroverError) {
        guard let old = server else { return }
        report.peakServerRSSMiB = max(report.peakServerRSSMiB, old.peakRSSMiB)
        old.signal(SIGKILL)
        old.reap()
        report.serverKills += 1
        serverIncarnation += 1
        let restarted = Date()
        server = try ChaosProcess.launch(
            configuration.executable, serverArguments, environment: [:], log: serverLog(serverIncarnation),
            awaiting: "listening on ")
        // Recovered: every worker not frozen by the soak is back in a session.
        let client = try control(timeout: .seconds(2))
        let deadline = Date().addingTimeInterval(30)
        while Date() < deadline {
            let expected = Set(workers.keys.filter { stopped[$0] == nil })
            if case .workers(let list)? = try? client.call(.listWorkers(.init())) {
                let online = Set(list.workers.filter { $0.status == .online }.map(\.name))
                if expected.isSubset(of: online) {
                    recoveries.append(Date().timeIntervalSince(restarted) * 1000)
                    return
                }
            }
            resumeStoppedWorkers()
            usleep(20_000)
        }
        recoveries.append(Date().timeIntervalSince(restarted) * 1000)
    }

    private func restartLimitService() throws(DroverError) {
        guard let old = limitService else { return }
        old.signal(SIGKILL)
        old.reap()
        report.limitServiceKills += 1
        limitService = try ChaosProcess.launch(
            configuration.executable, limitServiceArguments, environment: [:],
            log: home.appendingPathComponent("limits-\(report.limitServiceKills).log"), awaiting: "listening on ")
    }

    // MARK: The end

    /// Waits until no run is unfinished, as the server sees them.
    private func settle() throws(DroverError) {
        let deadline = Date().addingTimeInterval(configuration.settleTimeout)
        let client = try control()
        while Date() < deadline {
            let unfinished =
                (try? client.call(
                    .listFlowRuns(
                        .with {
                            $0.stateTypes = [.scheduled, .pending, .running, .cancelling]; $0.limit = 1
                        })))
            if case .flowRuns(let list)? = unfinished, list.flowRuns.isEmpty { return }
            configuration.progress?(1, "waiting for the last runs to finish")
            usleep(200_000)
        }
    }

    private func check() throws(DroverError) {
        let client = try control(timeout: .seconds(10))
        // Runs the server made whose reply a kill swallowed count too.
        if case .flowRuns(let list)? = try? client.call(.listFlowRuns(.with { $0.limit = 100_000 })) {
            let known = Set(runIDs)
            runIDs += list.flowRuns.map(\.id).filter { !known.contains($0) }
        }
        report.runs = runIDs.count
        for id in runIDs {
            guard case .flowRun(let run)? = try? client.call(.getFlowRun(.with { $0.id = id })) else {
                report.lost += 1
                report.violations.append("run \(id) was lost: the server no longer knows it")
                continue
            }
            switch run.stateType {
            case .completed: report.completed += 1
            case .failed: report.failed += 1
            case .crashed: report.crashed += 1
            case .cancelled: report.cancelled += 1
            default:
                report.lost += 1
                report.violations.append("run \(id) never finished: it is \(run.stateType) (attempt \(run.attempt))")
            }
            let history = run.stateHistory
            report.retriedCrashes += zip(history, history.dropFirst()).count { $0.type == .running && $1.type == .scheduled }
        }
        let text = (try? String(contentsOf: journal, encoding: .utf8)) ?? ""
        let book = ChaosJournal(text)
        report.attemptsRun = book.attempts.count
        report.duplicated = book.startedTwice.count
        report.violations += book.startedTwice.map { "attempt \($0) started twice" }
        var poolOf: [String: String] = [:]
        for deployment in Self.deployments { poolOf[deployment.0] = deployment.1 }
        let check = ChaosCheck(
            limits: .init(
                poolOfDeployment: poolOf, poolLimits: Dictionary(uniqueKeysWithValues: Self.pools), workerLimits: workerLimits,
                taggedDeployments: Set(Self.deployments.filter(\.5).map(\.0)), tagLimit: Self.tagLimit,
                allRunsLimit: Self.allRunsLimit))
        let violations = check.violations(of: book.attempts, workerDeaths: workerDeaths, horizon: Self.nowNanos())
        report.limitViolations = violations.count
        report.violations += violations.map(\.description)
        if let limits = try? limitClient(),
            case .limits(let list)? = try? limits.call(.listLimits(.init()))
        {
            for limit in list.limits where limit.activeSlots > 0 {
                report.leasesLeft += Int(limit.activeSlots)
                report.violations.append(
                    "limit \(limit.name) still has \(limit.activeSlots) slots taken: \(limit.leases.map(\.holder))")
            }
        }
        let sorted = recoveries.sorted()
        report.recoveryP50Ms = sorted.isEmpty ? 0 : sorted[sorted.count / 2]
        report.recoveryMaxMs = sorted.last ?? 0
        report.peakServerRSSMiB = max(report.peakServerRSSMiB, server?.peakRSSMiB ?? 0)
        for incarnation in 1...max(1, serverIncarnation) where incarnation <= serverIncarnation {
            let log = (try? String(contentsOf: serverLog(incarnation), encoding: .utf8)) ?? ""
            report.maxHellosPerRestart = max(report.maxHellosPerRestart, log.components(separatedBy: "worker connected").count - 1)
        }
    }

    private func stopEverything() {
        resumeStoppedWorkers(force: true)
        for (_, worker) in workers { worker.process.signal(SIGINT) }
        for (_, worker) in workers { worker.process.reap(graceSeconds: 15) }
        workers.removeAll()
        server?.signal(SIGINT)
        server?.reap(graceSeconds: 15)
        limitService?.signal(SIGINT)
        limitService?.reap(graceSeconds: 15)
    }

    // MARK: Randomness and time

    private func pick(_ count: Int) -> Int {
        Int(random.next() % UInt64(max(1, count)))
    }

    static func nowNanos() -> UInt64 {
        var spec = timespec()
        clock_gettime(CLOCK_REALTIME, &spec)
        return UInt64(spec.tv_sec) * 1_000_000_000 + UInt64(spec.tv_nsec)
    }
}
