import DroverCore
import DroverProto
import Foundation
import SwiftProtobuf

// The limit service's values to and from their wire form.

extension Drover_V1_Lease {
    public init(_ lease: Lease) {
        self.init()
        id = lease.limits.isEmpty && lease.ttl == 0 ? "" : lease.id.uuidString.lowercased()
        holder = lease.holder
        limits = lease.limits
        slots = lease.slots
        expires = Google_Protobuf_Timestamp(microsecondsOf: lease.expires)
        ttlMs = UInt32(min(Double(UInt32.max), (lease.ttl * 1000).rounded()))
        created = Google_Protobuf_Timestamp(microsecondsOf: lease.created)
    }
}

extension Drover_V1_Limit {
    public init(_ status: LimitStatus) {
        self.init()
        id = status.limit.id.uuidString.lowercased()
        name = status.limit.name
        limit = status.limit.slots
        active = status.limit.isActive
        slotDecayPerSecond = status.limit.slotDecayPerSecond
        activeSlots = status.activeSlots
        appliesToAllRuns = status.limit.appliesToAllRuns
        leases = status.leases.map(Drover_V1_Lease.init)
        waiting = UInt32(status.waiting)
        created = Google_Protobuf_Timestamp(microsecondsOf: status.limit.created)
        updated = Google_Protobuf_Timestamp(microsecondsOf: status.limit.updated)
    }
}

extension Drover_V1_LimitCatalog {
    public init(_ view: LimitCatalogView) {
        self.init()
        names = view.names
        runLimitNames = view.runLimitNames
        generation = view.generation
    }
}

extension SlotRequest {
    /// The Core request of a wire Acquire; 0 slots means 1, 0 ms means the default TTL or no timeout.
    /// Throws `invalidArgument` for a `mode` this service does not know (a newer client, or a bad one).
    public init(_ acquire: Drover_V1_Acquire) throws(DroverError) {
        self.init(
            limits: acquire.limits, slots: max(1, acquire.slots), holder: acquire.holder,
            leaseTTL: acquire.leaseTtlMs == 0 ? nil : Double(acquire.leaseTtlMs) / 1000, wait: acquire.wait,
            timeout: acquire.wait && acquire.timeoutMs > 0 ? Double(acquire.timeoutMs) / 1000 : nil,
            mode: try Mode(acquire.mode), strict: acquire.strict, includeRunLimits: acquire.includeRunLimits)
    }
}

extension SlotRequest.Mode {
    /// The Core mode of a wire mode; an unknown one is refused, never taken for another.
    public init(_ mode: Drover_V1_AcquireMode) throws(DroverError) {
        switch mode {
        case .concurrency: self = .concurrency
        case .rateLimit: self = .rateLimit
        case .UNRECOGNIZED(let value):
            throw .invalidArgument(
                "Unknown Acquire mode \(value): give CONCURRENCY (0) or RATE_LIMIT (1). "
                    + "The client may be newer than this limit service.")
        }
    }
}

extension Drover_V1_LimitReply.OneOf_Result {
    public init(_ outcome: SlotOutcome) {
        switch outcome {
        case .granted(let lease):
            self = .granted(.with { $0.lease = Drover_V1_Lease(lease) })
        case .queued(let position, let blocking):
            self = .queued(
                .with {
                    $0.position = UInt32(clamping: position)
                    $0.blockingLimits = blocking
                })
        case .denied(let denial):
            self = .denied(
                .with {
                    switch denial.reason {
                    case .busy: $0.reason = .busy
                    case .timedOut: $0.reason = .timedOut
                    case .withdrawn: $0.reason = .withdrawn
                    }
                    $0.message = denial.message
                    if let after = denial.retryAfter { $0.retryAfterMs = UInt32(min(Double(UInt32.max), (after * 1000).rounded(.up))) }
                })
        }
    }
}
