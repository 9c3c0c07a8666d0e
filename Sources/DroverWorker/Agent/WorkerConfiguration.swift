import DroverCore
import Foundation

/// Everything `drover worker start` can be told.
public struct WorkerConfiguration: Sendable {
    /// The server's dispatch endpoint (learned from its control endpoint).
    public var dispatchEndpoint: String
    public var poolName: String
    /// nil: the server generates a name.
    public var name: String?
    /// Most runs at once; nil: unlimited.
    public var limit: UInt32?
    /// Queues to take runs from; empty: every queue of the pool.
    public var queueNames: [String]
    public var type: String
    public var createPoolIfNotFound: Bool
    /// How long a run gets between SIGTERM and SIGKILL when the worker is told to stop it.
    public var terminationGrace: Duration
    /// How long the first connection may take before the worker gives up.
    public var connectTimeout: Duration
    /// The key presented to a secure server; nil: none.
    public var key: KeyFile?
    /// Where that key's file is: runs get it as DROVER_KEY, so a `drover` command inside a
    /// run (taking a concurrency slot, say) presents the worker's key.
    public var keyPath: String?

    public init(
        dispatchEndpoint: String, poolName: String, name: String? = nil, limit: UInt32? = nil,
        queueNames: [String] = [], type: String = "process", createPoolIfNotFound: Bool = false,
        terminationGrace: Duration = .seconds(10), connectTimeout: Duration = .seconds(10), key: KeyFile? = nil,
        keyPath: String? = nil
    ) {
        self.key = key
        self.keyPath = keyPath
        self.dispatchEndpoint = dispatchEndpoint
        self.poolName = poolName
        self.name = name
        self.limit = limit
        self.queueNames = queueNames
        self.type = type
        self.createPoolIfNotFound = createPoolIfNotFound
        self.terminationGrace = terminationGrace
        self.connectTimeout = connectTimeout
    }
}

/// What the worker tells the person who started it, as it happens.
public enum WorkerEvent: Sendable {
    /// Welcomed by the server under this name.
    case started(name: String)
    /// A run arrived and its process started.
    case runStarted(runName: String, runID: String, pid: Int32)
    /// A line of a run's output, when the run streams output.
    case output(runName: String, line: String, isError: Bool)
    /// A run's process ended.
    case runFinished(runName: String, runID: String, outcome: String)
    /// First signal: no new runs; running ones finish.
    case draining(running: Int)
    /// Second signal: running runs are being terminated.
    case terminating(running: Int)
    /// The connection to the server was lost; the worker reconnects by itself.
    case reconnecting
}
