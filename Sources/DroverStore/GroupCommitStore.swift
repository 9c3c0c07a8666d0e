import DroverCore
import Foundation
import Synchronization

/// A store that gathers commits and makes them durable together: group commit.
///
/// `commit` only records the changes and cannot fail; `sync` writes everything recorded
/// since the last sync in one transaction (one fsync), writing a run changed several
/// times once, with its last state. Whoever acts on a change — replies to a client,
/// sends to a worker — calls `sync` first, so nothing leaves the server that a crash
/// could take back, while a busy server pays one transaction per wake-up instead of one
/// per change.
///
/// A failed sync is final: the recorded changes were already acted on in memory, so the
/// store refuses everything after it and its owner must stop. Reads sync first, so they
/// see every change recorded before them.
public final class GroupCommitStore: Store {
    private let base: any Store
    private let journal = ChangeJournal<StoreChange>()

    /// Gathers commits for `base`, which commits each batch in one transaction.
    public init(_ base: any Store) {
        self.base = base
    }

    /// Whether changes are recorded but not yet durable.
    public var hasUnsyncedChanges: Bool { journal.hasChanges }

    /// Records `changes`; durable at the next `sync`.
    public func commit(_ changes: [StoreChange]) throws(DroverError) {
        try journal.record(changes)
    }

    /// Writes every recorded change in one transaction; returns once they are durable.
    /// After a failure, throws that failure again on every call.
    public func sync() throws(DroverError) {
        try journal.flush { changes throws(DroverError) in try base.commit(changes.savingEachRunOnce()) }
    }

    public func loadCatalog() throws(DroverError) -> WorkPoolCatalog {
        try sync()
        return try base.loadCatalog()
    }

    public func loadDeployments() throws(DroverError) -> [Deployment] {
        try sync()
        return try base.loadDeployments()
    }

    public func loadUnfinishedRuns() throws(DroverError) -> [FlowRun] {
        try sync()
        return try base.loadUnfinishedRuns()
    }

    public func flowRun(id: UUID) throws(DroverError) -> FlowRun? {
        try sync()
        return try base.flowRun(id: id)
    }

    public func flowRuns(matching filter: FlowRunFilter) throws(DroverError) -> [FlowRun] {
        try sync()
        return try base.flowRuns(matching: filter)
    }

    public func logs(of run: UUID, after sequence: UInt64, limit: Int) throws(DroverError) -> [FlowRunLog] {
        try sync()
        return try base.logs(of: run, after: sequence, limit: limit)
    }

    public func scheduledTimes(ofDeployment deployment: UUID, slug: String, after date: Date) throws(DroverError) -> [Date] {
        try sync()
        return try base.scheduledTimes(ofDeployment: deployment, slug: slug, after: date)
    }
}

/// The limit service's store with group commit, as `GroupCommitStore` is the server's:
/// `commit` records, `sync` writes what was recorded in one transaction, and a failed
/// sync is final.
public final class GroupCommitLimitStore: LimitStore {
    private let base: any LimitStore
    private let journal = ChangeJournal<LimitStoreChange>()

    /// Gathers commits for `base`, which commits each batch in one transaction.
    public init(_ base: any LimitStore) {
        self.base = base
    }

    /// Whether changes are recorded but not yet durable.
    public var hasUnsyncedChanges: Bool { journal.hasChanges }

    public func load() throws(DroverError) -> (limits: [Limit], leases: [Lease]) {
        try sync()
        return try base.load()
    }

    /// Records `changes`; durable at the next `sync`.
    public func commit(_ changes: [LimitStoreChange]) throws(DroverError) {
        try journal.record(changes)
    }

    /// Writes every recorded change in one transaction; returns once they are durable.
    public func sync() throws(DroverError) {
        try journal.flush { changes throws(DroverError) in try base.commit(changes) }
    }
}

/// Changes recorded for a later write, in order; the part both group-commit stores share.
/// After a write fails, it refuses everything: what was recorded had been acted on in memory.
final class ChangeJournal<Change: Sendable>: Sendable {
    private struct State: ~Copyable {
        var changes: [Change] = []
        var failure: DroverError?
    }
    private let state = Mutex(State())

    var hasChanges: Bool { state.withLock { !$0.changes.isEmpty } }

    func record(_ changes: [Change]) throws(DroverError) {
        try state.withLock { (state: inout State) throws(DroverError) in
            if let failure = state.failure { throw failure }
            state.changes.append(contentsOf: changes)
        }
    }

    /// Hands every recorded change to `write`, once, and forgets them; nothing to write is a no-op.
    func flush(_ write: ([Change]) throws(DroverError) -> Void) throws(DroverError) {
        try state.withLock { (state: inout State) throws(DroverError) in
            if let failure = state.failure { throw failure }
            guard !state.changes.isEmpty else { return }
            let batch = state.changes
            state.changes.removeAll(keepingCapacity: true)
            do throws(DroverError) {
                try write(batch)
            } catch {
                state.failure = error
                throw error
            }
        }
    }
}

extension [StoreChange] {
    /// The same changes, with a run written several times written once: its last state, at
    /// the place of its first write (where what it refers to is known to exist), as a save
    /// if any of its writes was one. A deletion ends the run's sequence, so a write after
    /// it is kept after it.
    func savingEachRunOnce() -> [StoreChange] {
        var firstWrite: [UUID: Int] = [:]
        var result: [StoreChange] = []
        result.reserveCapacity(count)
        for change in self {
            switch change {
            case .saveRun(let run), .updateRun(let run):
                guard let index = firstWrite[run.id] else {
                    firstWrite[run.id] = result.count
                    result.append(change)
                    continue
                }
                if case .updateRun = change, case .updateRun = result[index] {
                    result[index] = change
                } else {
                    result[index] = .saveRun(run)
                }
            case .deleteRun(let id):
                firstWrite[id] = nil
                result.append(change)
            default:
                result.append(change)
            }
        }
        return result
    }
}
