import DroverCore
import Foundation

/// Where the coordinator keeps its state so that it survives a restart.
///
/// The coordinator holds the working copy of what dispatch needs in memory and writes
/// through the store. A plain store's `commit` returns only once the changes are durable,
/// and applies all of them or none; a `GroupCommitStore` records them and makes them
/// durable at `sync`, which the server calls before it acts on any of them.
public protocol Store: Sendable {
    /// Every stored pool and queue.
    func loadCatalog() throws(DroverError) -> WorkPoolCatalog
    /// Every deployment.
    func loadDeployments() throws(DroverError) -> [Deployment]
    /// Every run not in a terminal state, oldest first.
    func loadUnfinishedRuns() throws(DroverError) -> [FlowRun]
    /// One run, in any state.
    func flowRun(id: UUID) throws(DroverError) -> FlowRun?
    /// Runs matching `filter`, newest first.
    func flowRuns(matching filter: FlowRunFilter) throws(DroverError) -> [FlowRun]
    /// A run's log lines after `sequence`, oldest first, at most `limit`.
    func logs(of run: UUID, after sequence: UInt64, limit: Int) throws(DroverError) -> [FlowRunLog]
    /// The scheduled time of every run, in any state (finished ones too), that schedule `slug`
    /// of `deployment` made for a time strictly after `date`, earliest first: the times a
    /// replaced schedule must not make a run for again.
    func scheduledTimes(ofDeployment deployment: UUID, slug: String, after date: Date) throws(DroverError) -> [Date]
    /// Persists `changes` in one transaction, or records them for the next `sync`.
    func commit(_ changes: [StoreChange]) throws(DroverError)
    /// Returns once every change committed so far is durable.
    func sync() throws(DroverError)
}

extension Store {
    /// A store whose `commit` is durable when it returns has nothing to sync.
    public func sync() throws(DroverError) {}

    /// Persists catalog changes in one transaction.
    public func commit(_ changes: [CatalogChange]) throws(DroverError) {
        try commit(changes.map(StoreChange.catalog))
    }
}
