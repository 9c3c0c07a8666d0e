import Foundation

/// One line of a run's output or of its worker's notes about it.
public struct FlowRunLog: Sendable, Hashable {
    /// Where a line came from.
    public enum Stream: String, Sendable, CaseIterable {
        case stdout
        case stderr
        /// Written by the worker, such as "Worker 'w' submitting flow run …".
        case worker
    }

    /// Increases with every line the store keeps; 0 until stored.
    public let sequence: UInt64
    public let runID: UUID
    public let attempt: UInt32
    public let timestamp: Date
    public let stream: Stream
    public let text: String
    /// The worker's number for the line within its attempt (from 1): a line the worker sends
    /// twice, after a reconnection, is stored once. nil for lines without one.
    public let line: UInt64?

    public init(
        sequence: UInt64 = 0, runID: UUID, attempt: UInt32, timestamp: Date, stream: Stream, text: String,
        line: UInt64? = nil
    ) {
        self.sequence = sequence
        self.line = line
        self.runID = runID
        self.attempt = attempt
        self.timestamp = timestamp
        self.stream = stream
        self.text = text
    }
}

/// Which runs `flow-run ls` wants.
public struct FlowRunFilter: Sendable, Hashable {
    public var poolID: UUID?
    public var deploymentID: UUID?
    public var states: Set<StateType>
    /// At most this many, newest first.
    public var limit: Int

    public init(poolID: UUID? = nil, deploymentID: UUID? = nil, states: Set<StateType> = [], limit: Int = 20) {
        self.poolID = poolID
        self.deploymentID = deploymentID
        self.states = states
        self.limit = limit
    }
}
