import Foundation

/// The worker's side of the dispatch protocol, as a value type that returns actions: when to
/// say Hello, what a Welcome means, which runs to start, what to report, when to reconnect,
/// and when to leave. The worker's agent owns the socket, the clock and the processes and
/// only carries the actions out, so every rule here is tested without either.
///
/// The rules it keeps, whatever the server does:
/// - **One Hello in flight.** A Hello is answered by the Welcome that echoes its id, or
///   times out; a repeated or late Welcome is ignored, and so is a "say Hello again" for
///   any session but the current one. Every retry waits for `ReconnectBackoff`.
/// - **Messages bind to the session.** Assignments, cancels and stops count only from the
///   session welcomed last; reports go out only in a welcomed session, stamped with it.
/// - **Every report is delivered.** A report gets the next sequence number and is kept
///   until the server acknowledges that number (it acknowledges after its commit); after
///   every Welcome the unacknowledged ones are sent again, in order. Log lines are the only
///   thing ever dropped, the oldest first, past `maxUnacknowledgedLines`.
/// - **The limit holds locally.** A run's process starts only while fewer processes than
///   the limit are alive, counting those being stopped; an assignment beyond waits its turn.
/// - **A run the server moved past is stopped, not reported**; a run whose end is not yet
///   acknowledged is still claimed in Hello, so a reconnection never crashes it.
public struct WorkerSession: Sendable {
    public typealias Instant = ContinuousClock.Instant

    /// Tunables; the defaults are the worker's.
    public struct Settings: Sendable {
        /// Most runs alive at once; nil: unlimited.
        public var limit: UInt32?
        /// How long a Hello waits for its Welcome before the worker reconnects.
        public var helloTimeout: Duration = .seconds(5)
        /// How long the first Welcome may take before the worker gives up.
        public var connectTimeout: Duration = .seconds(10)
        public var backoff = ReconnectBackoff()
        /// The server is lost after this many heartbeat intervals without a word from it.
        public var missedHeartbeats = 3
        /// The heartbeat interval until a Welcome names the server's.
        public var heartbeatInterval: Duration = .seconds(2)
        /// Most lines in one log report (the protocol's limit).
        public var batchLines = 500
        /// Most log lines kept unacknowledged; past it the oldest log reports are dropped.
        public var maxUnacknowledgedLines = 100_000
        /// How long a drained worker waits for the server to acknowledge its last reports.
        public var drainConfirmTimeout: Duration = .seconds(10)

        public init(limit: UInt32? = nil) {
            self.limit = limit
        }
    }

    /// Where the session stands.
    public enum Phase: Sendable, Equatable {
        /// No session; Hello goes at `until` (now, or after a back-off).
        case waiting(until: Instant)
        /// Hello `helloID` was sent at `since`, and not yet answered.
        case greeting(helloID: UInt64, since: Instant)
        /// Welcomed into `session` at `since`.
        case welcomed(session: UInt64, since: Instant)
        /// Left (after Bye, or giving up on the last acknowledgements).
        case closed
    }

    /// A run the worker holds.
    public struct HeldRun: Sendable, Equatable {
        public enum Phase: Sendable, Equatable {
            /// Assigned; waits for a process slot.
            case queued
            /// The agent was told to start its process.
            case starting
            case running
            /// The server moved past this attempt: its process is being stopped, and its end
            /// is not reported.
            case stopping
        }

        public internal(set) var phase: Phase
        public internal(set) var cancelRequested = false
        public internal(set) var terminatedByWorker = false
        var nextLine: UInt64 = 1
        var pendingLines: [WorkerLogLine] = []

        /// Whether its process is (or is about to be) alive.
        var hasProcess: Bool { phase != .queued }
    }

    /// A run the worker reports holding in Hello.
    public struct ActiveRun: Sendable, Equatable {
        public let run: RunAttempt
        public let started: Bool
    }

    /// A message for the server, with the session it belongs to (0 for Hello).
    public struct Outgoing: Sendable, Equatable {
        public enum Kind: Sendable, Equatable {
            case hello(id: UInt64, activeRuns: [ActiveRun])
            case heartbeat
            /// Whether the worker takes new runs (false: it drains).
            case accepting(Bool)
            case report(seq: UInt64, WorkerReport)
            case bye(reason: String)
        }

