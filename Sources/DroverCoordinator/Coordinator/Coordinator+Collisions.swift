import DroverCore
import Foundation

// CANCEL_NEW at a run's due time: a run of a full deployment is cancelled when it falls
// due, not only when the dispatcher reaches it, so a pool or queue limit, or a pool without
// a free worker, cannot leave it Late instead (Prefect's #16984).
extension Coordinator {
    /// Has `run` looked at when it falls due, if its deployment cancels new runs when full.
    mutating func watchForCollision(_ run: FlowRun) {
        guard run.attempt == 0, let deployment = deployment(id: run.deploymentID),
            deployment.concurrencyLimit != nil, deployment.collisionStrategy == .cancelNew
        else { return }
        concurrency.checkWhenDue(run.id, at: run.expectedStart)
    }

    /// Cancels the runs that fell due while their CANCEL_NEW deployment was full.
    mutating func cancelCollidingRuns(now: Date) throws(DroverError) {
        for id in concurrency.dueRuns(now: now) {
            guard let run = activeRuns[id], run.state.type == .scheduled, run.attempt == 0,
                let deployment = deployment(id: run.deploymentID), deployment.collisionStrategy == .cancelNew,
                let limit = deployment.concurrencyLimit, !concurrency.isAdmitted(id, of: deployment.id),
                concurrency.inFlight(deployment.id) >= Int(limit)
            else { continue }
            var cancelled = run
            try cancelled.transition(
                to: .cancelled, at: now,
                message: Self.collisionMessage(deployment, inFlight: concurrency.inFlight(deployment.id)))
            try finish(cancelled)
        }
    }

    static func collisionMessage(_ deployment: Deployment, inFlight: Int) -> String {
        "Cancelled: deployment '\(deployment.name)' already has \(inFlight) run\(inFlight == 1 ? "" : "s") in flight, "
            + "its concurrency limit, and its collision strategy is CANCEL_NEW."
    }
}
