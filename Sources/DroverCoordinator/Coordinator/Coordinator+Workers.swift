import DroverCore
import DroverProto
import DroverWire
import Foundation
import Logging
import SwiftProtobuf

// Messages from workers on the dispatch endpoint.
extension Coordinator {
    /// Handles one message from the worker whose routing id is `worker`.
    ///
    /// A Hello opens a session (or, repeated, gets the same Welcome). Anything else counts
    /// only when stamped with the worker's current session; reports count once each, by
    /// their number, and are acknowledged in the next message the worker gets.
    public mutating func handle(worker: String, _ message: Drover_V1_WorkerMessage) throws(DroverError) {
        let now = clock()
        if case .hello(let hello)? = message.kind {
            if var connected = sessions[worker], connected.ledger.isRepeat(ofHello: hello.helloID) {
                // Its Welcome was lost or is on its way: the same answer, and no new session.
                connected.lastSeen = now
                sessions[worker] = connected
                dispatcher.workerSeen(worker, now: now)
                send(.welcome(connected.welcome), to: worker)
                return
            }
            try welcome(worker, hello, now: now)
            return
        }
        guard var connected = sessions[worker], connected.session == message.session else {
            refuseSession(message.session, of: worker)
            return
        }
        switch message.kind {
        case .runStarted, .runFinished, .logBatch:
            acknowledgementsDue.insert(worker)
            guard connected.ledger.admit(report: message.seq, session: message.session) == .apply else {
                sessions[worker] = connected
                return
            }
        default:
            break
        }
        connected.lastSeen = now
        sessions[worker] = connected
        dispatcher.workerSeen(worker, now: now)
        switch message.kind {
        case .heartbeat:
            send(.heartbeatAck(.init()), to: worker)
        case .accepting(let message):
            try perform(dispatcher.setAccepting(worker, message.accepting))
        case .runStarted(let started):
            try runStarted(started, by: Reporter(connected), now: now)
        case .runFinished(let finished):
            try runFinished(finished, by: Reporter(connected), now: now)
        case .logBatch(let batch):
            try appendLogs(batch, by: Reporter(connected), now: now)
        case .bye(let bye):
            logWorker(
                "worker said goodbye", level: .info,
                ["worker.name": "\(connected.name)", "reason": "\(ResourceName.printable(String(bye.reason.prefix(200))))"])
            // It left on purpose: no "worker lost" for it.
            connected.online = false
            sessions[worker] = nil
            rememberDeparted(connected)
            try perform(dispatcher.workerDisconnected(worker))
        case .hello, nil:
            break
        }
    }

    /// Tells a worker that its session is unknown here (the server restarted, or gave up on
    /// it): it must say Hello again. Once per session and batch, however many of its
    /// messages were queued.
    private mutating func refuseSession(_ session: UInt64, of worker: String) {
        guard refusedSessions.insert(RefusedSession(worker: worker, session: session)).inserted else { return }
        send(
            .reject(
                .with {
                    $0.helloAgain = true
                    $0.rejectedSession = session
                    $0.error = .with {
                        $0.code = .failedPrecondition; $0.message = "Unknown session: say Hello again."
                    }
                }), to: worker)
    }

    /// The dispatch socket could not reach the worker: treat it as gone.
    public mutating func workerUnreachable(_ worker: String) throws(DroverError) {
        try perform(dispatcher.workerDisconnected(worker))
    }

    /// The connection the worker's last message came from closed: its process died, or it
    /// left that connection for a new one. Either way it is lost now, not after its
    /// heartbeats stop; a worker that lives says Hello again from its new connection.
    public mutating func connectionClosed(of worker: String) throws(DroverError) {
        guard let session = sessions[worker] else { return }
        logWorker("a worker's connection closed", level: .info, ["worker.name": "\(session.name)"])
        try perform(dispatcher.workerDisconnected(worker))
    }

