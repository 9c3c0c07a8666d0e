import Foundation

/// A named limit on slots: a tag limit (`tag:<tag>`), a global concurrency limit, or a
/// rate limit (when `slotDecayPerSecond` is above 0), as Prefect's users know them.
///
/// At most `slots` slots are taken at any instant. Slots are taken under leases that
/// expire unless renewed, and rate-limit slots free themselves at `slotDecayPerSecond`.
/// An inactive limit is not enforced. A limit of 0 slots holds everything that needs it.
public struct Limit: Sendable, Equatable {
    public let id: UUID
    public var name: String
    public var slots: UInt32
    public var isActive: Bool
    public var slotDecayPerSecond: Double
    /// Every flow run takes a slot of it, whatever its tags: a server-wide cap.
    public var appliesToAllRuns: Bool
    public let created: Date
    public var updated: Date

    public init(
        id: UUID = UUID(), name: String, slots: UInt32, isActive: Bool = true, slotDecayPerSecond: Double = 0,
        appliesToAllRuns: Bool = false, created: Date, updated: Date? = nil
    ) {
        self.id = id
        self.name = name
        self.slots = slots
        self.isActive = isActive
        self.slotDecayPerSecond = slotDecayPerSecond
        self.appliesToAllRuns = appliesToAllRuns
        self.created = created
        self.updated = updated ?? created
    }

    /// Whether slots free themselves over time.
    public var isRateLimit: Bool { slotDecayPerSecond > 0 }

    /// The prefix of tag limits' names.
    public static let tagPrefix = "tag:"

    /// The name of the limit of `tag`.
    public static func name(ofTag tag: String) -> String { tagPrefix + tag }

    /// The tag a limit name stands for, if it is a tag limit's.
    public static func tag(ofName name: String) -> String? {
        name.hasPrefix(tagPrefix) ? String(name.dropFirst(tagPrefix.count)) : nil
    }

    /// The largest slot decay accepted, per second.
    public static let maximumDecay: Double = 1_000_000

    /// Checks a limit's name, slots and decay as a request gives them.
    public static func validate(name: String, slots: UInt32, slotDecayPerSecond: Double) throws(DroverError) {
        try ResourceName.validate(name, kind: "concurrency limit")
        if let tag = tag(ofName: name) { try ResourceName.validate(tag, kind: "tag") }
        try ConcurrencyLimit.validate(slots, of: "'\(name)'")
        try validate(slotDecayPerSecond: slotDecayPerSecond)
    }

    /// Checks a slot decay: a finite number from 0 (no decay) up to `maximumDecay`.
    public static func validate(slotDecayPerSecond decay: Double) throws(DroverError) {
        guard decay.isFinite, decay >= 0, decay <= maximumDecay else {
            throw .invalidArgument(
                "Slot decay per second must be a number from 0 (a concurrency limit) to \(Int(maximumDecay)); got \(decay).")
        }
    }
}
