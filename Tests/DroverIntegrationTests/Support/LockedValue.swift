import Foundation

/// A value shared between threads behind a lock.
final class LockedValue<Value: Sendable>: @unchecked Sendable {
    private let lock = NSLock()
    private var stored: Value

    init(_ value: Value) { stored = value }

    var value: Value { lock.withLock { stored } }

    func set(_ value: Value) { lock.withLock { stored = value } }
}

extension LockedValue {
    /// Stores `value` if nothing is stored yet; true if it did.
    func set<Wrapped>(ifNil value: Wrapped) -> Bool where Value == Wrapped? {
        lock.withLock {
            guard stored == nil else { return false }
            stored = value
            return true
        }
    }
}
