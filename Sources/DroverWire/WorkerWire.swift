import DroverCore
import DroverProto
import Foundation
import SwiftProtobuf

// The worker's session (`WorkerSession` in Core) to and from the dispatch protocol's messages.

/// Who a worker is, as every Hello of it says.
public struct WorkerIdentity: Sendable, Equatable {
    /// The routing id: a UUID the worker picks at start.
    public let workerID: String
    public let poolName: String
    /// nil: the server names it.
    public let name: String?
    public let queueNames: [String]
    public let limit: UInt32?
    public let host: String
    public let pid: UInt32
    public let type: String
    public let createPoolIfNotFound: Bool

    public init(
        workerID: String, poolName: String, name: String?, queueNames: [String], limit: UInt32?, host: String, pid: UInt32,
        type: String, createPoolIfNotFound: Bool
    ) {
        self.workerID = workerID
        self.poolName = poolName
        self.name = name
        self.queueNames = queueNames
        self.limit = limit
        self.host = host
        self.pid = pid
        self.type = type
        self.createPoolIfNotFound = createPoolIfNotFound
    }
}

extension Drover_V1_WorkerMessage {
    /// The wire form of a message of `identity`'s session; a Hello after a Welcome keeps the
    /// name the server gave (`assignedName`).
    public init(_ outgoing: WorkerSession.Outgoing, identity: WorkerIdentity, assignedName: String) {
        self.init()
        session = outgoing.session
        switch outgoing.kind {
        case .hello(let id, let activeRuns):
            hello = .with {
                $0.helloID = id
                $0.workerID = identity.workerID
                $0.workPoolName = identity.poolName
                $0.name = assignedName.isEmpty ? (identity.name ?? "") : assignedName
                $0.workQueueNames = identity.queueNames
                if let limit = identity.limit { $0.limit = limit }
                $0.host = identity.host
                $0.pid = identity.pid
                $0.version = DroverVersion.current
                $0.type = identity.type
                $0.createPoolIfNotFound = identity.createPoolIfNotFound
                $0.activeRuns = activeRuns.map { active in
                    .with {
                        $0.runID = active.run.runID.uuidString.lowercased()
                        $0.attempt = active.run.attempt
                        $0.started = active.started
                    }
                }
            }
        case .heartbeat:
            heartbeat = .init()
        case .accepting(let accepting):
            self.accepting = .with { $0.accepting = accepting }
        case .bye(let reason):
            bye = .with { $0.reason = reason }
        case .report(let number, let report):
            seq = number
            switch report {
            case .started(let run, let pid, let at):
                runStarted = .with {
                    $0.runID = run.runID.uuidString.lowercased()
                    $0.attempt = run.attempt
                    $0.pid = UInt32(clamping: pid)
                    $0.started = Google_Protobuf_Timestamp(microsecondsOf: at)
                }
            case .finished(let end):
                runFinished = .with {
                    $0.runID = end.run.runID.uuidString.lowercased()
                    $0.attempt = end.run.attempt
                    $0.outcome = Drover_V1_RunOutcome(end.outcome)
                    if let code = end.exitCode { $0.exitCode = code }
                    $0.message = end.message
                    $0.finished = Google_Protobuf_Timestamp(microsecondsOf: end.at)
                }
            case .logs(let run, let lines):
                logBatch = .with {
                    $0.runID = run.runID.uuidString.lowercased()
                    $0.attempt = run.attempt
                    $0.lines = lines.map { line in
                        .with {
                            $0.line = line.line
                            $0.timestamp = Google_Protobuf_Timestamp(microsecondsOf: line.timestamp)
                            $0.stream = line.stream.rawValue
                            $0.text = line.text
                            $0.attempt = run.attempt
                        }
                    }
                }
            }
        }
    }
}

extension Drover_V1_CoordinatorMessage {
    /// The server's message in a message from the dispatch socket: one frame holding one
    /// `Envelope`; nil for anything else.
    public init?(frames: [[UInt8]]) {
        guard frames.count == 1, let envelope = try? Drover_V1_Envelope(serializedBytes: frames[0]),
            case .coordinatorMessage(let message)? = envelope.body
        else { return nil }
        self = message
    }
}

extension WorkerSession.Incoming {
    /// What a message from the server means to a worker; nil for one it cannot use (no
    /// kind, or a run id that is not a UUID).
    public init?(_ message: Drover_V1_CoordinatorMessage) {
        switch message.kind {
        case .welcome(let welcome):
            self = .welcome(
                WorkerSession.Welcome(
                    helloID: welcome.helloID, session: welcome.session, name: welcome.name,
                    heartbeatInterval: .milliseconds(Int64(welcome.heartbeatIntervalMs)),
                    staleRuns: welcome.staleRunIds.compactMap { UUID(uuidString: $0) }))
        case .run(let assignment):
            guard let id = UUID(uuidString: assignment.run.id) else { return nil }
            self = .assignment(RunAttempt(id, attempt: assignment.attempt))
        case .cancel(let cancel):
            guard let id = UUID(uuidString: cancel.runID) else { return nil }
            self = .cancel(RunAttempt(id, attempt: cancel.attempt), grace: .milliseconds(Int64(cancel.gracePeriodMs)))
        case .stop(let stop):
            guard let id = UUID(uuidString: stop.runID) else { return nil }
            self = .stop(RunAttempt(id, attempt: stop.attempt))
        case .reject(let reject):
            let error = DroverError(DroverError.Code(reject.error.code), reject.error.message)
            if reject.helloAgain {
                self = .helloAgain(rejectedSession: reject.rejectedSession)
            } else if reject.helloID != 0 {
                self = .refused(helloID: reject.helloID, error)
            } else {
                self = .rejected(error)
            }
        case .heartbeatAck:
            self = .heartbeatAck
        case nil:
            return nil
        }
    }
}

extension Drover_V1_RunOutcome {
    /// The wire form of a Core outcome.
    public init(_ outcome: RunOutcome) {
        switch outcome {
        case .completed: self = .runCompleted
        case .failed: self = .runFailed
        case .crashed: self = .runCrashed
        case .cancelled: self = .runCancelled
        }
    }
}
