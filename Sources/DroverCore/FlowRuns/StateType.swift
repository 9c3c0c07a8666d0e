/// The kinds of state a flow run moves through, as Prefect names them.
///
/// ```
/// SCHEDULED → PENDING → RUNNING → COMPLETED | FAILED | CRASHED
///     │          │         └────→ CANCELLING → CANCELLED (or CANCELLED at once when the worker stops it)
///     └→ CANCELLED   (PENDING → SCHEDULED when its worker is lost before starting it)
/// FAILED → SCHEDULED ("AwaitingRetry") while retries are left
/// SCHEDULED → SCHEDULED ("AwaitingConcurrencySlot") while the limit service holds it in line
/// ```
public enum StateType: String, Sendable, CaseIterable, Codable {
    case scheduled = "SCHEDULED"
    case pending = "PENDING"
    case running = "RUNNING"
    case completed = "COMPLETED"
    case failed = "FAILED"
    case crashed = "CRASHED"
    case cancelling = "CANCELLING"
    case cancelled = "CANCELLED"

    /// A run in a terminal state never changes again (except FAILED → AwaitingRetry,
    /// decided at the moment it fails).
    public var isTerminal: Bool {
        switch self {
        case .completed, .failed, .crashed, .cancelled: true
        case .scheduled, .pending, .running, .cancelling: false
        }
    }

    /// Whether a run in this state holds a slot of its pool, queue and worker.
    public var occupiesSlot: Bool {
        self == .pending || self == .running || self == .cancelling
    }

    /// The state's default display name ("Scheduled", "Pending", …).
    public var defaultName: String {
        rawValue.prefix(1) + rawValue.dropFirst().lowercased()
    }

    /// The states each state may move to; everything else is refused.
    public var allowedNext: Set<StateType> {
        switch self {
        case .scheduled: [.pending, .scheduled, .cancelled]
        case .pending: [.running, .scheduled, .completed, .failed, .crashed, .cancelling, .cancelled]
        // RUNNING → SCHEDULED: its worker was lost and it is retried (AwaitingRetry).
        case .running: [.completed, .failed, .crashed, .cancelling, .cancelled, .scheduled]
        case .cancelling: [.cancelled, .completed, .failed, .crashed]
        case .failed: [.scheduled]
        case .completed, .crashed, .cancelled: []
        }
    }

    /// Parses a state name typed by a user, case-insensitively.
    public static func parse(_ text: String) throws(DroverError) -> StateType {
        guard let state = StateType(rawValue: text.uppercased()) else {
            let known = allCases.map(\.rawValue).joined(separator: ", ")
            throw .invalidArgument("Unknown state '\(ResourceName.printable(text))'. Choose from \(known).")
        }
        return state
    }
}
