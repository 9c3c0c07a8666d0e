import DroverClient
import DroverCore
import DroverProto
import Foundation
import Logging
import SwiftProtobuf
import Synchronization
import ZeroMQ

/// The worker: connects to the server's dispatch endpoint, has runs pushed to it, runs
/// each as a local process, and reports states and logs back.
///
/// `run()` is the worker's one event loop. It owns the DEALER socket and blocks in
/// `zmq_poll` on it and on an eventfd rung by signal handlers and by the threads that
/// supervise child processes; call it on a thread of its own (the CLI's main thread),
/// never on Swift's cooperative pool. The server never sends more runs than the
/// worker's limit; the worker says Hello again with the runs it holds whenever the
/// server forgets it (a restart), and reconnects by itself when the server goes silent.
public final class WorkerAgent {
    private let configuration: WorkerConfiguration
    private let logger: Logger
    private let onEvent: @Sendable (WorkerEvent) -> Void
    private let workerID = UUID().uuidString.lowercased()
    private let context: Context
    private let wakeup: Wakeup
    private let childEvents: ChildEventQueue

    private var socket: Socket
    private var session: UInt64 = 0
    private var name = ""
    /// The limit service runs reach for slots, from Welcome.
    private var limitsEndpoint = ""
    private var welcomed = false
    private var heartbeatInterval: Duration = .seconds(2)
    private var lastHeard = ContinuousClock.now
    private var lastHello = ContinuousClock.now
    /// When the next heartbeat is due; the server's interval (in Welcome) resets it.
    private var nextHeartbeat = ContinuousClock.now
    private var runs: [String: RunExecution] = [:]
    private var signalsHandled = 0
    /// Ends of runs (with their last logs) the server may not have received: a run can end
    /// while the server is down. Resent after every Welcome of a reconnection; dropped once
    /// a heartbeat sent after them is acknowledged (the channel keeps order).
    private var unconfirmed: [(sentAt: ContinuousClock.Instant, reports: [Drover_V1_WorkerMessage.OneOf_Kind])] = []
    /// When the heartbeats not yet acknowledged were sent, oldest first.
    private var heartbeatsInFlight: [ContinuousClock.Instant] = []
    private var draining = false

    public init(
        configuration: WorkerConfiguration, logger: Logger, onEvent: @escaping @Sendable (WorkerEvent) -> Void
    ) throws(DroverError) {
        self.configuration = configuration
        self.logger = logger
        self.onEvent = onEvent
        do {
            context = try Context(ioThreads: 1)
            wakeup = try Wakeup()
            childEvents = ChildEventQueue(wakeup: wakeup)
        } catch {
            throw DroverError(.internal, "Could not set up ZeroMQ: \(error)")
        }
        socket = try Self.connect(context, to: configuration.dispatchEndpoint, id: workerID)
    }

    /// Runs until the worker has drained after a signal (returns normally), or the server
    /// refuses it (throws, with the server's reason).
    public func run() throws(DroverError) {
        SignalMonitor.install(wakeup: wakeup)
        try sendHello()
        let firstContact = ContinuousClock.now
        nextHeartbeat = ContinuousClock.now + heartbeatInterval
        while true {
            var poller = Poller()
            let socketIndex = poller.add(socket)
            let wakeupIndex = poller.add(fileDescriptor: wakeup.fileDescriptor)
            let events: [PollEvents]
            do {
                events = try poller.poll(timeout: max(.zero, nextHeartbeat - .now))
            } catch {
                throw DroverError(.internal, "The worker's poll failed: \(error)")
            }
            if events[wakeupIndex].contains(.readable) { wakeup.drain() }
            handleSignals()
            handleChildEvents()
            if events[socketIndex].contains(.readable) { try receiveAll() }
            if !welcomed && ContinuousClock.now - firstContact > configuration.connectTimeout {
                throw DroverError(
                    .unavailable,
                    "No answer from a Drover server at \(configuration.dispatchEndpoint) within "
                        + "\(configuration.connectTimeout.components.seconds) s. Is the server running?")
            }
            if ContinuousClock.now >= nextHeartbeat {
                try heartbeatOrReconnect()
                nextHeartbeat = ContinuousClock.now + heartbeatInterval
            }
            flushLogs()
            if draining && runs.isEmpty {
                send(.bye(.with { $0.reason = signalsHandled > 1 ? "terminated" : "drained" }))
                return
            }
        }
    }

    // MARK: Connection