        public let session: UInt64
        public let kind: Kind

        public init(session: UInt64, kind: Kind) {
            self.session = session
            self.kind = kind
        }
    }

    /// A message from the server, read into Core's words.
    public enum Incoming: Sendable, Equatable {
        case welcome(Welcome)
        case assignment(RunAttempt)
        case cancel(RunAttempt, grace: Duration)
        case stop(RunAttempt)
        /// The server does not know `session`: say Hello again (if it is ours).
        case helloAgain(rejectedSession: UInt64)
        /// The server refused Hello `helloID`.
        case refused(helloID: UInt64, DroverError)
        /// The server refused something else; nothing to do but tell.
        case rejected(DroverError)
        case heartbeatAck
    }

    /// The server's answer to a Hello.
    public struct Welcome: Sendable, Equatable {
        public let helloID: UInt64
        public let session: UInt64
        public let name: String
        public let heartbeatInterval: Duration
        /// Runs the Hello reported that the server no longer assigns to this worker.
        public let staleRuns: [UUID]

        public init(helloID: UInt64, session: UInt64, name: String, heartbeatInterval: Duration, staleRuns: [UUID]) {
            self.helloID = helloID
            self.session = session
            self.name = name
            self.heartbeatInterval = heartbeatInterval
            self.staleRuns = staleRuns
        }
    }

    /// What the agent does.
    public enum Action: Sendable, Equatable {
        case send(Outgoing)
        /// Close the socket and open a fresh one, so nothing queued for the old connection
        /// reaches a new server.
        case reconnect
        /// Start the attempt's process (the agent keeps its assignment).
        case start(RunAttempt)
        /// Forget an assignment whose process never started.
        case discard(RunAttempt)
        /// SIGTERM the attempt's process group; SIGKILL after `grace` (nil: the worker's own).
        case terminate(RunAttempt, grace: Duration?)
        /// Welcomed under `name`; `again` after a reconnection.
        case welcomed(name: String, again: Bool)
        /// The server went silent; the worker reconnects.
        case lostServer
        /// The server refused a Hello after an earlier Welcome (it will be tried again), or another message.
        case refused(DroverError)
        /// An assignment beyond what the worker can hold was refused (reported crashed).
        case overCapacity(RunAttempt)
        /// Log lines were dropped because the server has not acknowledged them.
        case droppedLines(Int)
        /// Stop the worker with this error (no server answered the first Hello, or it refused it).
        case giveUp(DroverError)
        /// Done: exit. `unconfirmed` reports were never acknowledged.
        case leave(unconfirmed: Int)
    }

    public let settings: Settings
    public private(set) var phase: Phase
    /// The name the server knows this worker by (from the last Welcome).
    public private(set) var name = ""
    public private(set) var runs: [RunAttempt: HeldRun] = [:]
    public private(set) var draining = false
    public private(set) var terminating = false
    private var queue: [RunAttempt] = []
    private var unacknowledged: [(seq: UInt64, report: WorkerReport)] = []
    private var unacknowledgedLines = 0
    /// Reports up to this number went out in the current session.
    private var sentThrough: UInt64 = 0
    private var nextSeq: UInt64 = 1
    private var hellos: UInt64 = 0
    private var everWelcomed = false
    private var backoff: ReconnectBackoff
    private var heartbeatInterval: Duration
    private var lastHeard: Instant
    private var nextHeartbeat: Instant
    private let startedAt: Instant
    private var drainDeadline: Instant?
    /// When reports that could not be sent (the socket's queue was full) are tried again.
    private var resendAt: Instant?
    private var random: SplitMix64

    /// A session that says Hello at the first `tick`. `seed` drives the back-off's jitter.
    public init(settings: Settings, now: Instant, seed: UInt64) {
        self.settings = settings
        phase = .waiting(until: now)
        backoff = settings.backoff
        heartbeatInterval = settings.heartbeatInterval
        lastHeard = now
        nextHeartbeat = now
        startedAt = now
        random = SplitMix64(state: seed)
    }

    // MARK: Reading

    /// The session the server welcomed last, while it stands.
    public var session: UInt64? {
        if case .welcomed(let session, _) = phase { return session }
        return nil
    }

