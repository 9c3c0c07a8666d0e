import DroverCore
import DroverProto
import Foundation
import SwiftProtobuf
import Synchronization
import ZeroMQ

/// Workers that speak the dispatch protocol and run nothing, or one command: each takes
/// runs up to its limit and reports them started and finished, at once, after a fixed
/// duration, or when the process it started for the run exits.
///
/// All of them live on one thread that polls every worker's DEALER socket, so a fleet of
/// hundreds costs one thread. Each worker has its own connection, routing id, session and
/// credit, as a real one has. The moment a worker reads a run off its socket is recorded
/// against the run's creation time (the server's clock, on this host): that is the
/// dispatch latency.
final class SimulatedFleet: @unchecked Sendable {
    struct Configuration: Sendable {
        var dispatchEndpoint: String
        var pool: String
        var workers: Int
        var limit: UInt32
        /// How long each run "runs"; zero reports it finished at once.
        var runDuration: Duration
        /// Runs the fleet expects to see, to size its buffers.
        var expectedRuns: Int
        /// The number of the fleet's first worker, so that the workers of several fleets
        /// have distinct names.
        var firstWorker = 1
        /// A command (argv) each run starts as a process; nil runs nothing.
        var process: [String]?
        /// The key every worker presents to a `--secure` server.
        var key: KeyFile?
    }

    /// What the fleet measured; read after `run` returns.
    struct Measurements: Sendable, Codable {
        /// Microseconds from the run's creation to its assignment being read by a worker.
        var dispatch: [UInt64] = []
        /// Microseconds from creation to the moment the worker reported it finished.
        var endToEnd: [UInt64] = []
        /// Microseconds from creation to the run started: its process spawned, or (running
        /// nothing) its assignment read.
        var start: [UInt64] = []
        var finished = 0
        var firstAssignment: Date?
        var lastFinish: Date?

        /// Adds what another fleet measured.
        mutating func merge(_ other: Measurements) {
            dispatch += other.dispatch
            endToEnd += other.endToEnd
            start += other.start
            finished += other.finished
            firstAssignment = [firstAssignment, other.firstAssignment].compactMap { $0 }.min()
            lastFinish = [lastFinish, other.lastFinish].compactMap { $0 }.max()
        }
    }

    private let configuration: Configuration
    private let stopping = Atomic<Bool>(false)
    /// Where it counts workers welcomed and runs finished, for whoever waits on them.
    private let tally: FleetTally

    init(configuration: Configuration, tally: FleetTally) {
        self.configuration = configuration
        self.tally = tally
    }

    /// Asks the fleet's loop to return at its next wake-up. Any thread.
    func stop() { stopping.store(true, ordering: .releasing) }

    private struct Worker {
        let id: String
        let socket: Socket
        var session: UInt64 = 0
        var nextHeartbeat = ContinuousClock.now
        var heartbeatInterval: Duration = .seconds(2)
    }

    /// Runs whose processes are running, by the launcher's tag.
    private struct Processes {
        var nextTag = 0
        var running: [Int: Pending] = [:]
    }

    /// A run to report finished at `due`.
    private struct Pending: Comparable {
        let due: ContinuousClock.Instant
        let worker: Int
        let runID: String
        let attempt: UInt32
        let created: Date

        static func < (lhs: Pending, rhs: Pending) -> Bool { lhs.due < rhs.due }
        static func == (lhs: Pending, rhs: Pending) -> Bool { lhs.due == rhs.due && lhs.runID == rhs.runID }
    }