    private mutating func welcome(_ worker: String, _ hello: Drover_V1_Hello, now: Date) throws(DroverError) {
        do {
            var connected = try admit(worker, hello, now: now)
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
                worker, pool: connected.poolID, queues: try queueIDs(connected), limit: connected.limit,
                reportedRuns: claimable, now: now)
            let stale = Set(reported).subtracting(claimed)
            connected.welcome = .with {
                $0.workerID = worker
                $0.name = connected.name
                $0.heartbeatIntervalMs = UInt32(settings.heartbeatInterval * 1000)
                $0.session = connected.session
                $0.helloID = hello.helloID
                $0.staleRunIds = stale.map { $0.uuidString.lowercased() }.sorted()
                $0.limitsEndpoint = serverInfo.endpoints["limits"] ?? ""
            }
            sessions[worker] = connected
            departed[connected.poolName + "/" + connected.name] = nil
            send(.welcome(connected.welcome), to: worker)
            logWorker(
                "worker connected", level: .info,
                [
                    "worker.name": "\(connected.name)", "pool.name": "\(connected.poolName)",
                    "worker.limit": "\(connected.limit.map(String.init) ?? "unlimited")", "runs.claimed": "\(claimed.count)",
                ])
            // A cancel the worker may have missed while it was away goes again.
            for id in claimed {
                guard let run = activeRuns[id], run.state.type == .cancelling else { continue }
                send(
                    .cancel(
                        .with {
                            $0.runID = id.uuidString.lowercased()
                            $0.attempt = run.attempt
                            $0.gracePeriodMs = UInt32(settings.cancelGracePeriod * 1000)
                        }), to: worker)
            }
            try perform(actions)
        } catch {
            if peerWarnings.allows("refused a worker", now: .now) {
                logger.warning("refused a worker", metadata: ["reason": "\(error.message)"])
            }
            send(
                .reject(
                    .with {
                        $0.error = .with {
                            $0.code = .init(error.code); $0.message = error.message
                        }
                        $0.helloID = hello.helloID
                    }), to: worker)
        }
    }

    /// Checks a Hello and builds the session, creating the pool or queues it names when allowed.
    private mutating func admit(_ worker: String, _ hello: Drover_V1_Hello, now: Date) throws(DroverError) -> ConnectedWorker {
        guard hello.workQueueNames.count <= Self.maxQueuesInHello else {
            throw .invalidArgument(
                "A worker may name at most \(Self.maxQueuesInHello) work queues (this one named \(hello.workQueueNames.count)).")
        }
        if (try? catalog.pool(named: hello.workPoolName)) == nil {
            try ResourceName.validate(hello.workPoolName, kind: "work pool")
            guard hello.createPoolIfNotFound else {
                throw .notFound(
                    "Work pool '\(hello.workPoolName)' does not exist. Create it with "
                        + "`drover work-pool create \(hello.workPoolName) --type process`, or start the worker with "
                        + "--create-pool-if-not-found.")
            }
            _ = try createPool(
                .with {
                    $0.name = hello.workPoolName; $0.type = hello.type
                })
        }
        let pool = try catalog.pool(named: hello.workPoolName)
        if !hello.type.isEmpty, hello.type != pool.type.rawValue {
            throw .invalidArgument(
                "Work pool '\(pool.name)' is of type '\(pool.type.rawValue)'; a worker of type "
                    + "'\(ResourceName.printable(String(hello.type.prefix(64))))' cannot serve it.")
        }
        for queue in hello.workQueueNames where (try? catalog.queue(named: queue, inPool: pool.name)) == nil {
            _ = try createQueue(
                .with {
                    $0.name = queue; $0.workPoolName = pool.name
                })
        }
        let name = hello.name.isEmpty ? "worker-\(worker.prefix(8))" : hello.name
        try ResourceName.validate(name, kind: "worker")
        if let holder = sessions.session(named: name, inPool: pool.id), holder.id != worker {
            throw .alreadyExists(
                "A worker named '\(name)' is already connected to work pool '\(pool.name)' "
                    + "(pid \(holder.pid) on \(ResourceName.printable(holder.host))). Stop it, or start this one with another --name.")
        }
        if let limit = hello.hasLimit ? hello.limit : nil { try ConcurrencyLimit.validate(limit, of: "worker '\(name)'") }
        return ConnectedWorker(
            id: worker, name: name, poolID: pool.id, poolName: pool.name, queueNames: hello.workQueueNames,
            limit: hello.hasLimit ? hello.limit : nil, host: String(hello.host.prefix(255)), pid: hello.pid,
            version: String(hello.version.prefix(64)),
            ledger: SessionLedger(session: UInt64.random(in: 1...UInt64.max), helloID: hello.helloID), connected: now,
            lastSeen: now)
    }

    /// The most work queues one Hello may name (each is created when missing).
    static let maxQueuesInHello = 64

    private func queueIDs(_ session: ConnectedWorker) throws(DroverError) -> Set<UUID>? {
        guard !session.queueNames.isEmpty else { return nil }
        var ids: Set<UUID> = []
        for name in session.queueNames { ids.insert(try catalog.queue(named: name, inPool: session.poolName).id) }
        return ids
    }

    /// The run a worker reports on, if it holds that attempt of it. A report on an attempt
    /// the server moved past tells the worker to stop it (a fencing token at work); one on
    /// a run already finished is a report sent again, and changes nothing.
    private mutating func heldRun(_ runID: String, attempt: UInt32, by session: Reporter) -> FlowRun? {
        guard let id = UUID(uuidString: runID), let run = activeRuns[id] else { return nil }
        guard run.attempt == attempt, run.workerID == session.id else {
            send(
                .stop(
                    .with {
                        $0.runID = runID; $0.attempt = attempt
                    }), to: session.id)
            if peerWarnings.allows("stale report", now: .now) {
                logger.warning(
                    "stale report from a worker",
                    metadata: ["run.id": "\(id)", "worker.name": "\(session.name)", "run.attempt": "\(attempt)"])
            }
            return nil
        }
        return run
    }

    private mutating func runStarted(
        _ started: Drover_V1_RunStarted, by session: Reporter, now: Date
    ) throws(DroverError) {
        let at = started.hasStarted ? try Self.reported(started.started, "RunStarted.started") : now
        guard let id = UUID(uuidString: started.runID), activeRuns[id] != nil else {
            // The run is over here, but the worker says its process runs: stop it.
            send(
                .stop(
                    .with {
                        $0.runID = started.runID; $0.attempt = started.attempt
                    }), to: session.id)
            return
        }
        guard var run = heldRun(started.runID, attempt: started.attempt, by: session) else { return }
        guard run.state.type == .pending else { return }
        try run.transition(to: .running, at: at, message: "Started as pid \(started.pid).")
        try store.commit([.updateRun(run)])
        activeRuns[run.id] = run
    }

    private mutating func runFinished(
        _ finished: Drover_V1_RunFinished, by session: Reporter, now: Date
    ) throws(DroverError) {
        let at = finished.hasFinished ? try Self.reported(finished.finished, "RunFinished.finished") : now
        guard var run = heldRun(finished.runID, attempt: finished.attempt, by: session) else { return }
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
        try run.transition(to: final, at: at, message: String(finished.message.prefix(4096)))
        try finish(run)
    }

    /// The most lines one LogBatch may carry.
    static let maxLinesInBatch = 500

    private mutating func appendLogs(_ batch: Drover_V1_LogBatch, by session: Reporter, now: Date) throws(DroverError) {
        // Only the worker holding the attempt writes its logs (it sends them before RunFinished).
        guard let id = UUID(uuidString: batch.runID), let run = activeRuns[id], run.workerID == session.id,
            run.attempt == batch.attempt
        else { return }
        guard batch.lines.count <= Self.maxLinesInBatch else {
            throw .invalidArgument("A LogBatch carries at most \(Self.maxLinesInBatch) lines (this one \(batch.lines.count)).")
        }
        var lines: [FlowRunLog] = []
        for line in batch.lines {
            lines.append(
                FlowRunLog(
                    runID: id, attempt: batch.attempt,
                    timestamp: line.hasTimestamp ? try Self.reported(line.timestamp, "LogLine.timestamp") : now,
                    stream: FlowRunLog.Stream(rawValue: line.stream) ?? .worker, text: String(line.text.prefix(16 * 1024)),
                    line: line.line == 0 ? nil : line.line))
        }
        guard !lines.isEmpty else { return }
        try store.commit([.appendLogs(lines)])
    }

    /// A time a worker reported, if it is a valid one.
    private static func reported(_ timestamp: Google_Protobuf_Timestamp, _ field: String) throws(DroverError) -> Date {
        try timestamp.validDate(field: field)
    }

    func listWorkers(_ list: Drover_V1_ListWorkers) throws(DroverError) -> [Drover_V1_Worker] {
        let poolID = list.workPoolName.isEmpty ? nil : try catalog.pool(named: list.workPoolName).id
        let all =
            Array(sessions.values)
            + departed.values.filter { old in
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

/// A session refused with "say Hello again".
struct RefusedSession: Hashable {
    let worker: String
    let session: UInt64
}

/// Who sent a report about a run: the worker's routing id, and its name for logs.
struct Reporter {
    let id: String
    let name: String

    init(id: String, name: String) {
        self.id = id
        self.name = name
    }

    init(_ session: ConnectedWorker) {
        self.init(id: session.id, name: session.name)
    }
}

// Workers that left, and the lines about workers coming and going.
extension Coordinator {
    /// The most departed workers `worker ls` keeps; past it the one seen longest ago goes.
    /// Connections are free to make, so without a bound a peer could grow the list (and
    /// every `worker ls`) without end.
    static let maxDeparted = 1_000

    mutating func rememberDeparted(_ worker: ConnectedWorker) {
        departed[worker.poolName + "/" + worker.name] = worker
        guard departed.count > Self.maxDeparted,
            let oldest = departed.min(by: { $0.value.lastSeen < $1.value.lastSeen })?.key
        else { return }
        departed[oldest] = nil
    }

    /// Logs a line about a worker unless a hundred of its kind went out in the last 10 s;
    /// the next one let through says how many were not logged meanwhile.
    mutating func logWorker(_ kind: String, level: Logger.Level, _ metadata: Logger.Metadata) {
        guard workerLines.allows(kind, now: .now) else { return }
        var metadata = metadata
        let heldBack = workerLines.takeHeldBack(kind)
        if heldBack > 0 { metadata["lines.not_logged"] = "\(heldBack)" }
        logger.log(level: level, "\(kind)", metadata: metadata)
    }
}
