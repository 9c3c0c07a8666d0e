import Foundation

/// One entry of a run's state history.
public struct FlowRunStateRecord: Sendable, Hashable {
    public let type: StateType
    /// "Scheduled", "Late", "AwaitingRetry", "Pending", "Running", "Completed", …
    public let name: String
    public let timestamp: Date
    public let message: String

    public init(type: StateType, name: String, timestamp: Date, message: String = "") {
        self.type = type
        self.name = name
        self.timestamp = timestamp
        self.message = message
    }
}

/// A flow run: one execution of a deployment's command, possibly over several attempts.
public struct FlowRun: Sendable, Hashable, Identifiable {
    public let id: UUID
    public let name: String
    public let deploymentID: UUID
    public let poolID: UUID
    public let queueID: UUID
    public let tags: [String]
    public let parameters: [String: JSONValue]
    public let jobVariables: [String: JSONValue]
    /// The command, fixed when the run was created.
    public let command: String
    /// When the run is due; moves forward for a retry.
    public var expectedStart: Date
    public private(set) var history: [FlowRunStateRecord]
    /// The dispatch attempt, a fencing token: 0 until first dispatched, then 1, 2, …
    public var attempt: UInt32
    public let retries: UInt32
    public let retryDelaySeconds: UInt32
    /// The worker holding the run while it is PENDING, RUNNING or CANCELLING.
    public var workerID: String?
    public var workerName: String?
    public var exitCode: Int32?
    public var startTime: Date?
    public var endTime: Date?
    public let created: Date
    /// The slug of the schedule that made the run, and the time it made it for; nil for a
    /// run made by hand. One run exists per (deployment, slug, time).
    public let scheduleSlug: String?
    public let scheduledTime: Date?

    public init(
        id: UUID, name: String, deploymentID: UUID, poolID: UUID, queueID: UUID, tags: [String],
        parameters: [String: JSONValue], jobVariables: [String: JSONValue], command: String, expectedStart: Date,
        retries: UInt32, retryDelaySeconds: UInt32, created: Date,
        history: [FlowRunStateRecord]? = nil, attempt: UInt32 = 0, workerID: String? = nil,
        workerName: String? = nil, exitCode: Int32? = nil, startTime: Date? = nil, endTime: Date? = nil,
        scheduleSlug: String? = nil, scheduledTime: Date? = nil
    ) {
        self.id = id
        self.name = name
        self.deploymentID = deploymentID
        self.poolID = poolID
        self.queueID = queueID
        self.tags = tags
        self.parameters = parameters
        self.jobVariables = jobVariables
        self.command = command
        self.expectedStart = expectedStart
        self.retries = retries
        self.retryDelaySeconds = retryDelaySeconds
        self.created = created
        self.history = history ?? [FlowRunStateRecord(type: .scheduled, name: "Scheduled", timestamp: created)]
        self.attempt = attempt
        self.workerID = workerID
        self.workerName = workerName
        self.exitCode = exitCode
        self.startTime = startTime
        self.endTime = endTime
        self.scheduleSlug = scheduleSlug
        self.scheduledTime = scheduledTime
    }

    /// The current state.
    public var state: FlowRunStateRecord { history[history.count - 1] }

    /// Moves the run to a new state, or throws when the state machine forbids it.
    public mutating func transition(
        to type: StateType, name: String? = nil, at time: Date, message: String = ""
    ) throws(DroverError) {
        let current = state.type
        guard current.allowedNext.contains(type) else {
            throw .failedPrecondition(
                "Flow run '\(self.name)' is \(current.rawValue) and cannot become \(type.rawValue).")
        }
        history.append(FlowRunStateRecord(type: type, name: name ?? type.defaultName, timestamp: time, message: message))
        switch type {
        case .running: startTime = startTime ?? time
        case .completed, .failed, .crashed, .cancelled: endTime = time
        case .scheduled:
            workerID = nil
            workerName = nil
        case .pending, .cancelling: break
        }
    }

    /// Whether a schedule made the run and it has never been tried: the runs a schedule
    /// change may replace and a catch-up policy may cancel.
    public var isUntriedScheduled: Bool {
        scheduleSlug != nil && state.type == .scheduled && state.name == "Scheduled" && attempt == 0
    }

    /// How many attempts ended FAILED, or were lost with their worker after they started
    /// and retried (RUNNING → SCHEDULED). Attempts lost before they started do not count.
    public var failures: Int {
        history.indices.count { index in
            history[index].type == .failed
                || (index > 0 && history[index].type == .scheduled && history[index - 1].type == .running)
        }
    }

    /// Whether a FAILED attempt, just recorded, should be tried again.
    public var hasRetriesLeft: Bool { failures <= Int(retries) }

    /// The state name users see, with Late for a SCHEDULED run past due by more than `grace`.
    public func displayStateName(now: Date, lateAfter grace: TimeInterval = 15) -> String {
        if state.type == .scheduled && state.name == "Scheduled" && now.timeIntervalSince(expectedStart) > grace {
            return "Late"
        }
        return state.name
    }
}