    /// Connects every worker, serves runs until `stop()` or `deadline`, and returns what
    /// it measured. Blocks the calling thread.
    func run(deadline: ContinuousClock.Instant) throws -> Measurements {
        defer { tally.partEnded() }
        let context = try Context(ioThreads: 1, maxSockets: Int32(max(1024, configuration.workers + 16)))
        var workers: [Worker] = []
        var poller = Poller()
        for index in 0..<configuration.workers {
            let id = "bench-\(UUID().uuidString.lowercased())"
            let socket = try Socket(context: context, type: .dealer)
            try socket.set(.routingID, Array(id.utf8))
            try socket.set(.maxMessageSize, droverMaxFrameBytes)
            try socket.set(.sendHighWaterMark, 100_000)
            try socket.set(.receiveHighWaterMark, 100_000)
            if let key = configuration.key { try socket.secure(asClientWith: key) }
            try socket.connect(configuration.dispatchEndpoint)
            _ = poller.add(socket)
            workers.append(Worker(id: id, socket: socket))
            send(.hello(hello(id: id, index: index)), session: 0, on: socket)
        }
        var measurements = Measurements()
        measurements.dispatch.reserveCapacity(configuration.expectedRuns)
        measurements.endToEnd.reserveCapacity(configuration.expectedRuns)
        measurements.start.reserveCapacity(configuration.expectedRuns)
        var pending: [Pending] = []
        let launcher = try configuration.process.map { _ throws(DroverError) in try ProcessLauncher() }
        defer { launcher?.shutdown() }
        let launcherIndex = launcher.map { poller.add(fileDescriptor: $0.fileDescriptor) }
        var processes = Processes()
        while !stopping.load(ordering: .acquiring), ContinuousClock.now < deadline {
            let nextDue = pending.first?.due
            let wait = nextDue.map { max(.zero, $0 - ContinuousClock.now) } ?? .milliseconds(50)
            let events = try poller.poll(timeout: min(wait, .milliseconds(50)))
            for index in workers.indices where events[index].contains(.readable) {
                for _ in 0..<1024 {
                    guard let message = try? workers[index].socket.receive(wait: false) else { break }
                    let received = Date()
                    guard message.frames.count == 1,
                        let envelope = try? Drover_V1_Envelope(serializedBytes: message.frames[0]),
                        case .coordinatorMessage(let reply)? = envelope.body
                    else { continue }
                    handle(
                        reply, worker: index, received: received, &workers, &pending, &measurements, launcher,
                        &processes)
                }
            }
            if let launcher, let launcherIndex, events[launcherIndex].contains(.readable) {
                reap(launcher.takeExits(), &processes, workers, &measurements)
            }
            finishDue(&workers, &pending, &measurements)
            heartbeat(&workers)
        }
        for worker in workers {
            send(.bye(.with { $0.reason = "bench finished" }), session: worker.session, on: worker.socket)
        }
        return measurements
    }

    private func hello(id: String, index: Int) -> Drover_V1_Hello {
        .with {
            $0.workerID = id
            $0.workPoolName = configuration.pool
            $0.name = "bench-worker-\(configuration.firstWorker + index)"
            $0.limit = configuration.limit
            $0.host = ProcessInfo.processInfo.hostName
            $0.pid = UInt32(ProcessInfo.processInfo.processIdentifier)
            $0.version = DroverVersion.current
            $0.type = "process"
        }
    }

