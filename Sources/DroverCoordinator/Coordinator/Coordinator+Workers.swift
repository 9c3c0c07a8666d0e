import DroverClient
import DroverCore
import DroverProto
import Foundation
import SwiftProtobuf

// Messages from workers on the dispatch endpoint.
extension Coordinator {
    /// Handles one message from the worker whose routing id is `worker`.
    public mutating func handle(worker: String, _ message: Drover_V1_WorkerMessage) throws(DroverError) {
        let now = clock()
        if case .hello(let hello)? = message.kind {
            try welcome(worker, hello, now: now)
            return
        }
        guard var session = sessions[worker], session.session == message.session else {
            // A worker from before a restart, or one we gave up on. What it reports about a
            // run it still holds (by id and attempt) is true whatever the session, and may be
            // all that is left of a run that ended while the server was down: keep it.
            let reporter = Reporter(id: worker, name: worker)
            switch message.kind {
            case .runFinished(let finished):
                if let id = UUID(uuidString: finished.runID), activeRuns[id]?.workerID == worker {
                    try runFinished(finished, by: reporter, now: now)
                }
            case .logBatch(let batch):
                try appendLogs(batch, by: reporter)
            default:
                break
            }
            // Then it must introduce itself again.
            send(
                .reject(
                    .with {
                        $0.helloAgain = true
                        $0.error = .with { $0.code = .failedPrecondition; $0.message = "Unknown session: say Hello again." }
                    }), to: worker)
            return
        }
        session.lastSeen = now
        sessions[worker] = session
        dispatcher.workerSeen(worker, now: now)
        switch message.kind {
        case .heartbeat:
            send(.heartbeatAck(.init()), to: worker)
        case .credit(let credit):
            try perform(dispatcher.setAccepting(worker, credit.available > 0))
        case .runStarted(let started):
            try runStarted(started, by: Reporter(session), now: now)
        case .runFinished(let finished):
            try runFinished(finished, by: Reporter(session), now: now)
        case .logBatch(let batch):
            try appendLogs(batch, by: Reporter(session))
        case .bye(let bye):
            logger.info("worker said goodbye", metadata: ["worker.name": "\(session.name)", "reason": "\(bye.reason)"])
            // It left on purpose: no "worker lost" for it.
            session.online = false
            sessions[worker] = nil
            departed[session.poolName + "/" + session.name] = session
            try perform(dispatcher.workerDisconnected(worker))
        case .hello, nil:
            break
        }
    }

    /// The dispatch socket could not reach the worker: treat it as gone.
    public mutating func workerUnreachable(_ worker: String) throws(DroverError) {
        try perform(dispatcher.workerDisconnected(worker))
    }

    private mutating func welcome(_ worker: String, _ hello: Drover_V1_Hello, now: Date) throws(DroverError) {
        func reject(_ error: DroverError) {
            send(.reject(.with { $0.error = .with { $0.code = .init(error.code); $0.message = error.message } }), to: worker)
        }
        do {
            let session = try admit(worker, hello, now: now)
            // A worker may claim only runs the store says it holds, under the attempt it holds;
            // anything else it reports is stale and it is told to stop it.
            let reported = hello.activeRuns.compactMap { UUID(uuidString: $0.runID) }
            let claimable = hello.activeRuns.compactMap { active -> UUID? in
                guard let id = UUID(uuidString: active.runID), let run = activeRuns[id], run.workerID == worker,
                    run.attempt == active.attempt
                else { return nil }
                return id
            }
            let (claimed, actions) = dispatcher.workerConnected(
                worker, pool: session.poolID, queues: try queueIDs(session), limit: session.limit,
                reportedRuns: claimable, now: now)
            sessions[worker] = session
            departed[session.poolName + "/" + session.name] = nil
            let stale = Set(reported).subtracting(claimed)
            send(
                .welcome(
                    .with {
                        $0.workerID = worker
                        $0.name = session.name
                        $0.heartbeatIntervalMs = UInt32(settings.heartbeatInterval * 1000)
                        $0.session = session.session
                        $0.staleRunIds = stale.map { $0.uuidString.lowercased() }.sorted()
                        $0.limitsEndpoint = serverInfo.endpoints["limits"] ?? ""
                    }), to: worker)
            logger.info(
                "worker connected",
                metadata: [
                    "worker.name": "\(session.name)", "pool.name": "\(session.poolName)",
                    "worker.limit": "\(session.limit.map(String.init) ?? "unlimited")", "runs.claimed": "\(claimed.count)",
                ])
            try perform(actions)
        } catch {
            logger.warning("refused a worker", metadata: ["reason": "\(error.message)"])
            reject(error)
        }
    }

