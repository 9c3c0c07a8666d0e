import DroverCore
import DroverProto
import DroverStore
import Foundation
import Logging
import SwiftProtobuf

/// Everything the server knows and decides, owned by the event loop's thread.
///
/// Holds the working copy of pools, queues, deployments and unfinished runs, the
/// dispatcher, and the sessions of connected workers. Control requests, worker messages
/// and timer ticks come in as plain values; replies come back, and messages for workers
/// collect in `outbox` for the loop to send. Every change is committed to the store
/// before it is acknowledged or acted on: with a `GroupCommitStore`, the loop calls `sync`
/// before it sends what a batch of messages produced. No sockets here: tests drive it directly.
public struct Coordinator {
    /// Tunables of dispatch and liveness.
    public struct Settings: Sendable {
        /// How often workers heartbeat; a worker silent for `missedHeartbeats` intervals is lost.
        public var heartbeatInterval: TimeInterval = 2
        public var missedHeartbeats = 3
        /// How long a worker has between SIGTERM and SIGKILL when a run is cancelled.
        public var cancelGracePeriod: TimeInterval = 10
        /// A SCHEDULED run this late is shown as Late.
        public var lateAfter: TimeInterval = 15
        /// How long the lease of a run's concurrency slots lasts unless renewed (renewed every
        /// third of it): how long a dead server's slots stay taken on a shared limit service.
        public var runLeaseTTL: TimeInterval = 30
        /// How far ahead schedules make their runs.
        public var horizon = ScheduleHorizon()
        /// How often the scheduler tops up every schedule's runs (it also does at every change).
        public var schedulingInterval: TimeInterval = 60

        public init() {}

        var workerTimeout: TimeInterval { heartbeatInterval * Double(missedHeartbeats) }

        /// Extra time runs in flight at a restart give their worker to reconnect, beyond the
        /// liveness timeout: the worker's reconnection back-off (at most 2 s) and a heartbeat.
        public var reconnectAllowance: TimeInterval = 5

        /// How long runs in flight at a restart wait for their worker to claim them.
        var restartGrace: TimeInterval { workerTimeout + reconnectAllowance }
    }

    var catalog: WorkPoolCatalog
    var deployments: [String: Deployment] = [:]
    /// Deployment names by id, to find a run's deployment at once.
    var deploymentNames: [UUID: String] = [:]
    /// Runs not yet in a terminal state.
    var activeRuns: [UUID: FlowRun] = [:]
    var dispatcher: Dispatcher
    /// Concurrency slots of runs, asked of the limit service.
    var slots: RunSlots
    var sessions = WorkerSessions()
    /// Job configurations by deployment id, rendered for runs without job variables of their
    /// own; emptied by any change to the catalog or to a deployment.
    var renderedConfigurations: [UUID: Google_Protobuf_Struct] = [:]
    /// Which runs hold, or wait for, a slot of their deployment's concurrency limit.
    var concurrency = DeploymentConcurrency()
    /// When the scheduler next tops up every schedule's runs.
    var nextScheduling = Date.distantPast
    /// Whether the scheduler ran since the server started (the first run catches up).
    var startedScheduling = false
    /// Workers that left, by pool and name, for `worker ls`.
    var departed: [String: ConnectedWorker] = [:]
    /// Messages for workers, by routing id, in order; the loop sends and empties it.
    public internal(set) var outbox: [(worker: String, message: Drover_V1_CoordinatorMessage)] = []
    /// Workers whose reports were applied since the last outbox was taken: each hears of it.
    var acknowledgementsDue: Set<String> = []
    /// Sessions refused with "say Hello again" since the last outbox was taken: one answer each.
    var refusedSessions: Set<RefusedSession> = []
    /// Warnings about what peers send, at most one of a kind every few seconds.
    var peerWarnings = WarningGate()
    /// Lines about workers coming and going: a fleet starting shows each worker, a flood of
    /// Hellos (or of connections) a hundred lines per 10 s and the count of the rest.
    var workerLines = WarningGate(interval: .seconds(10), burst: 100)

    let store: any Store
    let settings: Settings
    let serverInfo: Drover_V1_ServerInfo
    let logger: Logger
    let clock: @Sendable () -> Date

