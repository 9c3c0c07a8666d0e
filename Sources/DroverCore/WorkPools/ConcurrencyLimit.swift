import Foundation

/// Bounds shared by every concurrency limit and priority users can set.
public enum ConcurrencyLimit {
    /// The largest limit accepted; anything above is surely a typo.
    public static let maximum: UInt32 = 1_000_000

    /// Checks a limit from a request: 0 (hold all runs) through `maximum`.
    public static func validate(_ limit: UInt32, of subject: String) throws(DroverError) {
        guard limit <= maximum else {
            throw .invalidArgument(
                "Concurrency limit for \(subject) must be between 0 and \(maximum); got \(limit).")
        }
    }

    /// Parses a limit typed by a user, with a message that says what is wrong.
    public static func parse(_ text: String, of subject: String) throws(DroverError) -> UInt32 {
        guard let value = Int64(text.trimmingCharacters(in: .whitespaces)) else {
            throw .invalidArgument("Concurrency limit for \(subject) must be a whole number; got '\(text)'.")
        }
        guard value >= 0 else {
            throw .invalidArgument("Concurrency limit for \(subject) cannot be negative; got \(value).")
        }
        guard value <= Int64(maximum) else {
            throw .invalidArgument(
                "Concurrency limit for \(subject) must be between 0 and \(maximum); got \(value).")
        }
        return UInt32(value)
    }
}

/// Work queue priorities: 1 goes first.
public enum QueuePriority {
    /// The largest priority accepted.
    public static let maximum: UInt32 = 1_000_000

    public static func validate(_ priority: UInt32) throws(DroverError) {
        guard (1...maximum).contains(priority) else {
            throw .invalidArgument("Priority must be between 1 (first) and \(maximum); got \(priority).")
        }
    }
}
