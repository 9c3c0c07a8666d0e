import DroverCore
import DroverLimits
import DroverProto
import DroverStore
import DroverTestSupport
import Foundation
import SwiftProtobuf
import Testing

@testable import DroverCoordinator

/// One message the coordinator queued for a worker.
typealias Outgoing = (worker: String, message: Drover_V1_CoordinatorMessage)

/// A coordinator over an in-memory store and a hand-moved clock, with fake workers that
/// speak by calling `handle(worker:_:)` and read what comes back from the outbox. Its
/// requests for the limit service go to a real limit service core over an in-memory store,
/// without sockets, after every step.
struct CoordinatorHarness {
    /// Default tunables, except that runs restored at a restart wait exactly the liveness
    /// timeout for their worker, which keeps the tests' arithmetic plain.
    static let settings: Coordinator.Settings = {
        var settings = Coordinator.Settings()
        settings.reconnectAllowance = 0
        return settings
    }()

    let store: SQLiteStore
    let clock: ManualClock
    var coordinator: Coordinator
    /// The limit service the coordinator talks to; shared by a restarted harness.
    var limits: LimitDesk
    /// Messages for workers taken from the coordinator while carrying limit replies.
    private var pending: [Outgoing] = []
    /// The session each fake worker got in its last Welcome.
    var sessions: [String: UInt64] = [:]

    /// The tunables this harness's coordinator runs with.
    let settings: Coordinator.Settings

    init(
        store: SQLiteStore? = nil, clock: ManualClock = ManualClock(), limits: LimitDesk? = nil,
        settings: Coordinator.Settings = Self.settings
    ) throws {
        let store = try store ?? SQLiteStore()
        self.store = store
        self.clock = clock
        self.settings = settings
        self.limits = try limits ?? LimitDesk(clock: clock)
        coordinator = try Coordinator(
            store: store, serverInfo: .with { $0.version = "test" }, logger: quietLogger, settings: settings,
            now: { clock.now })
        pending = try exchangeLimits()
    }

    /// A second coordinator over the same store, clock and limit service, as after a
    /// restart; workers must say Hello again.
    func restarted() throws -> CoordinatorHarness {
        try CoordinatorHarness(store: store, clock: clock, limits: limits, settings: settings)
    }

    // MARK: Limits

    /// The limit service of the harness: a `LimitServiceCore` reached by plain calls.
    final class LimitDesk {
        var core: LimitServiceCore
        static let coordinatorID: [UInt8] = Array("coordinator".utf8)

        init(clock: ManualClock) throws {
            core = try LimitServiceCore(store: SQLiteLimitStore(path: ":memory:"), logger: quietLogger, now: { clock.now })
        }

        /// A limits request from a client other than the coordinator (a CLI, a script).
        func call(_ operation: Drover_V1_LimitRequest.OneOf_Operation, client: String = "cli") throws -> [LimitDelivery] {
            try core.handle(
                .with {
                    $0.requestID = 1; $0.operation = operation
                }, from: Array(client.utf8))
        }
    }

    /// Carries the coordinator's limit requests to the limit service and its replies back
    /// until both are quiet; returns the worker messages that produced.
    private mutating func exchangeLimits(extra deliveries: [LimitDelivery] = []) throws -> [Outgoing] {
        var outgoing: [Outgoing] = []
        var replies = deliveries.filter { $0.client == LimitDesk.coordinatorID }
        for _ in 0..<100 {
            for reply in replies { try coordinator.handle(limitReply: reply.reply) }
            outgoing += coordinator.takeOutbox()
            let requests = coordinator.takeLimitRequests()
            replies = []
            for request in requests {
                replies += try limits.core.handle(request, from: LimitDesk.coordinatorID)
                    .filter { $0.client == LimitDesk.coordinatorID }
            }
            if replies.isEmpty { return outgoing }
        }
        Issue.record("the coordinator and the limit service did not settle")
        return outgoing
    }

    /// What the coordinator has for workers, after its exchange with the limit service.
    mutating func takeOutbox() throws -> [Outgoing] {
        let earlier = pending
        pending = []
        return earlier + (try exchangeLimits())
    }

    /// A limits request from another client; grants it causes for the coordinator's runs are carried out.
    @discardableResult
    mutating func limitCall(_ operation: Drover_V1_LimitRequest.OneOf_Operation, client: String = "cli") throws -> [LimitDelivery] {
        let deliveries = try limits.call(operation, client: client)
        pending += try exchangeLimits(extra: deliveries)
        return deliveries.filter { $0.client != LimitDesk.coordinatorID }
    }

