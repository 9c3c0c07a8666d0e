/// Which connection each worker spoke from last, so that a closed connection names the
/// worker it belonged to: the rules of "a worker whose connection closes is lost at once",
/// with no sockets.
///
/// Connections are known by their file descriptors, which the kernel reuses as soon as one
/// closes, so the table follows the socket monitor's events in order (`accepted`,
/// `disconnected`) and is told of every message (`spoke`) only after every event written
/// before it was read. Then:
/// - a worker's current connection is the one its last message came from; a message from
///   another connection (it reconnected) moves it there, and the old one no longer counts;
/// - a connection that closes loses the worker it is current for, and only that worker:
///   one that already spoke from a newer connection is not lost;
/// - a message from a connection that has already closed says its worker's connection is
///   gone (it said Hello and died at once);
/// - once a worker's connection closed, the connections that have not spoken yet are to be
///   closed (`silentConnectionsToClose`). A worker opens its new socket before it closes the
///   old one, and the dispatch ROUTER (without handover) ignores for good a connection that
///   arrives while its routing id is still taken; closed, it reconnects by itself, before
///   its Hello (sent after a back-off) is lost in it. Anyone else's silent connection just
///   reconnects.
///
/// It holds one entry per open connection, whoever the peer: a peer cannot grow it beyond
/// the connections it holds open.
struct ConnectionTable {
    /// The worker each open connection last carried a message of.
    private var owners: [Int32: String] = [:]
    /// Each worker's current connection.
    private var current: [String: Int32] = [:]
    /// Descriptors whose connection closed, with no newer connection accepted on them yet.
    private var closed: Set<Int32> = []
    /// Open connections that have carried no message yet.
    private var silent: Set<Int32> = []
    /// Whether a worker's connection closed since the silent ones were last closed.
    private(set) var sweepDue = false

    /// What a message says about its sender's connection.
    enum Sighting: Equatable {
        /// The connection is open; it is the worker's current one now.
        case open
        /// The connection closed before the message was read: the worker's connection is gone.
        case alreadyClosed
    }

    /// A connection was accepted on `fd`: a new connection, whatever the number carried before.
    mutating func accepted(_ fd: Int32) {
        closed.remove(fd)
        silent.insert(fd)
        // Its old connection's close was reported first; should it not have been, nothing
        // that connection carried is taken for the new one's.
        if let owner = owners.removeValue(forKey: fd), current[owner] == fd { current[owner] = nil }
    }

    /// The connection on `fd` closed. Returns the worker it was the current connection of.
    mutating func disconnected(_ fd: Int32) -> String? {
        closed.insert(fd)
        silent.remove(fd)
        guard let owner = owners.removeValue(forKey: fd), current[owner] == fd else { return nil }
        current[owner] = nil
        sweepDue = true
        return owner
    }

    /// A message from `worker` came in on `fd`.
    mutating func spoke(_ worker: String, on fd: Int32) -> Sighting {
        if closed.contains(fd) {
            if let fd = current[worker], !closed.contains(fd) {
                // Impossible while one id has one connection; should it happen, the newer
                // connection stands and this message changes nothing.
                return .open
            }
            forget(worker)
            return .alreadyClosed
        }
        silent.remove(fd)
        if let old = current[worker], old != fd, owners[old] == worker { owners[old] = nil }
        if let previous = owners[fd], previous != worker, current[previous] == fd { current[previous] = nil }
        owners[fd] = worker
        current[worker] = fd
        return .open
    }

    /// Forgets `worker`'s connection, so that its close loses nobody.
    mutating func forget(_ worker: String) {
        guard let fd = current.removeValue(forKey: worker) else { return }
        if owners[fd] == worker { owners[fd] = nil }
    }

    /// The connections to close now: once a worker's connection closed, every open one that
    /// has not spoken yet, each once. Call when every message received so far was read, so
    /// that a connection whose first message waits to be read is not taken for silent.
    mutating func silentConnectionsToClose() -> [Int32] {
        guard sweepDue else { return [] }
        sweepDue = false
        defer { silent.removeAll() }
        return silent.sorted()
    }

    /// The connection `worker` spoke from last, while it is open.
    func connection(of worker: String) -> Int32? { current[worker] }

    /// How many connections the table holds an entry for.
    var count: Int { owners.count + silent.count }
}