    /// Reports not yet acknowledged.
    public var unacknowledgedCount: Int { unacknowledged.count }

    /// Processes alive or starting, including those being stopped.
    public var processCount: Int { runs.values.count { $0.hasProcess } }

    /// When `tick` next has something to do.
    public func nextDeadline() -> Instant? {
        var deadline: Instant?
        func consider(_ instant: Instant?) {
            guard let instant else { return }
            deadline = min(deadline ?? instant, instant)
        }
        switch phase {
        case .waiting(let until):
            consider(until)
            if !everWelcomed { consider(startedAt + settings.connectTimeout) }
        case .greeting(_, let since):
            consider(since + settings.helloTimeout)
            if !everWelcomed { consider(startedAt + settings.connectTimeout) }
        case .welcomed:
            consider(lastHeard + heartbeatInterval * settings.missedHeartbeats)
            consider(nextHeartbeat)
            consider(resendAt)
        case .closed:
            return nil
        }
        consider(drainDeadline)
        return deadline
    }

    // MARK: Time

    /// Says Hello when due, heartbeats, notices a silent server, sends waiting log lines
    /// and reports, and leaves once drained. Call after every wake-up.
    public mutating func tick(now: Instant) -> [Action] {
        var actions: [Action] = []
        switch phase {
        case .closed:
            return []
        case .waiting(let until):
            if let giveUp = firstContactExpired(now) { return [giveUp] }
            if now >= until {
                hellos += 1
                phase = .greeting(helloID: hellos, since: now)
                actions.append(.send(Outgoing(session: 0, kind: .hello(id: hellos, activeRuns: activeRuns()))))
            }
        case .greeting(_, let since):
            if let giveUp = firstContactExpired(now) { return [giveUp] }
            if now - since >= settings.helloTimeout {
                actions += retry(now, reconnect: true, sessionLasted: nil)
            }
        case .welcomed(let session, let since):
            if now - lastHeard > heartbeatInterval * settings.missedHeartbeats {
                actions.append(.lostServer)
                actions += retry(now, reconnect: true, sessionLasted: now - since)
            } else if now >= nextHeartbeat {
                nextHeartbeat = now + heartbeatInterval
                actions.append(.send(Outgoing(session: session, kind: .heartbeat)))
            }
        }
        for run in runs.keys.sorted() where !(runs[run]?.pendingLines.isEmpty ?? true) {
            actions += flushLines(of: run)
        }
        if let resendAt, now >= resendAt { self.resendAt = nil }
        if resendAt == nil { actions += sendDueReports() }
        actions += leaveIfDone(now)
        return actions
    }

    /// The socket (re)connected to the server's endpoint. A welcomed worker heartbeats at
    /// once instead of at its next beat: if a new server is there now (the old one was
    /// restarted), its "say Hello again" comes back in a round trip, not a heartbeat later;
    /// if it is the same server, the heartbeat is merely early.
    public mutating func connected(now: Instant) -> [Action] {
        guard case .welcomed = phase else { return [] }
        nextHeartbeat = now
        return tick(now: now)
    }

    private func firstContactExpired(_ now: Instant) -> Action? {
        guard !everWelcomed, now - startedAt > settings.connectTimeout else { return nil }
        return .giveUp(
            DroverError(
                .unavailable,
                "No answer from a Drover server within \(settings.connectTimeout.components.seconds) s. Is the server running?"))
    }

    /// Leaves the current session (or attempt at one) and says Hello again after a back-off.
    private mutating func retry(_ now: Instant, reconnect: Bool, sessionLasted: Duration?) -> [Action] {
        let delay = backoff.nextDelay(afterSessionOf: sessionLasted, random: random.nextUnit())
        phase = .waiting(until: now + delay)
        resendAt = nil
        return reconnect ? [.reconnect] : []
    }

    // MARK: Messages from the server