    /// Checks a Hello and builds the session, creating the pool or queues it names when allowed.
    private mutating func admit(_ worker: String, _ hello: Drover_V1_Hello, now: Date) throws(DroverError) -> WorkerSession {
        if (try? catalog.pool(named: hello.workPoolName)) == nil {
            guard hello.createPoolIfNotFound else {
                throw .notFound(
                    "Work pool '\(ResourceName.printable(hello.workPoolName))' does not exist. Create it with "
                        + "`drover work-pool create \(hello.workPoolName) --type process`, or start the worker with "
                        + "--create-pool-if-not-found.")
            }
            _ = try createPool(.with { $0.name = hello.workPoolName; $0.type = hello.type })
        }
        let pool = try catalog.pool(named: hello.workPoolName)
        for queue in hello.workQueueNames where (try? catalog.queue(named: queue, inPool: pool.name)) == nil {
            _ = try createQueue(.with { $0.name = queue; $0.workPoolName = pool.name })
        }
        let name = hello.name.isEmpty ? "worker-\(worker.prefix(8))" : hello.name
        try ResourceName.validate(name, kind: "worker")
        if let holder = sessions.session(named: name, inPool: pool.id), holder.id != worker {
            throw .alreadyExists(
                "A worker named '\(name)' is already connected to work pool '\(pool.name)' "
                    + "(pid \(holder.pid) on \(holder.host)). Stop it, or start this one with another --name.")
        }
        if let limit = hello.hasLimit ? hello.limit : nil { try ConcurrencyLimit.validate(limit, of: "worker '\(name)'") }
        return WorkerSession(
            id: worker, name: name, poolID: pool.id, poolName: pool.name, queueNames: hello.workQueueNames,
            limit: hello.hasLimit ? hello.limit : nil, host: hello.host, pid: hello.pid, version: hello.version,
            session: UInt64.random(in: 1...UInt64.max), connected: now, lastSeen: now)
    }

    private func queueIDs(_ session: WorkerSession) throws(DroverError) -> Set<UUID>? {
        guard !session.queueNames.isEmpty else { return nil }
        var ids: Set<UUID> = []
        for name in session.queueNames { ids.insert(try catalog.queue(named: name, inPool: session.poolName).id) }
        return ids
    }

    /// The run a worker reports on, if the report is for the attempt it holds; otherwise
    /// the worker is told to stop that attempt (a fencing token at work).
    private mutating func heldRun(_ runID: String, attempt: UInt32, by session: Reporter) -> FlowRun? {
        guard let id = UUID(uuidString: runID), let run = activeRuns[id], run.attempt == attempt,
            run.workerID == session.id
        else {
            send(.stop(.with { $0.runID = runID; $0.attempt = attempt }), to: session.id)
            logger.warning(
                "stale report from a worker", metadata: ["run.id": "\(runID)", "worker.name": "\(session.name)", "run.attempt": "\(attempt)"])
            return nil
        }
        return run
    }

    private mutating func runStarted(
        _ started: Drover_V1_RunStarted, by session: Reporter, now: Date
    ) throws(DroverError) {
        guard var run = heldRun(started.runID, attempt: started.attempt, by: session) else { return }
        guard run.state.type == .pending else { return }
        try run.transition(
            to: .running, at: started.hasStarted ? started.started.date : now, message: "Started as pid \(started.pid).")
        try store.commit([.updateRun(run)])
        activeRuns[run.id] = run
    }