    /// Moves the clock for the limit service alone (leases expire, waits time out).
    mutating func tickLimits() throws -> [LimitDelivery] {
        let deliveries = try limits.core.tick()
        pending += try exchangeLimits(extra: deliveries)
        return deliveries.filter { $0.client != LimitDesk.coordinatorID }
    }

    // MARK: Control

    mutating func call(_ operation: Drover_V1_ControlRequest.OneOf_Operation) -> Drover_V1_ControlReply {
        coordinator.handle(
            .with {
                $0.requestID = 1; $0.operation = operation
            })
    }

    /// A request expected to succeed; a failure is recorded as an issue.
    @discardableResult
    mutating func ok(
        _ operation: Drover_V1_ControlRequest.OneOf_Operation, sourceLocation: SourceLocation = #_sourceLocation
    ) -> Drover_V1_ControlReply {
        let reply = call(operation)
        if case .error(let error)? = reply.result {
            Issue.record("request failed: \(error.code) \(error.message)", sourceLocation: sourceLocation)
        }
        return reply
    }

    mutating func createPool(_ name: String = "pool", limit: UInt32? = nil, paused: Bool = false) {
        ok(
            .createWorkPool(
                .with {
                    $0.name = name
                    $0.type = "process"
                    if let limit { $0.concurrencyLimit = limit }
                    $0.paused = paused
                }))
    }

    mutating func createDeployment(
        _ name: String = "deploy", pool: String = "pool", queue: String = "", retries: UInt32 = 0,
        retryDelaySeconds: UInt32 = 0, tags: [String] = [], retryCrashed: Bool = true
    ) {
        ok(
            .createDeployment(
                .with {
                    $0.name = name
                    $0.workPoolName = pool
                    $0.workQueueName = queue
                    $0.command = "true"
                    $0.retries = retries
                    $0.retryDelaySeconds = retryDelaySeconds
                    $0.tags = tags
                    if !retryCrashed { $0.retryCrashed = false }
                }))
    }

    /// Runs a deployment; returns the new run as the reply shows it.
    mutating func runDeployment(
        _ name: String = "deploy", expectedStart: Date? = nil, sourceLocation: SourceLocation = #_sourceLocation
    ) -> Drover_V1_FlowRun {
        ok(
            .runDeployment(
                .with {
                    $0.name = name
                    if let expectedStart { $0.expectedStartTime = Google_Protobuf_Timestamp(date: expectedStart) }
                }), sourceLocation: sourceLocation
        ).flowRun
    }

    mutating func flowRun(_ id: String, sourceLocation: SourceLocation = #_sourceLocation) -> Drover_V1_FlowRun {
        ok(.getFlowRun(.with { $0.id = id }), sourceLocation: sourceLocation).flowRun
    }

    mutating func workers(in pool: String = "pool") -> [Drover_V1_Worker] {
        ok(.listWorkers(.with { $0.workPoolName = pool })).workers.workers
    }

    // MARK: Workers

    /// A fake worker says Hello; the session of its Welcome is kept for its later messages.
    @discardableResult
    mutating func hello(
        _ worker: String, pool: String = "pool", name: String? = nil, limit: UInt32? = 1, queues: [String] = [],
        activeRuns: [Drover_V1_ActiveRun] = [], createPool: Bool = false
    ) throws -> [Outgoing] {
        try coordinator.handle(
            worker: worker,
            .with {
                $0.hello = .with {
                    $0.workerID = worker
                    $0.workPoolName = pool
                    $0.name = name ?? worker
                    $0.workQueueNames = queues
                    if let limit { $0.limit = limit }
                    $0.host = "test-host"
                    $0.pid = 4242
                    $0.version = "test"
                    $0.activeRuns = activeRuns
                    $0.createPoolIfNotFound = createPool
                }
            })
        let outbox = try takeOutbox()
        for (to, message) in outbox where to == worker {
            if case .welcome(let welcome)? = message.kind { sessions[worker] = welcome.session }
        }
        return outbox
    }

    /// The number each fake worker gave its last report.
    var reportNumbers: [String: UInt64] = [:]