    /// A message from the server in `session`, acknowledging reports through `acknowledged`.
    public mutating func received(_ message: Incoming, session: UInt64, acknowledged: UInt64, now: Instant) -> [Action] {
        guard phase != .closed else { return [] }
        lastHeard = now
        // An acknowledgement is a fact about this worker's reports, whichever session carried it.
        acknowledge(through: acknowledged)
        switch message {
        case .welcome(let welcome):
            return welcomed(welcome, now: now)
        case .helloAgain(let rejected):
            guard case .welcomed(let current, let since) = phase, current == rejected else { return [] }
            return retry(now, reconnect: false, sessionLasted: now - since)
        case .refused(let helloID, let error):
            guard case .greeting(let current, _) = phase, current == helloID else { return [] }
            guard everWelcomed else { return [.giveUp(error)] }
            return [.refused(error)] + retry(now, reconnect: false, sessionLasted: nil)
        case .rejected(let error):
            return [.refused(error)]
        default:
            break
        }
        // Everything else counts only from the session welcomed last.
        guard case .welcomed(let current, _) = phase, current == session else { return [] }
        switch message {
        case .assignment(let run): return assigned(run)
        case .cancel(let run, let grace): return cancel(run, grace: grace)
        case .stop(let run): return stop(run)
        case .heartbeatAck, .welcome, .helloAgain, .refused, .rejected: return []
        }
    }

    private mutating func welcomed(_ welcome: Welcome, now: Instant) -> [Action] {
        guard case .greeting(let helloID, _) = phase, welcome.helloID == helloID, welcome.session != 0 else { return [] }
        phase = .welcomed(session: welcome.session, since: now)
        name = welcome.name
        heartbeatInterval = min(.seconds(3600), max(.milliseconds(100), welcome.heartbeatInterval))
        nextHeartbeat = now + heartbeatInterval
        var actions: [Action] = [.welcomed(name: welcome.name, again: everWelcomed)]
        everWelcomed = true
        let stale = Set(welcome.staleRuns)
        for run in runs.keys.sorted() where stale.contains(run.runID) { actions += stop(run) }
        // Everything not yet acknowledged goes again, in order, in this session.
        sentThrough = (unacknowledged.first?.seq ?? nextSeq) - 1
        resendAt = nil
        if draining { actions.append(.send(Outgoing(session: welcome.session, kind: .accepting(false)))) }
        actions += sendDueReports()
        return actions
    }

    private mutating func acknowledge(through seq: UInt64) {
        let done = unacknowledged.prefix { $0.seq <= seq }.count
        guard done > 0 else { return }
        for entry in unacknowledged.prefix(done) { unacknowledgedLines -= entry.report.lineCount }
        unacknowledged.removeFirst(done)
    }

    // MARK: Runs

    private mutating func assigned(_ run: RunAttempt) -> [Action] {
        guard runs[run] == nil, !unacknowledged.contains(where: { $0.report.isEnd(of: run) }) else { return [] }
        // The server never sends more than the limit; runs being stopped can hold slots for
        // a while, so a few wait here. Beyond that the server broke the rules: refuse.
        if let limit = settings.limit, queue.count >= Int(limit) {
            return [.overCapacity(run)]
                + enqueue(
                    .finished(
                        RunEnd(
                            run: run, outcome: .crashed, exitCode: nil,
                            message: "Refused: the worker already holds its limit of \(limit) runs.", at: Date())))
        }
        runs[run] = HeldRun(phase: .queued)
        queue.append(run)
        return startQueued()
    }

    private mutating func startQueued() -> [Action] {
        var actions: [Action] = []
        while let next = queue.first, settings.limit.map({ processCount < Int($0) }) ?? true {
            queue.removeFirst()
            runs[next]?.phase = .starting
            actions.append(.start(next))
        }
        return actions
    }

    private mutating func cancel(_ run: RunAttempt, grace: Duration) -> [Action] {
        guard let held = runs[run] else { return [] }
        switch held.phase {
        case .queued:
            return dropQueued(run, reporting: "Cancelled before it started.")
        case .starting, .running:
            runs[run]?.cancelRequested = true
            return [.terminate(run, grace: grace)]
        case .stopping:
            return []
        }
    }

    /// Forgets an assignment whose process never started; reports it CANCELLED with
    /// `message`, or nothing (the server moved past it).
    private mutating func dropQueued(_ run: RunAttempt, reporting message: String?) -> [Action] {
        runs[run] = nil
        queue.removeAll { $0 == run }
        guard let message else { return [.discard(run)] }
        return [.discard(run)]
            + enqueue(.finished(RunEnd(run: run, outcome: .cancelled, exitCode: nil, message: message, at: Date())))
    }

