import DroverCore
import DroverProto
import DroverStore
import DroverTestSupport
import Foundation
import SwiftProtobuf
import Testing

@testable import DroverCoordinator

/// A clock the test moves by hand.
final class TestClock: @unchecked Sendable {
    private let lock = NSLock()
    private var current: Date

    init(_ start: Date = TestDates.at(0)) {
        current = start
    }

    var now: Date { lock.withLock { current } }

    func advance(by seconds: TimeInterval) {
        lock.withLock { current = current.addingTimeInterval(seconds) }
    }
}

/// One message the coordinator queued for a worker.
typealias Outgoing = (worker: String, message: Drover_V1_CoordinatorMessage)

/// A coordinator over an in-memory store and a hand-moved clock, with fake workers that
/// speak by calling `handle(worker:_:)` and read what comes back from the outbox.
struct CoordinatorHarness {
    /// Default tunables, except that runs restored at a restart wait exactly the liveness
    /// timeout for their worker, which keeps the tests' arithmetic plain.
    static let settings: Coordinator.Settings = {
        var settings = Coordinator.Settings()
        settings.reconnectAllowance = 0
        return settings
    }()

    let store: SQLiteStore
    let clock: TestClock
    var coordinator: Coordinator
    /// The session each fake worker got in its last Welcome.
    var sessions: [String: UInt64] = [:]

    init(store: SQLiteStore? = nil, clock: TestClock = TestClock()) throws {
        let store = try store ?? SQLiteStore()
        self.store = store
        self.clock = clock
        coordinator = try Coordinator(
            store: store, serverInfo: .with { $0.version = "test" }, logger: quietLogger, settings: Self.settings,
            now: { clock.now })
    }

    /// A second coordinator over the same store and clock, as after a restart; workers must say Hello again.
    func restarted() throws -> CoordinatorHarness {
        try CoordinatorHarness(store: store, clock: clock)
    }

    // MARK: Control

    mutating func call(_ operation: Drover_V1_ControlRequest.OneOf_Operation) -> Drover_V1_ControlReply {
        coordinator.handle(.with { $0.requestID = 1; $0.operation = operation })
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
        retryDelaySeconds: UInt32 = 0
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
        let outbox = coordinator.takeOutbox()
        for (to, message) in outbox where to == worker {
            if case .welcome(let welcome)? = message.kind { sessions[worker] = welcome.session }
        }
        return outbox
    }

    /// A message from a fake worker in its current session.
    @discardableResult
    mutating func send(_ worker: String, _ kind: Drover_V1_WorkerMessage.OneOf_Kind) throws -> [Outgoing] {
        try coordinator.handle(worker: worker, .with { $0.session = sessions[worker] ?? 0; $0.kind = kind })
        return coordinator.takeOutbox()
    }

    @discardableResult
    mutating func started(_ worker: String, _ run: String, attempt: UInt32) throws -> [Outgoing] {
        try send(worker, .runStarted(.with { $0.runID = run; $0.attempt = attempt; $0.pid = 99 }))
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
        return coordinator.takeOutbox()
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