    private static func connect(_ context: Context, to endpoint: String, id: String) throws(DroverError) -> Socket {
        do {
            let socket = try Socket(context: context, type: .dealer)
            try socket.set(.routingID, Array(id.utf8))
            try socket.set(.maxMessageSize, droverMaxFrameBytes)
            try socket.set(.reconnectInterval, 100)
            try socket.set(.reconnectIntervalMax, 2000)
            try socket.set(.sendHighWaterMark, 100_000)
            try socket.connect(endpoint)
            return socket
        } catch {
            throw DroverError(
                .invalidArgument, "Could not connect to the dispatch endpoint \(endpoint): \(error.code).")
        }
    }

    private func sendHello() throws(DroverError) {
        session = 0
        lastHello = .now
        send(
            .hello(
                .with {
                    $0.workerID = workerID
                    $0.workPoolName = configuration.poolName
                    $0.name = name.isEmpty ? (configuration.name ?? "") : name
                    $0.workQueueNames = configuration.queueNames
                    if let limit = configuration.limit { $0.limit = limit }
                    $0.host = ProcessInfo.processInfo.hostName
                    $0.pid = UInt32(ProcessInfo.processInfo.processIdentifier)
                    $0.version = DroverVersion.current
                    $0.type = configuration.type
                    $0.createPoolIfNotFound = configuration.createPoolIfNotFound
                    $0.activeRuns = runs.values.filter { !$0.stale }.map { run in
                        .with {
                            $0.runID = run.runID
                            $0.attempt = run.attempt
                            $0.started = run.process != nil
                        }
                    }
                }))
    }

    /// Heartbeats, and starts over with a fresh socket when the server has been silent
    /// for three intervals (it died, restarted, or the network dropped).
    private func heartbeatOrReconnect() throws(DroverError) {
        let silence = ContinuousClock.now - lastHeard
        if silence > heartbeatInterval * 3 && ContinuousClock.now - lastHello > heartbeatInterval * 3 {
            if welcomed {
                logger.warning("lost the server; reconnecting", metadata: ["endpoint": "\(configuration.dispatchEndpoint)"])
                onEvent(.reconnecting)
            }
            socket = try Self.connect(context, to: configuration.dispatchEndpoint, id: workerID)
            heartbeatsInFlight.removeAll()
            try sendHello()
            return
        }
        if session != 0 {
            heartbeatsInFlight.append(.now)
            send(.heartbeat(.init()))
        }
    }

    private func send(_ kind: Drover_V1_WorkerMessage.OneOf_Kind) {
        let envelope = Drover_V1_Envelope.with {
            $0.protocolVersion = droverProtocolVersion
            $0.workerMessage = .with {
                $0.session = session
                $0.kind = kind
            }
        }
        do {
            let payload: [UInt8] = try envelope.serializedBytes()
            if try !socket.send(payload, wait: false) {
                logger.warning("dropped a message to the server: its queue is full")
            }
        } catch {
            logger.error("could not send to the server", metadata: ["error": "\(error)"])
        }
    }

    // MARK: Messages from the server

    private func receiveAll() throws(DroverError) {
        for _ in 0..<1024 {
            guard let message = try? socket.receive(wait: false) else { return }
            guard message.frames.count == 1,
                let envelope = try? Drover_V1_Envelope(serializedBytes: message.frames[0]),
                case .coordinatorMessage(let coordinatorMessage)? = envelope.body
            else {
                logger.warning("dropped a malformed message from the server")
                continue
            }
            lastHeard = .now
            try handle(coordinatorMessage)
        }
    }

