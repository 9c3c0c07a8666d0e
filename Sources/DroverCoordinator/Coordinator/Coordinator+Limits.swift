import DroverCore
import DroverProto
import Foundation

// Concurrency slots of runs: asked of the limit service before a run is sent, released
// when it ends.
extension Coordinator {
    /// Takes the requests waiting for the limit service.
    public mutating func takeLimitRequests() -> [Drover_V1_LimitRequest] {
        defer { slots.outbox.removeAll(keepingCapacity: true) }
        return slots.outbox
    }

    /// Acts on a reply from the limit service.
    public mutating func handle(limitReply reply: Drover_V1_LimitReply) throws(DroverError) {
        switch slots.receive(reply) {
        case .granted(let run, let worker):
            try perform(try send(run, to: worker))
        case .queued(let id, let position, let blocking):
            guard var run = activeRuns[id], run.state.type == .scheduled, run.state.name != Self.awaitingSlotName else { return }
            let names = blocking.isEmpty ? "its limits" : blocking.map { "'\($0)'" }.joined(separator: ", ")
            try run.transition(
                to: .scheduled, name: Self.awaitingSlotName, at: clock(),
                message: "Waiting for a slot of \(names) (position \(position)).")
            try store.commit([.updateRun(run)])
            activeRuns[id] = run
        case .refused(let run, let reason):
            logger.warning(
                "the limit service refused a run's slots; asking again at the next refresh",
                metadata: ["run.id": "\(run)", "reason": "\(reason)"])
        case .lost(let runs):
            for id in runs {
                guard let run = activeRuns[id] else { continue }
                logger.warning("the limit service lost a run's lease; taking it again", metadata: ["run.id": "\(id)"])
                slots.reacquire(id, tags: run.tags, leaseTTL: settings.runLeaseTTL)
            }
        case .nothing:
            break
        }
    }

    /// The state name of a SCHEDULED run held in line by the limit service.
    static let awaitingSlotName = "AwaitingConcurrencySlot"

    /// When leases are next renewed.
    var nextLimitRefresh: Date { slots.lastRefresh.addingTimeInterval(settings.runLeaseTTL / 3) }

    /// Renews leases and resends the watch and waiting Acquires when it is time.
    mutating func refreshLimitsIfDue(now: Date) {
        guard now >= nextLimitRefresh else { return }
        let runs = activeRuns
        slots.refresh(now: now, tags: { runs[$0]?.tags }, leaseTTL: settings.runLeaseTTL)
    }

    /// Takes `runID` out of the dispatcher, giving back any slots it holds or waits for.
    /// A run of its deployment waiting for the slot this run held goes back to dispatch.
    mutating func removeFromDispatch(_ runID: UUID) -> [DispatchAction] {
        slots.release(runID)
        var actions = dispatcher.removeRun(runID)
        let (names, deployments) = (deploymentNames, self.deployments)
        let limit = { (id: UUID) in names[id].flatMap { deployments[$0] }?.concurrencyLimit }
        for next in concurrency.leave(runID, limit: limit) {
            actions += requeue(next)
        }
        return actions
    }

    /// Puts a run let go by its deployment's limit back in dispatch.
    mutating func requeue(_ runID: UUID) -> [DispatchAction] {
        guard let run = activeRuns[runID], run.state.type == .scheduled else { return removeFromDispatch(runID) }
        return dispatcher.addRun(run.id, pool: run.poolID, queue: run.queueID, expectedStart: run.expectedStart, now: clock())
    }
}