    /// Loads pools, queues, deployments and unfinished runs from `store`.
    public init(
        store: any Store, serverInfo: Drover_V1_ServerInfo, logger: Logger, settings: Settings = Settings(),
        now: @escaping @Sendable () -> Date = { Date() }
    ) throws(DroverError) {
        self.catalog = try store.loadCatalog()
        self.store = store
        self.serverInfo = serverInfo
        self.logger = logger
        self.settings = settings
        self.clock = now
        self.dispatcher = Dispatcher(workerTimeout: settings.workerTimeout)
        self.slots = RunSlots(now: now())
        slots.watch()
        for deployment in try store.loadDeployments() {
            deployments[deployment.name] = deployment
            deploymentNames[deployment.id] = deployment.name
        }
        for pool in catalog.pools {
            _ = dispatcher.setPool(PoolRules(pool, queues: (try? catalog.queues(inPool: pool.name)) ?? []))
        }
        let start = now()
        var inFlight: [UUID] = []
        for run in try store.loadUnfinishedRuns() {
            activeRuns[run.id] = run
            if run.state.type == .scheduled {
                _ = dispatcher.addRun(run.id, pool: run.poolID, queue: run.queueID, expectedStart: run.expectedStart, now: start)
                watchForCollision(run)
            } else {
                // Its worker gets `restartGrace` to reconnect and claim it; it keeps its slots.
                dispatcher.restoreInFlightRun(
                    run.id, pool: run.poolID, queue: run.queueID, now: start, grace: settings.restartGrace)
                concurrency.restore(run.id, of: run.deploymentID)
                inFlight.append(run.id)
            }
        }
        slots.adopt(inFlight)
        if !activeRuns.isEmpty {
            logger.info("restored unfinished flow runs", metadata: ["runs": "\(activeRuns.count)"])
        }
        // Before any worker can take a run missed while the server was down.
        try scheduleIfDue(now: start)
    }

    /// When `tick` next has work: a run falls due, a worker may have gone silent, leases
    /// need renewing, or schedules need more runs.
    public func nextDeadline() -> Date? {
        min(dispatcher.nextDeadline() ?? .distantFuture, nextLimitRefresh, nextScheduling, concurrency.nextCheck ?? .distantFuture)
    }

    /// Makes scheduled runs, moves due runs to workers, deals with silent workers, and renews leases.
    public mutating func tick() throws(DroverError) {
        let now = clock()
        refreshLimitsIfDue(now: now)
        try scheduleIfDue(now: now)
        try cancelCollidingRuns(now: now)
        try perform(dispatcher.tick(now: now))
    }

    /// Makes every change committed so far durable. The loop calls it before it sends
    /// anything, so no reply or message leaves for a change a crash could undo.
    public func sync() throws(DroverError) {
        try store.sync()
    }

    /// Takes the messages waiting for workers. Each tells its worker how far its reports
    /// are applied; a worker with reports applied and nothing else to hear gets a
    /// HeartbeatAck for it. The loop sends them only after `sync`, so an acknowledged report
    /// is a durable one.
    public mutating func takeOutbox() -> [(worker: String, message: Drover_V1_CoordinatorMessage)] {
        defer {
            outbox.removeAll(keepingCapacity: true)
            acknowledgementsDue.removeAll(keepingCapacity: true)
            refusedSessions.removeAll(keepingCapacity: true)
        }
        if !acknowledgementsDue.isEmpty {
            for (worker, _) in outbox { acknowledgementsDue.remove(worker) }
            for worker in acknowledgementsDue.sorted() where sessions[worker] != nil {
                send(.heartbeatAck(.init()), to: worker)
            }
        }
        for index in outbox.indices {
            guard let connected = sessions[outbox[index].worker], connected.session == outbox[index].message.session else { continue }
            outbox[index].message.acknowledged = connected.ledger.applied
        }
        return outbox
    }

    /// Applies `body` to a copy of the catalog, commits its changes, and only then keeps the copy.
    mutating func mutateCatalog<T>(
        _ body: (inout WorkPoolCatalog) throws(DroverError) -> (T, [CatalogChange])
    ) throws(DroverError) -> T {
        var next = catalog
        let (result, changes) = try body(&next)
        try store.commit(changes)
        catalog = next
        renderedConfigurations.removeAll()
        return result
    }

    /// Tells the dispatcher a pool's current rules, after any change to the pool or its queues.
    mutating func refreshDispatchRules(poolNamed name: String) throws(DroverError) {
        guard let pool = try? catalog.pool(named: name) else { return }
        try perform(dispatcher.setPool(PoolRules(pool, queues: try catalog.queues(inPool: name))))
    }
}

/// A connected (or recently departed) worker.
struct ConnectedWorker: Sendable {
    let id: String
    let name: String
    let poolID: UUID
    let poolName: String
    let queueNames: [String]
    let limit: UInt32?
    let host: String
    let pid: UInt32
    let version: String
    /// Its session, the Hello it answered, and how far its reports were applied.
    var ledger: SessionLedger
    /// The Welcome it was sent, sent again if the same Hello comes again.
    var welcome = Drover_V1_Welcome()
    let connected: Date
    var lastSeen: Date
    var online = true

    var session: UInt64 { ledger.session }
}
