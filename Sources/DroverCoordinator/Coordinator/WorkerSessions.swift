import Foundation

/// The sessions of connected workers by routing id, indexed by pool and name too, so that
/// admitting a worker checks its name without a scan of every session.
struct WorkerSessions {
    private struct Name: Hashable {
        let pool: UUID
        let name: String
    }

    private var byID: [String: ConnectedWorker] = [:]
    private var byName: [Name: String] = [:]

    subscript(id: String) -> ConnectedWorker? {
        get { byID[id] }
        set {
            if let old = byID[id], byName[Name(pool: old.poolID, name: old.name)] == id {
                byName[Name(pool: old.poolID, name: old.name)] = nil
            }
            byID[id] = newValue
            if let newValue { byName[Name(pool: newValue.poolID, name: newValue.name)] = id }
        }
    }

    @discardableResult
    mutating func removeValue(forKey id: String) -> ConnectedWorker? {
        let session = byID[id]
        self[id] = nil
        return session
    }

    var values: Dictionary<String, ConnectedWorker>.Values { byID.values }

    /// The connected worker named `name` in `pool`, if there is one.
    func session(named name: String, inPool pool: UUID) -> ConnectedWorker? {
        byName[Name(pool: pool, name: name)].flatMap { byID[$0] }
    }
}
