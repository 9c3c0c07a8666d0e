import Foundation

/// Who is waiting for an answer: a client of the limit service (its routing id) and the
/// request id it chose. The limit book only hands it back in replies.
public struct SlotRequester: Hashable, Sendable {
    public let client: [UInt8]
    public let requestID: UInt64

    public init(client: [UInt8], requestID: UInt64) {
        self.client = client
        self.requestID = requestID
    }
}

/// An Acquire: slots of several limits at once, all or nothing.
public struct SlotRequest: Sendable, Equatable {
    public enum Mode: Sendable, Equatable {
        /// Hold the slots under a lease until released or expired.
        case concurrency
        /// Take slots that free themselves at the limits' decay rates.
        case rateLimit
    }

    public var limits: [String]
    public var slots: UInt32
    public var holder: String
    /// nil: the book's default.
    public var leaseTTL: TimeInterval?
    /// false: answer at once.
    public var wait: Bool
    /// With `wait`: give up after this long; nil waits until granted.
    public var timeout: TimeInterval?
    public var mode: Mode
    /// A name that is no limit is an error rather than no limit at all.
    public var strict: Bool
    /// Also take a slot of every limit that applies to all runs.
    public var includeRunLimits: Bool

    public init(
        limits: [String], slots: UInt32 = 1, holder: String = "", leaseTTL: TimeInterval? = nil, wait: Bool = true,
        timeout: TimeInterval? = nil, mode: Mode = .concurrency, strict: Bool = false, includeRunLimits: Bool = false
    ) {
        self.limits = limits
        self.slots = slots
        self.holder = holder
        self.leaseTTL = leaseTTL
        self.wait = wait
        self.timeout = timeout
        self.mode = mode
        self.strict = strict
        self.includeRunLimits = includeRunLimits
    }
}

/// What the limit book answers a requester.
public enum SlotOutcome: Sendable, Equatable {
    /// The slots are taken. A rate-limit grant holds no lease: its lease has no limits to release.
    case granted(Lease)
    /// Waiting; `position` 1 is next in line on its busiest limit.
    case queued(position: Int, blocking: [String])
    case denied(SlotDenial)
}

/// Why an Acquire was turned down.
public struct SlotDenial: Sendable, Equatable {
    public enum Reason: Sendable, Equatable {
        /// A try found no room.
        case busy
        /// A wait ran past its timeout.
        case timedOut
        /// The limits changed so that the request can never be granted.
        case withdrawn
    }

    public let reason: Reason
    public let message: String
    /// A hint for a try: when room may appear.
    public let retryAfter: TimeInterval?

    public init(_ reason: Reason, _ message: String, retryAfter: TimeInterval? = nil) {
        self.reason = reason
        self.message = message
        self.retryAfter = retryAfter
    }
}

/// A change the limit book made, to commit before its replies are sent.
public enum LimitStoreChange: Sendable, Equatable {
    case saveLimit(Limit)
    case deleteLimit(UUID)
    case saveLease(Lease)
    case deleteLease(UUID)
}

/// What one step of the limit book asks of its owner: commit `changes`, then send `replies`.
public struct LimitEffects: Sendable, Equatable {
    public var changes: [LimitStoreChange] = []
    public var replies: [(SlotRequester, SlotOutcome)] = []
    /// The set of limit names, or which apply to all runs, changed: tell the watchers.
    public var catalogChanged = false

    public init() {}

    public var isEmpty: Bool { changes.isEmpty && replies.isEmpty && !catalogChanged }

    public mutating func append(_ other: LimitEffects) {
        changes += other.changes
        replies += other.replies
        catalogChanged = catalogChanged || other.catalogChanged
    }

    public static func == (lhs: LimitEffects, rhs: LimitEffects) -> Bool {
        lhs.changes == rhs.changes && lhs.catalogChanged == rhs.catalogChanged
            && lhs.replies.map(\.0) == rhs.replies.map(\.0) && lhs.replies.map(\.1) == rhs.replies.map(\.1)
    }
}

/// A limit as `inspect` and `ls` show it: its definition and what is taken now.
public struct LimitStatus: Sendable, Equatable {
    public let limit: Limit
    /// Slots taken: leases plus rate-limit slots not yet decayed (rounded up).
    public let activeSlots: UInt32
    public let leases: [Lease]
    /// Acquires waiting that name this limit.
    public let waiting: Int
}

/// The names clients need to know which Acquires to send.
public struct LimitCatalogView: Sendable, Equatable {
    /// Every active limit.
    public let names: [String]
    /// The active limits every flow run takes a slot of.
    public let runLimitNames: [String]
    public let generation: UInt64

    public init(names: [String], runLimitNames: [String], generation: UInt64) {
        self.names = names
        self.runLimitNames = runLimitNames
        self.generation = generation
    }
}