    private mutating func stop(_ run: RunAttempt) -> [Action] {
        guard let held = runs[run] else { return [] }
        switch held.phase {
        case .queued:
            return dropQueued(run, reporting: nil)
        case .starting, .running:
            runs[run]?.phase = .stopping
            runs[run]?.pendingLines = []
            return [.terminate(run, grace: nil)]
        case .stopping:
            return []
        }
    }

    /// The attempt's process started.
    public mutating func processStarted(_ run: RunAttempt, pid: Int32, at: Date) -> [Action] {
        guard runs[run]?.phase == .starting else { return [] }
        runs[run]?.phase = .running
        return enqueue(.started(run, pid: pid, at: at))
    }

    /// The attempt's process could not be started.
    public mutating func processFailedToStart(_ run: RunAttempt, message: String, at: Date) -> [Action] {
        ended(run) { _ in RunEnd(run: run, outcome: .crashed, exitCode: nil, message: "Could not start: \(message)", at: at) }
    }

    /// The attempt's process ended.
    public mutating func processEnded(_ run: RunAttempt, _ outcome: ProcessOutcome, at: Date) -> [Action] {
        ended(run) { held in Self.end(of: run, held, outcome, at: at) }
    }

    /// What the end of `run`'s process with `outcome` reports; nil when it reports nothing
    /// (not held, or being stopped).
    public func reportedEnd(of run: RunAttempt, _ outcome: ProcessOutcome, at: Date) -> RunEnd? {
        guard let held = runs[run], held.hasProcess, held.phase != .stopping else { return nil }
        return Self.end(of: run, held, outcome, at: at)
    }

    private static func end(of run: RunAttempt, _ held: HeldRun, _ outcome: ProcessOutcome, at: Date) -> RunEnd {
        let stopped = held.cancelRequested || held.terminatedByWorker
        let why = held.cancelRequested ? "Cancelled on request." : "Terminated: the worker was stopped with a second signal."
        switch outcome {
        case .exited(let code) where stopped:
            return RunEnd(run: run, outcome: .cancelled, exitCode: code, message: why, at: at)
        case .signaled(let signal) where stopped:
            return RunEnd(run: run, outcome: .cancelled, exitCode: nil, message: why + " (ended by signal \(signal))", at: at)
        case .exited(0):
            return RunEnd(run: run, outcome: .completed, exitCode: 0, message: "Process exited with code 0.", at: at)
        case .exited(let code):
            return RunEnd(run: run, outcome: .failed, exitCode: code, message: "Process exited with code \(code).", at: at)
        case .signaled(let signal):
            return RunEnd(run: run, outcome: .crashed, exitCode: nil, message: "Process was killed by signal \(signal).", at: at)
        }
    }

    private mutating func ended(_ run: RunAttempt, _ end: (HeldRun) -> RunEnd) -> [Action] {
        guard let held = runs[run], held.hasProcess else { return [] }
        var actions: [Action] = []
        if held.phase != .stopping {
            let report = end(held)
            actions += log(run, .worker, "Ended: \(report.message)", at: report.at)
            actions += flushLines(of: run)
            actions += enqueue(.finished(report))
        }
        runs[run] = nil
        return actions + startQueued()
    }

    /// A line of the attempt's output, or the worker's note about it; sent in batches.
    public mutating func log(_ run: RunAttempt, _ stream: FlowRunLog.Stream, _ text: String, at: Date) -> [Action] {
        guard var held = runs[run], held.phase != .stopping else { return [] }
        held.pendingLines.append(WorkerLogLine(line: held.nextLine, timestamp: at, stream: stream, text: text))
        held.nextLine += 1
        runs[run] = held
        return held.pendingLines.count >= settings.batchLines ? flushLines(of: run) : []
    }

    private mutating func flushLines(of run: RunAttempt) -> [Action] {
        guard let lines = runs[run]?.pendingLines, !lines.isEmpty else { return [] }
        runs[run]?.pendingLines = []
        var actions: [Action] = []
        for start in stride(from: 0, to: lines.count, by: settings.batchLines) {
            actions += enqueue(.logs(run, lines: Array(lines[start..<min(start + settings.batchLines, lines.count)])))
        }
        return actions
    }

    // MARK: Reports

