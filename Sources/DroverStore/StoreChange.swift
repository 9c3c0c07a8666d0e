import DroverCore
import Foundation

/// One change the coordinator asks the store to persist.
public enum StoreChange: Sendable, Hashable {
    case catalog(CatalogChange)
    case saveDeployment(Deployment)
    case deleteDeployment(id: UUID)
    case saveRun(FlowRun)
    case deleteRun(id: UUID)
    case appendLogs([FlowRunLog])
}
