import DroverClient
import DroverCore
import DroverProto
import DroverWire
import Foundation
import Logging
import SwiftProtobuf
import Synchronization
import ZeroMQ

/// The worker: connects to the server's dispatch endpoint, has runs pushed to it, runs
/// each as a local process, and reports states and logs back.
///
/// The protocol's rules live in `WorkerSession` (Core): when to say Hello, which
/// messages count, what to report and resend, when to reconnect and when to leave. This
/// type only carries its actions out: it owns the DEALER socket, the child processes and
/// the clock. `run()` is the worker's one event loop: it blocks in `zmq_poll` on the socket
/// and on an eventfd rung by signal handlers and by the threads that supervise child
/// processes; call it on a thread of its own (the CLI's main thread), never on Swift's
/// cooperative pool.
public final class WorkerAgent {
    private let configuration: WorkerConfiguration
    private let logger: Logger
    private let onEvent: @Sendable (WorkerEvent) -> Void
    private let identity: WorkerIdentity
    private let context: Context
    private let wakeup: Wakeup
    private let childEvents: ChildEventQueue

    private var socket: Socket
    /// Tells when `socket` (re)connects, so a worker whose server restarted says so at once.
    private var monitor: SocketMonitor
    private var session: WorkerSession
    /// The limit service runs reach for slots, from Welcome.
    private var limitsEndpoint = ""
    /// Assignments whose process has not started yet.
    private var assignments: [RunAttempt: Drover_V1_RunAssignment] = [:]
    /// Processes alive, by attempt.
    private var processes: [RunAttempt: RunProcess] = [:]
    private var signalsHandled = 0
    private var finished = false
    private var warnings = WarningGate()

    public init(
        configuration: WorkerConfiguration, logger: Logger, onEvent: @escaping @Sendable (WorkerEvent) -> Void
    ) throws(DroverError) {
        self.configuration = configuration
        self.logger = logger
        self.onEvent = onEvent
        identity = WorkerIdentity(
            workerID: UUID().uuidString.lowercased(), poolName: configuration.poolName, name: configuration.name,
            queueNames: configuration.queueNames, limit: configuration.limit, host: ProcessInfo.processInfo.hostName,
            pid: UInt32(ProcessInfo.processInfo.processIdentifier), type: configuration.type,
            createPoolIfNotFound: configuration.createPoolIfNotFound)
        var settings = WorkerSession.Settings(limit: configuration.limit)
        settings.connectTimeout = configuration.connectTimeout
        session = WorkerSession(settings: settings, now: .now, seed: UInt64.random(in: 0...UInt64.max))
        do {
            context = try Context(ioThreads: 1)
            wakeup = try Wakeup()
            childEvents = ChildEventQueue(wakeup: wakeup)
        } catch {
            throw DroverError(.internal, "Could not set up ZeroMQ: \(error)")
        }
        (socket, monitor) = try Self.connect(
            context, to: configuration.dispatchEndpoint, id: identity.workerID, key: configuration.key)
    }

    /// Runs until the worker has drained after a signal (returns normally), or the server
    /// refuses it or never answers (throws, with the reason).
    public func run() throws(DroverError) {
        SignalMonitor.install(wakeup: wakeup)
        try perform(session.tick(now: .now))
        while !finished {
            var poller = Poller()
            let socketIndex = poller.add(socket)
            let monitorIndex = poller.add(monitor.socket)
            let wakeupIndex = poller.add(fileDescriptor: wakeup.fileDescriptor)
            let events: [PollEvents]
            do {
                events = try poller.poll(timeout: session.nextDeadline().map { max(.zero, $0 - .now) })
            } catch {
                throw DroverError(.internal, "The worker's poll failed: \(error)")
            }
            if events[wakeupIndex].contains(.readable) { wakeup.drain() }
            try handleSignals()
            try handleChildEvents()
            if events[monitorIndex].contains(.readable) { try readConnectionEvents() }
            if events[socketIndex].contains(.readable) { try receiveAll() }
            try perform(session.tick(now: .now))
        }
    }

    // MARK: Carrying out the session's actions

