import Foundation

/// Slots held by one holder on one or more limits, until released or until `expires`
/// passes without a renewal.
public struct Lease: Sendable, Equatable {
    public let id: UUID
    /// Who holds the slots, for people: "flow-run/<id>", "pid 42 on host".
    public let holder: String
    /// The limits it holds slots of; a limit deleted or reset drops out.
    public var limits: [String]
    /// Slots per limit.
    public let slots: UInt32
    public let ttl: TimeInterval
    public var expires: Date
    public let created: Date

    public init(
        id: UUID, holder: String, limits: [String], slots: UInt32, ttl: TimeInterval, expires: Date, created: Date
    ) {
        self.id = id
        self.holder = holder
        self.limits = limits
        self.slots = slots
        self.ttl = ttl
        self.expires = expires
        self.created = created
    }

    /// The holder prefix of leases a coordinator takes for flow runs.
    public static let flowRunHolderPrefix = "flow-run/"

    /// The holder name of the lease a coordinator takes for `run`.
    public static func holder(ofRun run: UUID) -> String {
        flowRunHolderPrefix + run.uuidString.lowercased()
    }

    /// The flow run holding this lease, if a coordinator took it for one.
    public var flowRunID: UUID? { Self.flowRunID(ofHolder: holder) }

    /// The flow run a holder name stands for, if a coordinator took the lease for one.
    public static func flowRunID(ofHolder holder: String) -> UUID? {
        guard holder.hasPrefix(flowRunHolderPrefix) else { return nil }
        return UUID(uuidString: String(holder.dropFirst(flowRunHolderPrefix.count)))
    }
}
