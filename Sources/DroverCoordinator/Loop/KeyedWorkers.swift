/// A secure server's workers by the key each said Hello with, checked now and then against
/// the key store, so that revoking a key cuts its workers off within a second.
struct KeyedWorkers {
    /// How often the keys of connected workers are checked (and how long a secure server's
    /// loop sleeps at most).
    static let checkInterval: Duration = .seconds(1)

    private var keys: [String: String] = [:]
    /// When the next check is due; nil: at once.
    private var nextCheck: ContinuousClock.Instant?

    /// `worker` said Hello over a connection authenticated as `key`.
    mutating func saidHello(_ worker: String, key: String) {
        keys[worker] = key
    }

    /// The connected workers whose key is no longer active, when a check is due; they, and
    /// the workers no longer connected, are forgotten.
    mutating func revoked(
        now: ContinuousClock.Instant, isActive: (String) -> Bool, isConnected: (String) -> Bool
    ) -> [(worker: String, key: String)] {
        guard nextCheck.map({ now >= $0 }) ?? true, !keys.isEmpty else { return [] }
        nextCheck = now + Self.checkInterval
        keys = keys.filter { worker, _ in isConnected(worker) }
        // One lookup per key, not per worker: a host's workers share theirs.
        var active: [String: Bool] = [:]
        let gone = keys.filter { _, key in
            if active[key] == nil { active[key] = isActive(key) }
            return active[key] == false
        }
        for worker in gone.keys { keys[worker] = nil }
        return gone.map { ($0.key, $0.value) }.sorted { $0.worker < $1.worker }
    }
}
