import DroverProto
import Foundation
import Logging

/// A logger that writes nothing, so test output shows only test results.
let quietLogger = Logger(label: "test", factory: { _ in SwiftLogNoOpLogHandler() })

/// The results of limit replies, read without a `switch` in every test.
extension Drover_V1_LimitReply {
    /// The lease of a Granted; nil for any other result.
    var grantedLease: Drover_V1_Lease? {
        if case .granted(let granted)? = result { granted.lease } else { nil }
    }

    /// The Queued; nil for any other result.
    var queuedReply: Drover_V1_Queued? {
        if case .queued(let queued)? = result { queued } else { nil }
    }

    /// The Denied; nil for any other result.
    var deniedReply: Drover_V1_Denied? {
        if case .denied(let denied)? = result { denied } else { nil }
    }

    /// The code of an error reply; nil for any other result.
    var errorCode: Drover_V1_Error.Code? {
        if case .error(let error)? = result { error.code } else { nil }
    }

    /// The limit of a Limit reply; nil for any other result.
    var limitReply: Drover_V1_Limit? {
        if case .limit(let limit)? = result { limit } else { nil }
    }

    /// The catalog of a LimitCatalog reply; nil for any other result.
    var catalogReply: Drover_V1_LimitCatalog? {
        if case .catalog(let catalog)? = result { catalog } else { nil }
    }

    /// The Released; nil for any other result.
    var releasedReply: Drover_V1_Released? {
        if case .released(let released)? = result { released } else { nil }
    }

    /// The Renewed; nil for any other result.
    var renewedReply: Drover_V1_Renewed? {
        if case .renewed(let renewed)? = result { renewed } else { nil }
    }
}

extension Drover_V1_LimitRequest.OneOf_Operation {
    /// Creates a concurrency limit of `slots` slots.
    static func create(_ name: String, slots: UInt32) -> Self {
        .createLimit(
            .with {
                $0.name = name; $0.limit = slots
            })
    }

    /// Reads a limit.
    static func get(_ name: String) -> Self {
        .getLimit(.with { $0.name = name })
    }

    /// One slot of `limit` for `holder`; waits unless `wait` is false.
    static func acquireSlot(
        _ limit: String, holder: String = "", wait: Bool = true, leaseTTLMilliseconds: UInt32 = 0, timeoutMilliseconds: UInt32 = 0
    ) -> Self {
        .acquire(
            .with {
                $0.limits = [limit]
                $0.holder = holder
                $0.wait = wait
                $0.leaseTtlMs = leaseTTLMilliseconds
                $0.timeoutMs = timeoutMilliseconds
            })
    }

    /// Releases leases by id.
    static func releaseLeases(_ leaseIDs: [String]) -> Self {
        .release(.with { $0.leaseIds = leaseIDs })
    }
}
