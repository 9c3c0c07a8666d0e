import DroverCore

/// Where the coordinator keeps its state so that it survives a restart.
///
/// The coordinator holds the working copy in memory and writes through the store:
/// `commit` returns only once the changes are durable, and applies all of them or none.
public protocol Store: Sendable {
    /// Every stored pool and queue.
    func loadCatalog() throws(DroverError) -> WorkPoolCatalog
    /// Persists `changes` in one transaction.
    func commit(_ changes: [CatalogChange]) throws(DroverError)
}
