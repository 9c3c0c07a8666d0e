import DroverCore
import Foundation

/// One change the coordinator asks the store to persist.
public enum StoreChange: Sendable, Hashable {
    case catalog(CatalogChange)
    case saveDeployment(Deployment)
    case deleteDeployment(id: UUID)
    /// Inserts a new run, or replaces a stored one whole. A second run for the same
    /// (deployment, schedule slug, scheduled time) fails the commit.
    case saveRun(FlowRun)
    /// Writes what changes over a stored run's life: its state, history, attempt, worker,
    /// exit code, times and expected start. The run must be stored already.
    case updateRun(FlowRun)
    case deleteRun(id: UUID)
    case appendLogs([FlowRunLog])
}
