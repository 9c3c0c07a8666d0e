import Foundation

/// Which runs of each deployment hold one of its concurrency slots, and which wait for one.
///
/// A run takes a slot when it is handed to a worker and gives it back when it leaves its
/// worker (it ended, went back in line, or was cancelled or deleted). A due run of a
/// deployment at its limit either waits here (`ENQUEUE`) — out of dispatch, so it keeps no
/// worker's credit — or is cancelled (`CANCEL_NEW`). When a slot frees, the oldest waiting
/// run is let go; it keeps the slot reserved until it is admitted, so a newer run cannot
/// overtake it. No sockets and no clock: the coordinator tells it what happened.
public struct DeploymentConcurrency: Sendable {
    /// What to do with a run about to be handed to a worker.
    public enum Admission: Sendable, Hashable {
        /// It holds a slot now (or already did): send it.
        case admit
        /// It waits for a slot: take it out of dispatch.
        case wait
        /// The deployment is full and its strategy is CANCEL_NEW: cancel it.
        case cancel(inFlight: Int)
    }

    private var holders: [UUID: Set<UUID>] = [:]
    /// Runs let go to take a freed slot, not yet admitted: the slot is theirs.
    private var released: [UUID: Set<UUID>] = [:]
    /// Waiting runs of each deployment, oldest due first.
    private var waiting: [UUID: [(run: UUID, due: Date)]] = [:]
    /// The deployment of every run known here.
    private var deploymentOf: [UUID: UUID] = [:]
    /// Runs of CANCEL_NEW deployments, to look at when they fall due.
    private var dueChecks = MinHeap<RunTicket>()
    private var nextCheckSequence: UInt64 = 0

    public init() {}

    /// Runs of `deployment` holding a slot.
    public func inFlight(_ deployment: UUID) -> Int { holders[deployment]?.count ?? 0 }

    /// Runs of `deployment` waiting for a slot, oldest first.
    public func waitingRuns(_ deployment: UUID) -> [UUID] { waiting[deployment]?.map(\.run) ?? [] }

    /// Decides for `run`, due at `due`, which is about to go to a worker.
    public mutating func admit(
        _ run: UUID, of deployment: UUID, due: Date, limit: UInt32?, strategy: CollisionStrategy
    ) -> Admission {
        if holders[deployment]?.contains(run) == true { return .admit }
        let reservedForOthers = (released[deployment]?.count ?? 0) - (released[deployment]?.contains(run) == true ? 1 : 0)
        if let limit, inFlight(deployment) + reservedForOthers >= Int(limit) {
            switch strategy {
            case .cancelNew: return .cancel(inFlight: inFlight(deployment))
            case .enqueue:
                released[deployment]?.remove(run)
                var line = waiting[deployment, default: []]
                if !line.contains(where: { $0.run == run }) {
                    let index = line.firstIndex { $0.due > due } ?? line.endIndex
                    line.insert((run, due), at: index)
                }
                waiting[deployment] = line
                deploymentOf[run] = deployment
                return .wait
            }
        }
        released[deployment]?.remove(run)
        holders[deployment, default: []].insert(run)
        deploymentOf[run] = deployment
        return .admit
    }

    /// `run` was in flight when the server restarted: it holds its slot, whatever the limit.
    public mutating func restore(_ run: UUID, of deployment: UUID) {
        holders[deployment, default: []].insert(run)
        deploymentOf[run] = deployment
    }

    /// `run` left dispatch: it frees its slot, reservation or place in line. Returns the
    /// waiting runs to let go now, oldest first.
    public mutating func leave(_ run: UUID, limit: (UUID) -> UInt32?) -> [UUID] {
        guard let deployment = deploymentOf.removeValue(forKey: run) else { return [] }
        let held = holders[deployment]?.remove(run) != nil
        let reserved = released[deployment]?.remove(run) != nil
        waiting[deployment]?.removeAll { $0.run == run }
        return held || reserved ? release(deployment, limit: limit(deployment)) : []
    }

    // MARK: CANCEL_NEW when due

    /// Asks to be told when `run` falls due at `due`, so that a run of a full CANCEL_NEW
    /// deployment is cancelled then, even while something else (a pool or queue limit, no
    /// worker) would have kept it in line.
    public mutating func checkWhenDue(_ run: UUID, at due: Date) {
        nextCheckSequence += 1
        dueChecks.insert(RunTicket(due: due, sequence: nextCheckSequence, runID: run))
    }

    /// When the next run to check falls due.
    public var nextCheck: Date? { dueChecks.first?.due }

    /// The runs to check that fell due by `now`, in order; the caller looks at each.
    public mutating func dueRuns(now: Date) -> [UUID] {
        var due: [UUID] = []
        while let first = dueChecks.first, first.due <= now {
            dueChecks.removeFirst()
            due.append(first.runID)
        }
        return due
    }

    /// Whether `run` holds (or has been let go to take) a slot of `deployment`.
    public func isAdmitted(_ run: UUID, of deployment: UUID) -> Bool {
        holders[deployment]?.contains(run) == true || released[deployment]?.contains(run) == true
    }

    /// Lets go as many waiting runs of `deployment` as `limit` has free slots (all with no
    /// limit): after a run left, or after the limit changed.
    public mutating func release(_ deployment: UUID, limit: UInt32?) -> [UUID] {
        var free = limit.map { Int($0) - inFlight(deployment) - (released[deployment]?.count ?? 0) } ?? Int.max
        var freed: [UUID] = []
        while free > 0, var line = waiting[deployment], !line.isEmpty {
            let next = line.removeFirst()
            waiting[deployment] = line.isEmpty ? nil : line
            released[deployment, default: []].insert(next.run)
            freed.append(next.run)
            free -= 1
        }
        if holders[deployment]?.isEmpty == true { holders[deployment] = nil }
        if released[deployment]?.isEmpty == true { released[deployment] = nil }
        return freed
    }
}
