import Foundation

/// What a due run does while its deployment is at its concurrency limit.
public enum CollisionStrategy: String, Sendable, Hashable, CaseIterable {
    /// Wait in line, and start the moment a run of the deployment ends.
    case enqueue = "ENQUEUE"
    /// Be cancelled, saying why.
    case cancelNew = "CANCEL_NEW"
}
