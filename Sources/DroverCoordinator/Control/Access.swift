import DroverCore
import DroverProto

/// What each role of key may ask a secure server. Admin keys may do everything; worker and
/// viewer keys may read; a worker key serves runs of its pools (all when it names none).
/// Every request kind is classified here, so a new one cannot slip through unclassified.
public enum ControlAccess {
    /// Whether a key of `role` may send `operation`.
    public static func allows(_ role: KeyRole, _ operation: Drover_V1_ControlRequest.OneOf_Operation?) -> Bool {
        role == .admin || isOpenToReaders(operation)
    }

    /// Whether worker and viewer keys may send `operation`: it only reads, and what it reads
    /// is not the keys (which only an admin manages, listing them too).
    public static func isOpenToReaders(_ operation: Drover_V1_ControlRequest.OneOf_Operation?) -> Bool {
        switch operation {
        case nil, .getServerInfo, .getWorkPool, .listWorkPools, .getWorkQueue, .listWorkQueues, .previewWorkPool,
            .listWorkers, .getDeployment, .listDeployments, .listDeploymentSchedules, .listFlowRuns, .getFlowRun,
            .readFlowRunLogs:
            true
        case .createWorkPool, .updateWorkPool, .deleteWorkPool, .createWorkQueue, .updateWorkQueue, .deleteWorkQueue,
            .createDeployment, .updateDeployment, .deleteDeployment, .runDeployment, .createDeploymentSchedule,
            .updateDeploymentSchedule, .deleteDeploymentSchedule, .cancelFlowRun, .deleteFlowRun:
            false
        case .createKey, .listKeys, .revokeKey, .rotateKey:
            false
        }
    }

    /// Whether a key may serve `pool` as a worker.
    public static func mayServe(_ key: IssuedKey, pool: String) -> Bool {
        switch key.role {
        case .admin: true
        case .worker: key.pools.isEmpty || key.pools.contains(pool)
        case .viewer: false
        }
    }

    /// The refusal of a request the key's role does not allow.
    public static func refusal(
        for key: String, role: KeyRole, _ operation: Drover_V1_ControlRequest.OneOf_Operation? = nil
    ) -> DroverError {
        KeyAdministration.handles(operation)
            ? .permissionDenied("The key '\(key)' is \(role.keyPhrase): only an admin key manages keys. This needs an admin key.")
            : .permissionDenied("The key '\(key)' is \(role.keyPhrase): it can read but not change anything. This needs an admin key.")
    }

    /// The refusal of a Hello from a key that may not serve its pool.
    public static func serveRefusal(for key: IssuedKey, pool: String) -> DroverError {
        key.role == .viewer
            ? .permissionDenied("The key '\(key.name)' is a viewer key: it cannot run a worker. This needs a worker key.")
            : .permissionDenied(
                "The key '\(key.name)' serves only \(key.pools.map { "'\($0)'" }.joined(separator: ", ")), not work pool '\(pool)'.")
    }
}
