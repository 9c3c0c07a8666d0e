/// What the coordinator remembers of one worker's session: the Hello it answered, and how
/// far the worker's reports were applied. With it a repeated Hello gets the same Welcome
/// (no new session, nothing lost), and a report counts once, and only from the session the
/// worker was welcomed into: knowing a worker's routing id gives nobody its session.
public struct SessionLedger: Sendable, Equatable {
    /// The session number: random, never 0, sent in Welcome and stamped on every message.
    public let session: UInt64
    /// The Hello this session answered.
    public let helloID: UInt64
    /// The highest report number applied in this session.
    public private(set) var applied: UInt64 = 0

    public init(session: UInt64, helloID: UInt64) {
        self.session = session
        self.helloID = helloID
    }

    /// A Hello from the same worker: the one this session answered (its Welcome was lost or
    /// is in flight; answer it the same), or a new one (the worker starts over).
    public func isRepeat(ofHello helloID: UInt64) -> Bool { helloID != 0 && helloID == self.helloID }

    /// What to do with a report.
    public enum ReportVerdict: Sendable, Equatable {
        /// New in this session: apply it.
        case apply
        /// Applied already: acknowledge it again, change nothing.
        case duplicate
        /// Stamped with another session (an old one, or a forgery): refuse it.
        case foreignSession
    }

    /// Judges report number `seq` stamped with `session`. Numbers only grow within a worker's
    /// life, so anything at or below the highest applied one was applied.
    public mutating func admit(report seq: UInt64, session: UInt64) -> ReportVerdict {
        guard session == self.session else { return .foreignSession }
        guard seq == 0 || seq > applied else { return .duplicate }
        applied = seq == 0 ? applied : seq
        return .apply
    }
}
