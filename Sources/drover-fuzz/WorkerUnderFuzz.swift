import DroverCore
import DroverProto
import DroverWire
import Foundation
import SwiftProtobuf

/// A worker's session (`WorkerSession`) fed what a hostile or confused server could send,
/// with the agent's part played by the book: a `start` starts a process at once, a
/// `terminate` ends it at once, and a clock step lets the oldest process exit.
///
/// Whatever the server says, the worker must never start an attempt twice nor run more
/// processes than its limit, and every message it sends must serialize.
struct WorkerUnderFuzz {
    static let limit: UInt32 = 2
    static let identity = WorkerIdentity(
        workerID: "w1", poolName: "pool", name: "w1", queueNames: ["default"], limit: limit, host: "fuzz", pid: 1,
        type: "process", createPoolIfNotFound: false)

    private var session: WorkerSession
    private var now: WorkerSession.Instant
    /// Processes alive, as the agent would have them.
    private var alive: Set<RunAttempt> = []
    /// Attempts ever started: none may start twice.
    private var started: Set<RunAttempt> = []
    private var left = false

    init() throws(DroverError) {
        now = ContinuousClock.now
        session = WorkerSession(settings: .init(limit: Self.limit), now: now, seed: 1)
        try perform(session.tick(now: now))
    }

    /// One dispatch frame from the server. `stamped` gives it the worker's session (and, for a
    /// Welcome, the id of the Hello in flight), so it counts.
    mutating func receive(_ frame: [UInt8], stamped: Bool) throws(DroverError) {
        guard !left, var message = Drover_V1_CoordinatorMessage(frames: [frame]) else { return }
        if stamped {
            if let current = session.session { message.session = current }
            if case .welcome(var welcome)? = message.kind, case .greeting(let helloID, _) = session.phase {
                welcome.helloID = helloID
                message.welcome = welcome
            }
        }
        guard let incoming = WorkerSession.Incoming(message) else { return }
        try perform(session.received(incoming, session: message.session, acknowledged: message.acknowledged, now: now))
    }

    /// Time passes: the oldest process exits, and the session acts on its timers.
    mutating func advance(by duration: Duration) throws(DroverError) {
        guard !left else { return }
        now += duration
        if let oldest = alive.min() {
            alive.remove(oldest)
            try perform(session.processEnded(oldest, .exited(code: 0), at: Date()))
        }
        try perform(session.tick(now: now))
    }

    /// Carries out actions as the agent does, checking the worker's promises after each.
    private mutating func perform(_ actions: [WorkerSession.Action]) throws(DroverError) {
        var pending = actions[...]
        for _ in 0..<10_000 {
            guard let action = pending.popFirst() else { break }
            switch action {
            case .send(let outgoing):
                let message = Drover_V1_WorkerMessage(outgoing, identity: Self.identity, assignedName: session.name)
                do {
                    _ = try message.serializedBytes() as [UInt8]
                } catch {
                    throw DroverError(.internal, "the worker's message could not be serialized: \(error)")
                }
            case .start(let run):
                guard started.insert(run).inserted else {
                    throw DroverError(.internal, "the worker started attempt \(run) twice")
                }
                alive.insert(run)
                guard alive.count <= Int(Self.limit) else {
                    throw DroverError(.internal, "the worker ran \(alive.count) processes with --limit \(Self.limit)")
                }
                pending += session.processStarted(run, pid: 100, at: Date())
            case .terminate(let run, _):
                if alive.remove(run) != nil {
                    pending += session.processEnded(run, .signaled(signal: 15), at: Date())
                }
            case .leave, .giveUp:
                left = true
            case .reconnect, .discard, .welcomed, .lostServer, .refused, .overCapacity, .droppedLines:
                break
            }
        }
        guard session.processCount == alive.count else {
            throw DroverError(
                .internal, "the session counts \(session.processCount) processes; \(alive.count) are alive")
        }
    }
}