    private func handle(_ message: Drover_V1_CoordinatorMessage) throws(DroverError) {
        switch message.kind {
        case .welcome(let welcome):
            session = welcome.session
            name = welcome.name
            limitsEndpoint = welcome.limitsEndpoint
            heartbeatInterval = .milliseconds(Int64(max(100, welcome.heartbeatIntervalMs)))
            nextHeartbeat = ContinuousClock.now + heartbeatInterval
            for stale in welcome.staleRunIds { stop(stale) }
            heartbeatsInFlight.removeAll()
            if !welcomed {
                welcomed = true
                onEvent(.started(name: name))
            } else {
                logger.info("reconnected to the server", metadata: ["worker.name": "\(name)"])
                for index in unconfirmed.indices {
                    for report in unconfirmed[index].reports { send(report) }
                    unconfirmed[index].sentAt = .now
                }
            }
            if draining { send(.credit(.with { $0.available = 0 })) }
        case .run(let assignment):
            start(assignment)
        case .cancel(let cancel):
            guard var run = runs[cancel.runID], run.attempt == cancel.attempt else { return }
            run.cancelRequested = true
            runs[cancel.runID] = run
            appendWorkerLog(cancel.runID, "Cancelling: SIGTERM to its process group.")
            run.process?.terminate(grace: .milliseconds(Int64(cancel.gracePeriodMs)))
        case .stop(let stop):
            guard runs[stop.runID]?.attempt == stop.attempt else { return }
            self.stop(stop.runID)
        case .reject(let reject):
            if reject.helloAgain {
                try sendHello()
            } else if !welcomed {
                throw DroverError(DroverError.Code(reject.error.code), reject.error.message)
            } else {
                logger.error("the server refused a message", metadata: ["reason": "\(reject.error.message)"])
            }
        case .heartbeatAck:
            guard !heartbeatsInFlight.isEmpty else { return }
            let answered = heartbeatsInFlight.removeFirst()
            unconfirmed.removeAll { $0.sentAt < answered }
        case nil:
            break
        }
    }

    /// Stops a run the server no longer assigns to this worker, without reporting it.
    private func stop(_ runID: String) {
        guard var run = runs[runID] else { return }
        run.stale = true
        runs[runID] = run
        logger.warning("stopping a stale run", metadata: ["run.id": "\(runID)"])
        run.process?.terminate(grace: configuration.terminationGrace)
    }

    // MARK: Runs

    private func start(_ assignment: Drover_V1_RunAssignment) {
        let run = assignment.run
        guard runs[run.id] == nil else { return }
        let job = JobConfiguration(values: JSONValue(assignment.jobConfiguration).objectValue ?? [:])
        var execution = RunExecution(
            runID: run.id, attempt: assignment.attempt, runName: run.name, streamOutput: job.streamOutput)
        runs[run.id] = execution
        appendWorkerLog(run.id, "Worker '\(name)' submitting flow run '\(run.id)' (attempt \(assignment.attempt)).")
        do {
            let directory: String
            if let configured = job.workingDirectory {
                directory = configured
            } else {
                directory = try RunWorkingDirectory.create()
                execution.temporaryDirectory = directory
            }
            var environment = ProcessInfo.processInfo.environment
            environment.merge(job.environment) { _, job in job }
            environment["DROVER_FLOW_RUN_ID"] = run.id
            environment["DROVER_FLOW_RUN_NAME"] = run.name
            environment["DROVER_FLOW_RUN_ATTEMPT"] = "\(assignment.attempt)"
            environment["DROVER_DEPLOYMENT_NAME"] = run.deploymentName
            environment["DROVER_PARAMETERS"] = JSONValue(run.parameters).render()
            // `drover concurrency acquire` and `drover rate-limit` inside the run find the
            // limit service here, unless the worker's or the job's environment names one.
            if environment["DROVER_LIMITS", default: ""].isEmpty && !limitsEndpoint.isEmpty {
                environment["DROVER_LIMITS"] = limitsEndpoint
            }
            let command = job.command ?? run.command
            let id = run.id
            let process = try ChildProcess.start(
                ProcessSpec(command: command, environment: environment, workingDirectory: directory)
            ) { [childEvents] event in
                childEvents.push(id, event)
            }
            execution.process = process
            runs[run.id] = execution
            send(
                .runStarted(
                    .with {
                        $0.runID = run.id
                        $0.attempt = assignment.attempt
                        $0.pid = UInt32(process.pid)
                        $0.started = Google_Protobuf_Timestamp(date: Date())
                    }))
            appendWorkerLog(run.id, "Started as pid \(process.pid) in \(directory).")
            onEvent(.runStarted(runName: run.name, runID: run.id, pid: process.pid))
        } catch {
            appendWorkerLog(run.id, "Could not start: \(error.message)")
            finish(run.id, outcome: .runCrashed, exitCode: nil, message: "Could not start: \(error.message)")
        }
    }

