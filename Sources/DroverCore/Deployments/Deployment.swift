import Foundation

/// A deployment: what to run (a command with parameters) and where (a pool and queue).
public struct Deployment: Sendable, Hashable, Identifiable {
    public let id: UUID
    /// Unique among deployments; never changes.
    public let name: String
    public let poolID: UUID
    public var queueID: UUID
    /// The shell command a process worker runs; `{{ }}`-free, passed to `/bin/sh -c`.
    public var command: String
    /// Default parameters, passed to runs as `DROVER_PARAMETERS` (JSON).
    public var parameters: [String: JSONValue]
    /// Overrides of the pool template's variables.
    public var jobVariables: [String: JSONValue]
    public var tags: [String]
    /// How many times a FAILED run is tried again.
    public var retries: UInt32
    /// Seconds a failed run waits before its next attempt.
    public var retryDelaySeconds: UInt32
    public var description: String
    public let created: Date
    public var updated: Date
    /// When it runs on its own, in the order they were added.
    public var schedules: [DeploymentSchedule]
    /// A paused deployment's schedules make no runs; runs made by hand still go.
    public var paused: Bool
    /// What becomes of runs missed while the server was down or the pool was paused.
    public var catchUp: CatchUpPolicy
    /// The most runs of this deployment that may be in flight at once; nil: unlimited.
    public var concurrencyLimit: UInt32?
    /// What a due run does while the deployment is at its concurrency limit.
    public var collisionStrategy: CollisionStrategy
    /// Whether a run whose worker was lost is retried (while it has retries left). Off for
    /// jobs that must never run twice: a lost worker may have run part of the job.
    public var retryCrashed: Bool

    public init(
        id: UUID, name: String, poolID: UUID, queueID: UUID, command: String, parameters: [String: JSONValue],
        jobVariables: [String: JSONValue], tags: [String], retries: UInt32, retryDelaySeconds: UInt32,
        description: String, created: Date, updated: Date, schedules: [DeploymentSchedule] = [], paused: Bool = false,
        catchUp: CatchUpPolicy = .all, concurrencyLimit: UInt32? = nil, collisionStrategy: CollisionStrategy = .enqueue,
        retryCrashed: Bool = true
    ) {
        self.id = id
        self.name = name
        self.poolID = poolID
        self.queueID = queueID
        self.command = command
        self.parameters = parameters
        self.jobVariables = jobVariables
        self.tags = tags
        self.retries = retries
        self.retryDelaySeconds = retryDelaySeconds
        self.description = description
        self.created = created
        self.updated = updated
        self.schedules = schedules
        self.paused = paused
        self.catchUp = catchUp
        self.concurrencyLimit = concurrencyLimit
        self.collisionStrategy = collisionStrategy
        self.retryCrashed = retryCrashed
    }

    /// The most schedules one deployment may have.
    public static let maximumSchedules = 50

    /// The index of the schedule with slug or id `key`, or throws saying how to find one.
    public func scheduleIndex(_ key: String) throws(DroverError) -> Int {
        let id = UUID(uuidString: key)
        guard let index = schedules.firstIndex(where: { $0.slug == key || $0.id == id }) else {
            let known = schedules.map(\.slug)
            throw .notFound(
                "Deployment '\(name)' has no schedule '\(ResourceName.printable(key))'"
                    + (known.isEmpty ? "." : "; its schedules are \(known.joined(separator: ", ")).")
                    + " List them with `drover deployment schedule ls \(name)`.")
        }
        return index
    }

    /// The most retries a deployment may ask for.
    public static let maximumRetries: UInt32 = 1000
    /// The longest retry delay accepted, in seconds (one week).
    public static let maximumRetryDelaySeconds: UInt32 = 7 * 24 * 3600
    /// The longest command accepted, in bytes.
    public static let maximumCommandBytes = 16 * 1024

    /// Checks the fields users set, or throws saying what is wrong.
    public static func validate(
        command: String, tags: [String], retries: UInt32, retryDelaySeconds: UInt32
    ) throws(DroverError) {
        guard !command.trimmingCharacters(in: .whitespacesAndNewlines).isEmpty else {
            throw .invalidArgument("A deployment needs a command to run: give --command.")
        }
        guard command.utf8.count <= maximumCommandBytes else {
            throw .invalidArgument("The command is \(command.utf8.count) bytes; the most accepted is \(maximumCommandBytes).")
        }
        guard !command.contains("\0") else {
            throw .invalidArgument("The command cannot contain a NUL character.")
        }
        for tag in tags { try ResourceName.validate(tag, kind: "tag") }
        guard retries <= maximumRetries else {
            throw .invalidArgument("Retries must be at most \(maximumRetries); got \(retries).")
        }
        guard retryDelaySeconds <= maximumRetryDelaySeconds else {
            throw .invalidArgument("The retry delay must be at most \(maximumRetryDelaySeconds) seconds; got \(retryDelaySeconds).")
        }
    }
}