    /// A message from a fake worker in its current session. A report is numbered as a real
    /// worker numbers it, and must come back acknowledged; the HeartbeatAck that carries
    /// only the acknowledgement is left out of what this returns.
    @discardableResult
    mutating func send(_ worker: String, _ kind: Drover_V1_WorkerMessage.OneOf_Kind) throws -> [Outgoing] {
        let isReport: Bool
        switch kind {
        case .runStarted, .runFinished, .logBatch: isReport = true
        default: isReport = false
        }
        let seq = isReport ? reportNumbers[worker, default: 0] + 1 : 0
        if isReport { reportNumbers[worker] = seq }
        try coordinator.handle(
            worker: worker,
            .with {
                $0.session = sessions[worker] ?? 0; $0.seq = seq; $0.kind = kind
            })
        let outbox = try takeOutbox()
        guard isReport, coordinator.isConnected(worker) else { return outbox }
        #expect(
            outbox.contains { $0.worker == worker && $0.message.acknowledged >= seq },
            "report \(seq) of \(worker) was not acknowledged: \(outbox)")
        return outbox.filter { item in
            guard item.worker == worker, case .heartbeatAck? = item.message.kind else { return true }
            return false
        }
    }

    @discardableResult
    mutating func started(_ worker: String, _ run: String, attempt: UInt32) throws -> [Outgoing] {
        try send(
            worker,
            .runStarted(
                .with {
                    $0.runID = run; $0.attempt = attempt; $0.pid = 99
                }))
    }

    @discardableResult
    mutating func finished(
        _ worker: String, _ run: String, attempt: UInt32, _ outcome: Drover_V1_RunOutcome, exitCode: Int32? = nil
    ) throws -> [Outgoing] {
        try send(
            worker,
            .runFinished(
                .with {
                    $0.runID = run
                    $0.attempt = attempt
                    $0.outcome = outcome
                    if let exitCode { $0.exitCode = exitCode }
                }))
    }

    @discardableResult
    mutating func heartbeat(_ worker: String) throws -> [Outgoing] {
        try send(worker, .heartbeat(.init()))
    }

    /// Moves the clock and lets the coordinator act on it.
    @discardableResult
    mutating func advance(by seconds: TimeInterval) throws -> [Outgoing] {
        clock.advance(by: seconds)
        try coordinator.tick()
        pending += try exchangeLimits(extra: try limits.core.tick())
        return try takeOutbox()
    }
}

/// Runs assigned in an outbox, in order.
func assignments(_ outbox: [Outgoing]) -> [(worker: String, run: String, attempt: UInt32)] {
    outbox.compactMap { item in
        guard case .run(let assignment)? = item.message.kind else { return nil }
        #expect(assignment.attempt == assignment.run.attempt, "the assignment and its run disagree on the attempt")
        return (item.worker, assignment.run.id, assignment.attempt)
    }
}

/// The reject messages in an outbox.
func rejects(_ outbox: [Outgoing]) -> [(worker: String, reject: Drover_V1_Reject)] {
    outbox.compactMap { item in
        guard case .reject(let reject)? = item.message.kind else { return nil }
        return (item.worker, reject)
    }
}

/// The kinds of the messages in an outbox, as short words, for whole-outbox comparisons.
func kinds(_ outbox: [Outgoing]) -> [String] {
    outbox.map { item in
        switch item.message.kind {
        case .welcome: "\(item.worker):welcome"
        case .run: "\(item.worker):run"
        case .cancel: "\(item.worker):cancel"
        case .reject: "\(item.worker):reject"
        case .heartbeatAck: "\(item.worker):ack"
        case .stop: "\(item.worker):stop"
        case nil: "\(item.worker):empty"
        }
    }
}

extension Drover_V1_FlowRun {
    /// The state types of the history, in order.
    var historyTypes: [Drover_V1_StateType] { stateHistory.map(\.type) }
}

extension Drover_V1_ControlReply {
    /// The error code, or nil for a successful reply.
    var errorCode: Drover_V1_Error.Code? {
        if case .error(let error)? = result { error.code } else { nil }
    }
}

extension CoordinatorHarness {
    /// Creates a concurrency limit on the limit service, as `drover gcl create` would.
    mutating func createLimit(
        _ name: String, slots: UInt32, appliesToAllRuns: Bool = false, sourceLocation: SourceLocation = #_sourceLocation
    ) throws {
        let replies = try limitCall(
            .createLimit(
                .with {
                    $0.name = name; $0.limit = slots; $0.appliesToAllRuns = appliesToAllRuns
                }))
        guard case .limit? = replies.first?.reply.result else {
            Issue.record("could not create limit '\(name)': \(String(describing: replies.first?.reply))", sourceLocation: sourceLocation)
            return
        }
    }

    /// A limit as the limit service shows it now: its slots taken, its leases, its waiters.
    mutating func limit(_ name: String, sourceLocation: SourceLocation = #_sourceLocation) throws -> Drover_V1_Limit {
        let replies = try limitCall(.getLimit(.with { $0.name = name }))
        guard case .limit(let limit)? = replies.first?.reply.result else {
            Issue.record("could not read limit '\(name)': \(String(describing: replies.first?.reply))", sourceLocation: sourceLocation)
            return Drover_V1_Limit()
        }
        return limit
    }
}