    private func handleChildEvents() {
        let events = childEvents.takeAll()
        for (runID, event) in events {
            guard var run = runs[runID] else { continue }
            switch event {
            case .output(let line):
                if run.streamOutput {
                    onEvent(.output(runName: run.runName, line: line.text, isError: line.stream == .stderr))
                }
                run.log(
                    .with {
                        $0.timestamp = Google_Protobuf_Timestamp(date: line.timestamp)
                        $0.stream = line.stream == .stderr ? "stderr" : "stdout"
                        $0.text = line.text
                        $0.attempt = run.attempt
                    })
                runs[runID] = run
            case .exited(let outcome):
                let (result, code, message) = run.report(for: outcome)
                appendWorkerLog(runID, "Ended: \(message)")
                finish(runID, outcome: result, exitCode: code, message: message)
            }
        }
    }

    /// Reports a run's end (unless stale), then forgets it; the report is kept until the
    /// server has surely received it.
    private func finish(_ runID: String, outcome: Drover_V1_RunOutcome, exitCode: Int32?, message: String) {
        guard let run = runs[runID] else { return }
        if !run.stale {
            var reports = logBatches(of: run)
            reports.append(
                .runFinished(
                    .with {
                        $0.runID = runID
                        $0.attempt = run.attempt
                        $0.outcome = outcome
                        if let exitCode { $0.exitCode = exitCode }
                        $0.message = message
                        $0.finished = Google_Protobuf_Timestamp(date: Date())
                    }))
            for report in reports { send(report) }
            unconfirmed.append((.now, reports))
        }
        if let directory = run.temporaryDirectory { try? RunWorkingDirectory.remove(directory) }
        runs[runID] = nil
        onEvent(.runFinished(runName: run.runName, runID: runID, outcome: message))
    }

    private func appendWorkerLog(_ runID: String, _ text: String) {
        guard let attempt = runs[runID]?.attempt else { return }
        let line = Drover_V1_LogLine.with {
            $0.timestamp = Google_Protobuf_Timestamp(date: Date())
            $0.stream = "worker"
            $0.text = text
            $0.attempt = attempt
        }
        runs[runID]?.log(line)
    }

    private func flushLogs() {
        for runID in runs.keys where !(runs[runID]?.pendingLogs.isEmpty ?? true) { flushLogs(of: runID) }
    }

    /// Sends a run's waiting lines in batches of at most 500. They are kept, like a run's
    /// end, until a later heartbeat is answered: lines sent while the server is down are
    /// sent again after the reconnection (a line may then show twice, but none is lost).
    private func flushLogs(of runID: String) {
        guard var run = runs[runID], !run.pendingLogs.isEmpty, session != 0, !run.stale else { return }
        let batches = logBatches(of: run)
        for batch in batches { send(batch) }
        unconfirmed.append((.now, batches))
        run.pendingLogs.removeAll()
        runs[runID] = run
    }

    /// A run's waiting lines as LogBatch messages of at most 500 lines.
    private func logBatches(of run: RunExecution) -> [Drover_V1_WorkerMessage.OneOf_Kind] {
        stride(from: 0, to: run.pendingLogs.count, by: 500).map { start in
            let lines = Array(run.pendingLogs[start..<min(start + 500, run.pendingLogs.count)])
            return .logBatch(.with { $0.runID = run.runID; $0.attempt = run.attempt; $0.lines = lines })
        }
    }

    // MARK: Signals

    /// First SIGINT/SIGTERM: take no more runs, let running ones finish. Second: terminate them.
    private func handleSignals() {
        let count = SignalMonitor.count
        guard count > signalsHandled else { return }
        signalsHandled = count
        if !draining {
            draining = true
            send(.credit(.with { $0.available = 0 }))
            logger.info("draining: taking no new runs", metadata: ["runs.active": "\(runs.count)"])
            onEvent(.draining(running: runs.count))
        }
        if count >= 2 {
            onEvent(.terminating(running: runs.count))
            for runID in runs.keys {
                runs[runID]?.terminatedByWorker = true
                runs[runID]?.process?.terminate(grace: configuration.terminationGrace)
            }
        }
    }
}

/// Events from the threads supervising child processes, handed to the worker's loop.
final class ChildEventQueue: Sendable {
    private let pending = Mutex<[(runID: String, event: ProcessEvent)]>([])
    private let wakeup: Wakeup

    init(wakeup: Wakeup) {
        self.wakeup = wakeup
    }

    /// Queues an event and wakes the loop. Any thread.
    func push(_ runID: String, _ event: ProcessEvent) {
        pending.withLock { $0.append((runID, event)) }
        wakeup.signal()
    }

    /// Everything queued so far, in order.
    func takeAll() -> [(runID: String, event: ProcessEvent)] {
        pending.withLock { queued in
            defer { queued.removeAll() }
            return queued
        }
    }
}