    private func handle(
        _ message: Drover_V1_CoordinatorMessage, worker index: Int, received: Date, _ workers: inout [Worker],
        _ pending: inout [Pending], _ measurements: inout Measurements, _ launcher: ProcessLauncher?,
        _ processes: inout Processes
    ) {
        switch message.kind {
        case .welcome(let welcome):
            if workers[index].session == 0 { tally.add(welcomed: 1) }
            workers[index].session = welcome.session
            workers[index].heartbeatInterval = .milliseconds(Int64(max(100, welcome.heartbeatIntervalMs)))
            workers[index].nextHeartbeat = .now + workers[index].heartbeatInterval
        case .run(let assignment):
            let created = assignment.run.created.date
            measurements.dispatch.append(Self.microseconds(from: created, to: received))
            measurements.firstAssignment = measurements.firstAssignment ?? received
            let socket = workers[index].socket
            let session = workers[index].session
            var pid: Int32 = 0
            if let launcher, let argv = configuration.process {
                let item = Pending(
                    due: .now, worker: index, runID: assignment.run.id, attempt: assignment.attempt, created: created)
                do {
                    pid = try launcher.launch(argv, tag: processes.nextTag)
                } catch {
                    finish(item, exitCode: -1, outcome: .runCrashed, workers, &measurements)
                    tally.add(finished: 1)
                    return
                }
                processes.running[processes.nextTag] = item
                processes.nextTag += 1
            }
            let started = launcher == nil ? received : Date()
            measurements.start.append(Self.microseconds(from: created, to: started))
            send(
                .runStarted(
                    .with {
                        $0.runID = assignment.run.id
                        $0.attempt = assignment.attempt
                        $0.pid = UInt32(bitPattern: pid)
                        $0.started = Google_Protobuf_Timestamp(date: started)
                    }), session: session, on: socket)
            guard launcher == nil else { return }
            let item = Pending(
                due: .now + configuration.runDuration, worker: index, runID: assignment.run.id,
                attempt: assignment.attempt, created: created)
            // Runs of one fixed duration fall due in the order they came.
            if let last = pending.last, last.due > item.due {
                pending.insert(item, at: pending.firstIndex { $0.due > item.due } ?? pending.endIndex)
            } else {
                pending.append(item)
            }
        case .reject(let reject):
            if reject.helloAgain {
                send(.hello(hello(id: workers[index].id, index: index)), session: 0, on: workers[index].socket)
            }
        case .heartbeatAck, .cancel, .stop, nil:
            break
        }
    }

    private func finishDue(_ workers: inout [Worker], _ pending: inout [Pending], _ measurements: inout Measurements) {
        let now = ContinuousClock.now
        var done = 0
        for item in pending {
            guard item.due <= now else { break }
            done += 1
            finish(item, exitCode: 0, outcome: .runCompleted, workers, &measurements)
        }
        pending.removeFirst(done)
        tally.add(finished: done)
    }

    /// Reports the runs whose processes exited.
    private func reap(
        _ exits: [ProcessLauncher.Exit], _ processes: inout Processes, _ workers: [Worker], _ measurements: inout Measurements
    ) {
        var done = 0
        for exit in exits {
            guard let item = processes.running.removeValue(forKey: exit.tag) else { continue }
            let outcome: Drover_V1_RunOutcome = exit.status == 0 ? .runCompleted : exit.status > 128 ? .runCrashed : .runFailed
            finish(item, exitCode: exit.status, outcome: outcome, workers, &measurements)
            done += 1
        }
        tally.add(finished: done)
    }

    /// Tells the server the run ended, and measures it.
    private func finish(
        _ item: Pending, exitCode: Int32, outcome: Drover_V1_RunOutcome, _ workers: [Worker],
        _ measurements: inout Measurements
    ) {
        let finished = Date()
        let worker = workers[item.worker]
        send(
            .runFinished(
                .with {
                    $0.runID = item.runID
                    $0.attempt = item.attempt
                    $0.outcome = outcome
                    $0.exitCode = exitCode
                    $0.finished = Google_Protobuf_Timestamp(date: finished)
                }), session: worker.session, on: worker.socket)
        measurements.endToEnd.append(Self.microseconds(from: item.created, to: finished))
        measurements.finished += 1
        measurements.lastFinish = finished
    }

    private func heartbeat(_ workers: inout [Worker]) {
        let now = ContinuousClock.now
        for index in workers.indices where workers[index].session != 0 && workers[index].nextHeartbeat <= now {
            send(.heartbeat(.init()), session: workers[index].session, on: workers[index].socket)
            workers[index].nextHeartbeat = now + workers[index].heartbeatInterval
        }
    }

    private func send(_ kind: Drover_V1_WorkerMessage.OneOf_Kind, session: UInt64, on socket: Socket) {
        let envelope = Drover_V1_Envelope.with {
            $0.protocolVersion = droverProtocolVersion
            $0.workerMessage = .with {
                $0.session = session
                $0.kind = kind
            }
        }
        guard let payload: [UInt8] = try? envelope.serializedBytes() else { return }
        _ = try? socket.send(payload, wait: false)
    }

    private static func microseconds(from start: Date, to end: Date) -> UInt64 {
        UInt64(max(0, (end.timeIntervalSince(start) * 1_000_000).rounded()))
    }
}