    private func perform(_ actions: [WorkerSession.Action]) throws(DroverError) {
        for action in actions {
            switch action {
            case .send(let message):
                send(message)
            case .reconnect:
                // The old socket closes with its monitor, which holds it.
                (socket, monitor) = try Self.connect(
                    context, to: configuration.dispatchEndpoint, id: identity.workerID, key: configuration.key)
            case .start(let run):
                try start(run)
            case .discard(let run):
                assignments[run] = nil
            case .terminate(let run, let grace):
                if let grace { try perform(session.log(run, .worker, "Cancelling: SIGTERM to its process group.", at: Date())) }
                processes[run]?.process.terminate(grace: grace ?? configuration.terminationGrace)
            case .welcomed(let name, let again):
                if again {
                    logger.info("reconnected to the server", metadata: ["worker.name": "\(name)"])
                } else {
                    onEvent(.started(name: name))
                }
            case .lostServer:
                logger.warning("lost the server; reconnecting", metadata: ["endpoint": "\(configuration.dispatchEndpoint)"])
                onEvent(.reconnecting)
            case .refused(let error):
                logger.error("the server refused a message", metadata: ["reason": "\(error.message)"])
            case .overCapacity(let run):
                logger.error("the server sent a run beyond the worker's limit; refused it", metadata: ["run.id": "\(run)"])
            case .droppedLines(let count):
                if warnings.allows("dropped", now: .now) {
                    logger.warning(
                        "dropped log lines the server has not acknowledged (it is unreachable)", metadata: ["lines": "\(count)"])
                }
            case .giveUp(let error):
                throw error.code == .unavailable
                    ? DroverError(
                        .unavailable,
                        "No answer from a Drover server at \(configuration.dispatchEndpoint) within "
                            + "\(configuration.connectTimeout.components.seconds) s. Is the server running?")
                    : error
            case .leave(let unconfirmed):
                if unconfirmed > 0 {
                    logger.warning(
                        "left without the server's acknowledgement of the last reports (it is unreachable)",
                        metadata: ["reports": "\(unconfirmed)"])
                }
                finished = true
            }
        }
    }

    /// A fresh DEALER to the dispatch endpoint, and its monitor.
    private static func connect(
        _ context: Context, to endpoint: String, id: String, key: KeyFile?
    ) throws(DroverError) -> (Socket, SocketMonitor) {
        do {
            let socket = try Socket(context: context, type: .dealer)
            if let key { try socket.secure(asClientWith: key) }
            try socket.set(.routingID, Array(id.utf8))
            try socket.set(.maxMessageSize, droverMaxFrameBytes)
            try socket.set(.reconnectInterval, 100)
            try socket.set(.reconnectIntervalMax, 2000)
            // Reports wait in the session until acknowledged, not here: a full queue only
            // delays them, and little is replayed into a new connection.
            try socket.set(.sendHighWaterMark, 1000)
            let monitor = try SocketMonitor(socket, events: [.connected])
            try socket.connect(endpoint)
            return (socket, monitor)
        } catch {
            throw DroverError(
                .invalidArgument, "Could not connect to the dispatch endpoint \(endpoint): \(error.code).")
        }
    }

    private func send(_ message: WorkerSession.Outgoing) {
        let envelope = Drover_V1_Envelope.with {
            $0.protocolVersion = droverProtocolVersion
            $0.workerMessage = Drover_V1_WorkerMessage(message, identity: identity, assignedName: session.name)
        }
        do {
            let payload: [UInt8] = try envelope.serializedBytes()
            if try socket.send(payload, wait: false) { return }
            session.sendFailed(message, now: .now)
            if warnings.allows("queue full", now: .now) {
                logger.warning("the queue to the server is full; holding reports until it drains")
            }
        } catch {
            session.sendFailed(message, now: .now)
            logger.error("could not send to the server", metadata: ["error": "\(error)"])
        }
    }

    // MARK: Messages from the server

    /// The socket's connection events: each (re)connection may reach a restarted server.
    private func readConnectionEvents() throws(DroverError) {
        var connected = false
        for _ in 0..<1024 {
            guard let event = try? monitor.receive(wait: false) else { break }
            if event.kind == .connected { connected = true }
        }
        if connected { try perform(session.connected(now: .now)) }
    }

    private func receiveAll() throws(DroverError) {
        for _ in 0..<1024 {
            guard let message = try? socket.receive(wait: false) else { return }
            guard let coordinatorMessage = Drover_V1_CoordinatorMessage(frames: message.frames) else {
                if warnings.allows("malformed", now: .now) { logger.warning("dropped a malformed message from the server") }
                continue
            }
            guard let incoming = WorkerSession.Incoming(coordinatorMessage) else { continue }
            switch coordinatorMessage.kind {
            case .run(let assignment):
                // Kept until its process starts, if the session takes it.
                if case .assignment(let run) = incoming, session.session == coordinatorMessage.session,
                    session.runs[run] == nil
                {
                    assignments[run] = assignment
                }
            case .welcome(let welcome):
                if case .greeting(let helloID, _) = session.phase, helloID == welcome.helloID {
                    limitsEndpoint = AdvertisedEndpoint.reachable(welcome.limitsEndpoint, via: configuration.dispatchEndpoint)
                }
            default:
                break
            }
            try perform(
                session.received(
                    incoming, session: coordinatorMessage.session, acknowledged: coordinatorMessage.acknowledged, now: .now))
            for run in assignments.keys where session.runs[run] == nil { assignments[run] = nil }
        }
    }

    // MARK: Runs