    private mutating func runFinished(
        _ finished: Drover_V1_RunFinished, by session: Reporter, now: Date
    ) throws(DroverError) {
        guard var run = heldRun(finished.runID, attempt: finished.attempt, by: session) else { return }
        let at = finished.hasFinished ? finished.finished.date : now
        let type: StateType
        switch finished.outcome {
        case .runCompleted: type = .completed
        case .runFailed: type = .failed
        case .runCancelled: type = .cancelled
        case .runCrashed, .unspecified, .UNRECOGNIZED: type = .crashed
        }
        if finished.hasExitCode { run.exitCode = finished.exitCode }
        // A run stopped while being cancelled ended because of the cancel, whatever its exit.
        let final: StateType = run.state.type == .cancelling && type != .completed ? .cancelled : type
        try run.transition(to: final, at: at, message: finished.message)
        try finish(run)
    }

    private mutating func appendLogs(_ batch: Drover_V1_LogBatch, by session: Reporter) throws(DroverError) {
        // Only the worker holding the run writes its logs (it sends them before RunFinished).
        guard let id = UUID(uuidString: batch.runID), activeRuns[id]?.workerID == session.id else { return }
        let lines = batch.lines.prefix(10_000).map { line in
            FlowRunLog(
                runID: id, attempt: batch.attempt, timestamp: line.timestamp.date,
                stream: FlowRunLog.Stream(rawValue: line.stream) ?? .worker, text: String(line.text.prefix(16 * 1024)),
                line: line.line == 0 ? nil : line.line)
        }
        guard !lines.isEmpty else { return }
        try store.commit([.appendLogs(Array(lines))])
    }

    func listWorkers(_ list: Drover_V1_ListWorkers) throws(DroverError) -> [Drover_V1_Worker] {
        let poolID = list.workPoolName.isEmpty ? nil : try catalog.pool(named: list.workPoolName).id
        let all = Array(sessions.values) + departed.values.filter { old in
            sessions.session(named: old.name, inPool: old.poolID) == nil
        }
        return all.filter { poolID == nil || $0.poolID == poolID }
            .sorted { ($0.poolName, $0.name) < ($1.poolName, $1.name) }
            .map { session in
                Drover_V1_Worker.with {
                    $0.id = session.id
                    $0.name = session.name
                    $0.workPoolName = session.poolName
                    $0.status = session.online ? .online : .offline
                    $0.lastHeartbeat = Google_Protobuf_Timestamp(microsecondsOf: session.lastSeen)
                    if let limit = session.limit { $0.limit = limit }
                    $0.workQueueNames = session.queueNames
                    $0.activeRuns = UInt32(session.online ? dispatcher.activeRuns(of: session.id) : 0)
                    $0.host = session.host
                    $0.pid = session.pid
                    $0.version = session.version
                    $0.connected = Google_Protobuf_Timestamp(microsecondsOf: session.connected)
                }
            }
    }
}

extension Coordinator {
    /// Whether the worker has a live session.
    public func isConnected(_ worker: String) -> Bool { sessions[worker] != nil }

    /// Answers a worker that speaks another protocol version.
    public mutating func refuseVersion(_ version: UInt32, worker: String) {
        send(
            .reject(
                .with {
                    $0.error = .with {
                        $0.code = .unsupportedVersion
                        $0.message =
                            "This server speaks Drover protocol version \(droverProtocolVersion); the worker sent "
                            + "version \(version). Use a drover worker of the server's release."
                    }
                }), to: worker)
    }
}

/// Who sent a report about a run: the worker's routing id, and its name for logs.
struct Reporter {
    let id: String
    let name: String

    init(id: String, name: String) {
        self.id = id
        self.name = name
    }

    init(_ session: WorkerSession) {
        self.init(id: session.id, name: session.name)
    }
}
