import DroverCore
import DroverProto

/// What each role of key may ask a secure limit service: admin keys everything; worker keys
/// take, renew and give back slots (their runs' processes hold them) and read; viewer keys read.
public enum LimitAccess {
    /// Why `key` may not send `request`; nil when it may. A nil key (revoked since it
    /// connected) may send nothing.
    public static func refusal(of request: Drover_V1_LimitRequest, by key: IssuedKey?) -> DroverError? {
        guard let key else { return ServerSecurity.revokedRefusal }
        let allowed: Bool =
            switch (key.role, request.operation) {
            case (.admin, _): true
            case (_, .listLimits), (_, .getLimit), (_, .watchLimits), (_, nil): true
            case (.worker, .acquire), (.worker, .renew), (.worker, .release): true
            case (_, .acquire), (_, .renew), (_, .release), (_, .createLimit), (_, .updateLimit), (_, .deleteLimit),
                (_, .resetLimit):
                false
            }
        return allowed
            ? nil
            : .permissionDenied(
                "The key '\(key.name)' is \(key.role.keyPhrase): it cannot do this on the limit service. This needs "
                    + (key.role == .viewer ? "a worker or admin key." : "an admin key."))
    }
}