    private func start(_ run: RunAttempt) throws(DroverError) {
        guard let assignment = assignments.removeValue(forKey: run) else {
            try perform(session.processFailedToStart(run, message: "the worker lost its assignment", at: Date()))
            return
        }
        let flowRun = assignment.run
        let job = JobConfiguration(values: JSONValue(assignment.jobConfiguration).objectValue ?? [:])
        try perform(
            session.log(
                run, .worker, "Worker '\(session.name)' submitting flow run '\(flowRun.id)' (attempt \(run.attempt)).",
                at: Date()))
        var temporaryDirectory: String?
        do {
            let directory: String
            if let configured = job.workingDirectory {
                directory = configured
            } else {
                directory = try RunWorkingDirectory.create()
                temporaryDirectory = directory
            }
            var environment = ProcessInfo.processInfo.environment
            environment.merge(job.environment) { _, job in job }
            environment["DROVER_FLOW_RUN_ID"] = flowRun.id
            environment["DROVER_FLOW_RUN_NAME"] = flowRun.name
            environment["DROVER_FLOW_RUN_ATTEMPT"] = "\(run.attempt)"
            environment["DROVER_DEPLOYMENT_NAME"] = flowRun.deploymentName
            environment["DROVER_PARAMETERS"] = JSONValue(flowRun.parameters).render()
            // `drover concurrency acquire` and `drover rate-limit` inside the run find the
            // limit service here, unless the worker's or the job's environment names one.
            if environment["DROVER_KEY", default: ""].isEmpty, let keyPath = configuration.keyPath {
                environment["DROVER_KEY"] = keyPath
            }
            if environment["DROVER_LIMITS", default: ""].isEmpty && !limitsEndpoint.isEmpty {
                environment["DROVER_LIMITS"] = limitsEndpoint
            }
            let process = try ChildProcess.start(
                ProcessSpec(command: job.command ?? flowRun.command, environment: environment, workingDirectory: directory)
            ) { [childEvents] event in
                childEvents.push(run, event)
            }
            processes[run] = RunProcess(
                process: process, temporaryDirectory: temporaryDirectory, runName: flowRun.name, streamOutput: job.streamOutput)
            try perform(session.processStarted(run, pid: process.pid, at: Date()))
            try perform(session.log(run, .worker, "Started as pid \(process.pid) in \(directory).", at: Date()))
            onEvent(.runStarted(runName: flowRun.name, runID: flowRun.id, pid: process.pid))
        } catch {
            if let temporaryDirectory { try? RunWorkingDirectory.remove(temporaryDirectory) }
            try perform(session.log(run, .worker, "Could not start: \(error.message)", at: Date()))
            try perform(session.processFailedToStart(run, message: error.message, at: Date()))
        }
    }

    private func handleChildEvents() throws(DroverError) {
        for (run, event) in childEvents.takeAll() {
            guard let process = processes[run] else { continue }
            switch event {
            case .output(let line):
                if process.streamOutput {
                    onEvent(.output(runName: process.runName, line: line.text, isError: line.stream == .stderr))
                }
                try perform(session.log(run, line.stream == .stderr ? .stderr : .stdout, line.text, at: line.timestamp))
            case .exited(let outcome):
                processes[run] = nil
                if let directory = process.temporaryDirectory { try? RunWorkingDirectory.remove(directory) }
                let now = Date()
                let end = session.reportedEnd(of: run, outcome, at: now)
                try perform(session.processEnded(run, outcome, at: now))
                if let end {
                    onEvent(.runFinished(runName: process.runName, runID: run.runID.uuidString.lowercased(), outcome: end.message))
                } else {
                    logger.warning("stopped a stale run", metadata: ["run.id": "\(run)"])
                }
            }
        }
    }

    // MARK: Signals

    /// First SIGINT/SIGTERM: take no more runs, let running ones finish. Second: terminate them.
    private func handleSignals() throws(DroverError) {
        let count = SignalMonitor.count
        guard count > signalsHandled else { return }
        signalsHandled = count
        if !session.draining {
            logger.info("draining: taking no new runs", metadata: ["runs.active": "\(session.runs.count)"])
            onEvent(.draining(running: session.runs.count))
            try perform(session.drain(now: .now))
        }
        if count >= 2 && !session.terminating {
            onEvent(.terminating(running: session.runs.count))
            try perform(session.terminate(now: .now))
        }
    }
}

/// A run's process and what the agent needs to tell about it.
private struct RunProcess {
    let process: ChildProcess
    /// A temporary working directory to remove when the run ends.
    let temporaryDirectory: String?
    let runName: String
    let streamOutput: Bool
}

/// Events from the threads supervising child processes, handed to the worker's loop.
final class ChildEventQueue: Sendable {
    private let pending = Mutex<[(run: RunAttempt, event: ProcessEvent)]>([])
    private let wakeup: Wakeup

    init(wakeup: Wakeup) {
        self.wakeup = wakeup
    }

    /// Queues an event and wakes the loop. Any thread.
    func push(_ run: RunAttempt, _ event: ProcessEvent) {
        pending.withLock { $0.append((run, event)) }
        wakeup.signal()
    }

    /// Everything queued so far, in order.
    func takeAll() -> [(run: RunAttempt, event: ProcessEvent)] {
        pending.withLock { queued in
            defer { queued.removeAll() }
            return queued
        }
    }
}