    private mutating func enqueue(_ report: WorkerReport) -> [Action] {
        unacknowledged.append((nextSeq, report))
        nextSeq += 1
        unacknowledgedLines += report.lineCount
        var actions: [Action] = []
        var dropped = 0
        // Past the bound, the oldest log reports go; ends and starts of runs are never dropped.
        while unacknowledgedLines > settings.maxUnacknowledgedLines,
            let oldest = unacknowledged.firstIndex(where: { $0.report.lineCount > 0 })
        {
            let lines = unacknowledged[oldest].report.lineCount
            unacknowledged.remove(at: oldest)
            unacknowledgedLines -= lines
            dropped += lines
        }
        if dropped > 0 { actions.append(.droppedLines(dropped)) }
        return actions + (resendAt == nil ? sendDueReports() : [])
    }

    private mutating func sendDueReports() -> [Action] {
        guard case .welcomed(let session, _) = phase else { return [] }
        var actions: [Action] = []
        for entry in unacknowledged where entry.seq > sentThrough {
            actions.append(.send(Outgoing(session: session, kind: .report(seq: entry.seq, entry.report))))
            sentThrough = entry.seq
        }
        return actions
    }

    /// A message could not be handed to the socket (its queue is full): a report goes
    /// again, from it on, a little later; anything else is left to the next heartbeat or Hello.
    public mutating func sendFailed(_ message: Outgoing, now: Instant) {
        guard case .report(let seq, _) = message.kind, session == message.session else { return }
        sentThrough = min(sentThrough, seq - 1)
        resendAt = now + .milliseconds(100)
    }

    /// The runs to claim in Hello: those held and not being stopped, and those whose end the
    /// server has not acknowledged (so that it does not count them lost).
    private func activeRuns() -> [ActiveRun] {
        var active = runs.filter { $0.value.phase != .stopping }.map { ActiveRun(run: $0.key, started: $0.value.phase == .running) }
        for entry in unacknowledged {
            if case .finished(let end) = entry.report { active.append(ActiveRun(run: end.run, started: true)) }
        }
        return active.sorted { $0.run < $1.run }
    }

    // MARK: Leaving

    /// First signal: take no new runs, let the held ones finish, then leave.
    public mutating func drain(now: Instant) -> [Action] {
        guard !draining else { return [] }
        draining = true
        var actions: [Action] = []
        if let session { actions.append(.send(Outgoing(session: session, kind: .accepting(false)))) }
        return actions + leaveIfDone(now)
    }

    /// Second signal: terminate every run's process; they are reported cancelled.
    public mutating func terminate(now: Instant) -> [Action] {
        var actions = drain(now: now)
        guard !terminating else { return actions }
        terminating = true
        for run in runs.keys.sorted() {
            switch runs[run]?.phase {
            case .queued?:
                actions += dropQueued(
                    run, reporting: "Terminated before it started: the worker was stopped with a second signal.")
            case .starting?, .running?:
                runs[run]?.terminatedByWorker = true
                actions.append(.terminate(run, grace: nil))
            case .stopping?, nil:
                break
            }
        }
        return actions + leaveIfDone(now)
    }

    /// Once drained and every report acknowledged: Bye, and leave. A server that does not
    /// acknowledge within `drainConfirmTimeout` is left without them.
    private mutating func leaveIfDone(_ now: Instant) -> [Action] {
        guard draining, runs.isEmpty, phase != .closed else { return [] }
        if unacknowledged.isEmpty {
            let bye = session.map { session in
                Action.send(Outgoing(session: session, kind: .bye(reason: terminating ? "terminated" : "drained")))
            }
            phase = .closed
            return [bye].compactMap { $0 } + [.leave(unconfirmed: 0)]
        }
        let deadline = drainDeadline ?? now + settings.drainConfirmTimeout
        drainDeadline = deadline
        guard now >= deadline else { return [] }
        phase = .closed
        return [.leave(unconfirmed: unacknowledged.count)]
    }
}

extension WorkerReport {
    /// Log lines it carries.
    var lineCount: Int {
        if case .logs(_, let lines) = self { return lines.count }
        return 0
    }

    func isEnd(of run: RunAttempt) -> Bool {
        if case .finished(let end) = self { return end.run == run }
        return false
    }
}
