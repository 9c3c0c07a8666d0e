import DroverCore
import DroverLimits
import DroverProto
import DroverWire
import Foundation
import Logging
import Synchronization
import ZeroMQ

/// The coordinator's event loop: one OS thread that owns the control and dispatch
/// ROUTER sockets, the dispatch socket's monitor, the DEALER to the limit service, and
/// the `Coordinator` state.
///
/// ZeroMQ sockets are not thread-safe, so every socket is created, used and closed on
/// this thread, which blocks in `zmq_poll` and never on Swift's cooperative pool. The
/// poll timeout is the coordinator's next deadline (a run falling due, a worker going
/// silent), so timers need no thread of their own and nothing polls the store. Other
/// threads reach the loop only through `stop()`, which rings an eventfd in the poll set.
///
/// Deadlines are checked between wake-ups, so a wake-up is bounded in time, not only in
/// messages: each endpoint is served for at most `serveTimeBudget`, then what it produced
/// is committed and sent, and the deadlines come due. (Bounded by count alone, one wake-up
/// of 1,024 costly requests took tens of seconds in a debug build, and a dead worker's
/// heartbeat deadline waited for it.)
///
/// Every peer may be hostile: what one sends cannot take the loop from the others. Each
/// peer's outgoing queue is bounded (`controlQueueBound`, `dispatchQueueBound`), the
/// replies one wake-up holds are bounded (`replyBudget`), warnings about bad frames are
/// rate-limited, and what a peer sent is escaped before it is logged.
final class EventLoop: Sendable {
    private let configuration: CoordinatorConfiguration
    private let logger: Logger
    private let wakeup: Wakeup
    private let stopping = Atomic<Bool>(false)
    /// Warnings about what peers send: at most one of a kind every 10 s, with a count of
    /// those held back. Only the loop's thread takes it.
    private let peerWarnings = Mutex(WarningGate())
    /// Control replies dropped because their client's queue was full, since the start.
    private let droppedReplies = Atomic<Int>(0)

    /// Messages handled per socket per wake-up, so one busy socket cannot starve the other.
    private static let batchLimit = 1024

    /// Bytes of control replies one wake-up holds until they are sent: past it the loop
    /// reads no more requests until the next wake-up. Replies wait for the group commit,
    /// so without a bound one client's burst of large requests (a list of many pools) would
    /// be held in memory all at once.
    static let replyBudget = 8 << 20

    /// How long one wake-up serves one endpoint before it commits and sends what it has,
    /// handles deadlines and polls again. Control requests are read fairly, one client's then
    /// the next's, so a client waits for about this long behind one that floods the server
    /// with costly requests, and a deadline is late by at most about twice this.
    static let serveTimeBudget: Duration = .milliseconds(50)

    /// Replies queued per control client (its SNDHWM and RCVHWM). Twice the deepest
    /// pipelining of our own clients (`drover bench` keeps 256 requests in flight), since
    /// libzmq counts what the peer read in steps of half the mark. A client that leaves more
    /// unread is not reading: further replies to it are dropped and counted.
    static let controlQueueBound: Int32 = 512

    /// Messages queued per worker (its SNDHWM and RCVHWM). A worker is sent at most its
    /// limit of runs plus an acknowledgement per report and a few cancels and stops, and
    /// reads them at once; one that leaves this many unread is treated as unreachable.
    static let dispatchQueueBound: Int32 = 10_000

    init(configuration: CoordinatorConfiguration, logger: Logger) throws(DroverError) {
        self.configuration = configuration
        self.logger = logger
        do {
            wakeup = try Wakeup()
        } catch {
            throw DroverError(.internal, "Could not create the loop's wake-up descriptor: \(error)")
        }
    }

    /// Asks the loop to finish the messages it already received and return. Any thread.
    func stop() {
        stopping.store(true, ordering: .sequentiallyConsistent)
        wakeup.signal()
    }

    /// Runs the loop on its own thread until `stop()`, or until a fault it cannot survive
    /// (such as the store refusing a write on the dispatch path), which it throws.
    ///
    /// - Parameter onBound: called on the loop thread once every endpoint is bound,
    ///   before the first message is read.
    /// - Parameter limits: the limit service's endpoint.
    func run(
        coordinator: CoordinatorFactory, limits: String, onBound: @escaping @Sendable (ServerEndpoints) -> Void
    ) async throws {
        try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<Void, any Error>) in
            let thread = Thread { [self] in
                do {
                    try self.loop(factory: coordinator, limitsEndpoint: limits, onBound: onBound)
                    continuation.resume()
                } catch {
                    continuation.resume(throwing: error)
                }
            }
            thread.name = "drover-coordinator"
            thread.start()
        }
    }

    private func loop(
        factory: CoordinatorFactory, limitsEndpoint: String, onBound: @Sendable (ServerEndpoints) -> Void
    ) throws {
        let context: Context
        do {
            context = try Context(ioThreads: 1, maxSockets: 4096)
        } catch {
            throw DroverError(.internal, "Could not create a ZeroMQ context: \(error)")
        }
        // The ZAP handler comes first: a secure endpoint admits nobody without it.
        let authenticator = try configuration.security?.startAuthenticator(in: context, logger: logger)
        defer { authenticator?.stop() }
        let control = try bindRouter(
            context, port: configuration.controlPort, option: "--control-port", queueBound: Self.controlQueueBound)
        let dispatch = try bindRouter(
            context, port: configuration.dispatchPort, option: "--dispatch-port", queueBound: Self.dispatchQueueBound)
        // No handover: with it, any peer that connects with a worker's routing id (which
        // `worker ls` prints) takes the worker's connection. Without it, a connection that
        // arrives with an id in use is ignored for good. A worker that reconnects closes its
        // old socket, so its id is free once that close reached this loop; should its new
        // connection have arrived first, it is shut down then (`ConnectionTable`'s silent
        // connections) and libzmq brings it back by itself, before the worker's Hello.
        try? dispatch.socket.set(.routerHandover, false)
        let monitor = try monitorConnections(of: dispatch.socket)
        var connections = ConnectionTable()
        // A secure server's workers, by the key each said Hello with: a revoked key's worker goes.
        var keyed = KeyedWorkers()
        let limits = try connectLimits(context, endpoint: limitsEndpoint)
        let endpoints = ServerEndpoints(control: control.endpoint, dispatch: dispatch.endpoint, limits: limitsEndpoint)
        var coordinator = try factory.make(endpoints)
        let keys = KeyAdministration(security: configuration.security, controlEndpoint: endpoints.control, logger: logger)
        onBound(endpoints)
        defer { logger.info("event loop stopped") }

        var poller = Poller()
        let controlIndex = poller.add(control.socket)
        let dispatchIndex = poller.add(dispatch.socket)
        let monitorIndex = poller.add(monitor.socket)
        let limitsIndex = poller.add(limits)
        let wakeupIndex = poller.add(fileDescriptor: wakeup.fileDescriptor)
        while !stopping.load(ordering: .sequentiallyConsistent) {
            var timeout = coordinator.nextDeadline().map { Duration.seconds(max(0, $0.timeIntervalSinceNow)) }
            // A revocation must count while the server is idle too.
            if configuration.security != nil { timeout = min(timeout ?? KeyedWorkers.checkInterval, KeyedWorkers.checkInterval) }
            let events = try poller.poll(timeout: timeout)
            if events[wakeupIndex].contains(.readable) { wakeup.drain() }
            var replies: [ControlReply] = []
            if events[controlIndex].contains(.readable) {
                serveControl(control.socket, &coordinator, keys: keys, replies: &replies)
            }
            if events[monitorIndex].contains(.readable) {
                try readConnectionEvents(monitor, &connections, &coordinator)
            }
            if let security = configuration.security {
                try dropRevoked(&keyed, security: security, monitor: monitor, connections, &coordinator)
            }
            if events[dispatchIndex].contains(.readable) || connections.sweepDue {
                let drained = try serveDispatch(dispatch.socket, monitor: monitor, &connections, &keyed, &coordinator)
                if drained { closeSilentConnections(monitor, &connections) }
            }
            if events[limitsIndex].contains(.readable) {
                try serveLimits(limits, &coordinator)
            }
            if let deadline = coordinator.nextDeadline(), deadline <= Date() {
                try coordinator.tick()
            }
            // Group commit: everything this wake-up changed becomes durable in one
            // transaction, and only then do its replies and messages leave.
            try coordinator.sync()
            send(replies, on: control.socket)
            try flush(&coordinator, to: dispatch.socket, limits: limits)
        }
        // Finish what was already received, then close.
        var replies: [ControlReply] = []
        serveControl(control.socket, &coordinator, keys: keys, replies: &replies)
        try serveDispatch(dispatch.socket, monitor: monitor, &connections, &keyed, &coordinator)
        try coordinator.sync()
        send(replies, on: control.socket)
        try flush(&coordinator, to: dispatch.socket, limits: limits)
    }

    private func bindRouter(
        _ context: Context, port: Int, option: String, queueBound: Int32
    ) throws(DroverError) -> (socket: Socket, endpoint: String) {
        try RouterEndpoint.bind(
            context, endpoint: configuration.endpoint(port: port), maxFrameBytes: configuration.maxFrameBytes,
            ipv6: configuration.usesIPv6, portOption: option, queueBound: queueBound, security: configuration.security)
    }

    /// The dispatch socket's monitor: which connections open and close.
    private func monitorConnections(of dispatch: Socket) throws(DroverError) -> SocketMonitor {
        do {
            return try SocketMonitor(dispatch, events: [.accepted, .disconnected])
        } catch {
            throw DroverError(.internal, "Could not monitor the dispatch endpoint's connections: \(error)")
        }
    }

    /// A DEALER to the limit service. It connects in the background and keeps what is
    /// sent until the service is there; the coordinator resends what matters periodically.
    private func connectLimits(_ context: Context, endpoint: String) throws(DroverError) -> Socket {
        do {
            let socket = try Socket(context: context, type: .dealer)
            try socket.set(.maxMessageSize, configuration.maxFrameBytes)
            try socket.set(.sendHighWaterMark, 100_000)
            try socket.set(.receiveHighWaterMark, 100_000)
            if configuration.usesIPv6 { try socket.set(.ipv6, true) }
            if let key = configuration.limitServiceKey ?? configuration.security?.ownClientKey {
                try socket.secureAsCurveClient(serverKey: key.serverPublicKey, publicKey: key.publicKey, secretKey: key.secretKey)
            }
            try socket.connect(endpoint)
            return socket
        } catch {
            throw DroverError(
                .invalidArgument, "Invalid limit service endpoint '\(endpoint)' (\(error.code)). Give one such as tcp://127.0.0.1:4203.")
        }
    }

    // MARK: Control

    /// A reply to a control client, serialized, held until the changes behind it are durable.
    private typealias ControlReply = (identity: [UInt8], payload: [UInt8])

    /// Handles the control requests received so far and adds their replies to `replies`,
    /// until the batch, the reply budget or the time budget is spent.
    private func serveControl(
        _ control: Socket, _ coordinator: inout Coordinator, keys: KeyAdministration, replies: inout [ControlReply]
    ) {
        var bytes = replies.reduce(0) { $0 + $1.payload.count }
        let deadline = ContinuousClock.now + Self.serveTimeBudget
        for _ in 0..<Self.batchLimit {
            guard bytes < Self.replyBudget, ContinuousClock.now < deadline, let message = try? control.receive(wait: false)
            else { return }
            let identity: [UInt8]
            let reply: Drover_V1_ControlReply
            switch ControlFrame.decode(message) {
            case nil:
                warn("dropped a control message without a routing id", ["bytes": "\(message.byteCount)"])
                continue
            case .reject(let who, let rejection)?:
                warn(
                    "rejected a control message",
                    ["reason": "\(ResourceName.printable(rejection.error.message))", "bytes": "\(message.byteCount)"])
                (identity, reply) = (who, rejection)
            case .request(let who, let request)?:
                if let refusal = refusal(of: request, from: message) {
                    (identity, reply) = (who, .failure(requestID: request.requestID, code: .permissionDenied, message: refusal.message))
                } else if KeyAdministration.handles(request.operation) {
                    let admin = message.userID.map { configuration.security?.keyName(for: $0) ?? $0 } ?? "no key"
                    (identity, reply) = (who, keys.answer(request, from: admin))
                } else {
                    (identity, reply) = (who, coordinator.handle(request))
                }
            }
            do {
                let payload: [UInt8] = try Drover_V1_Envelope.reply(reply).serializedBytes()
                bytes += payload.count
                replies.append((identity, payload))
            } catch {
                logger.error("could not encode a control reply", metadata: ["error": "\(error)"])
            }
        }
    }

    /// Why a secure server does not handle `request`: its key was revoked since it
    /// connected, or its role does not allow it. Nil when it may, or the server is not secure.
    private func refusal(of request: Drover_V1_ControlRequest, from message: ZeroMQ.Message) -> DroverError? {
        guard let security = configuration.security else { return nil }
        guard let key = security.key(for: message.userID) else {
            return ServerSecurity.revokedRefusal
        }
        return ControlAccess.allows(key.role, request.operation)
            ? nil : ControlAccess.refusal(for: key.name, role: key.role, request.operation)
    }

    /// Sends the replies; one whose client's queue is full is dropped and counted.
    private func send(_ replies: [ControlReply], on control: Socket) {
        for (identity, payload) in replies {
            do {
                if try control.send(ZeroMQ.Message([identity, payload]), wait: false) { continue }
                let dropped = droppedReplies.add(1, ordering: .relaxed).newValue
                warn(
                    "dropped a control reply: the client's queue is full",
                    ["client.bytes": "\(identity.count)", "replies.dropped": "\(dropped)"])
            } catch let error where error.code == .hostUnreachable {
                logger.debug("a control client left before its reply")
            } catch {
                logger.error("could not send a control reply", metadata: ["error": "\(error)"])
            }
        }
    }

    // MARK: Dispatch

    /// Handles the workers' messages received so far, until the batch or the time budget is
    /// spent. Before each, the connection events written before it are read, so the
    /// connection table knows the connection it came on. Returns whether every message was read.
    @discardableResult
    private func serveDispatch(
        _ dispatch: Socket, monitor: SocketMonitor, _ connections: inout ConnectionTable, _ keyed: inout KeyedWorkers,
        _ coordinator: inout Coordinator
    ) throws -> Bool {
        let deadline = ContinuousClock.now + Self.serveTimeBudget
        for _ in 0..<Self.batchLimit {
            guard ContinuousClock.now < deadline else { return false }
            guard let message = try? dispatch.receive(wait: false) else { return true }
            try readConnectionEvents(monitor, &connections, &coordinator)
            let worker: String
            let workerMessage: Drover_V1_WorkerMessage
            switch DispatchFrame.decode(message.frames) {
            case .message(let sender, let decoded):
                (worker, workerMessage) = (sender, decoded)
            case .otherVersion(let sender, let version):
                coordinator.refuseVersion(version, worker: sender)
                continue
            case .unnamed(let identity):
                warn("refused a worker that did not set its routing id to its worker id", ["bytes": "\(message.byteCount)"])
                refuseUnnamed(identity, on: dispatch)
                continue
            case .malformed:
                warn("dropped a malformed message on the dispatch endpoint", ["bytes": "\(message.byteCount)"])
                continue
            }
            if case .hello(let hello)? = workerMessage.kind, let refusal = refusal(of: hello, from: message) {
                // The message names the pool the peer sent: escaped and cut short for the log.
                warn("refused a worker's key", ["reason": "\(ResourceName.printable(String(refusal.message.prefix(300))))"])
                send(
                    .with {
                        $0.protocolVersion = droverProtocolVersion
                        $0.coordinatorMessage.reject = .with {
                            $0.error = .with {
                                $0.code = .permissionDenied; $0.message = refusal.message
                            }
                            $0.helloID = hello.helloID
                        }
                    }, to: worker, on: dispatch)
                continue
            }
            if case .hello? = workerMessage.kind, configuration.security != nil, let key = message.userID {
                keyed.saidHello(worker, key: key)
            }
            let sighting = message.sourceFD.map { connections.spoke(worker, on: $0) }
            if sighting == .alreadyClosed, case .hello? = workerMessage.kind {
                // Its connection closed before its Hello was read: no one is there to welcome
                // (a session now would only be lost at once, and listed as departed).
                try coordinator.connectionClosed(of: worker)
                continue
            }
            do throws(DroverError) {
                try coordinator.handle(worker: worker, workerMessage)
            } catch {
                guard error.code != .internal else { throw error }
                // A report that breaks the rules (a transition the state machine forbids) is
                // the worker's problem, not the server's: log it and carry on. Store
                // failures (.internal) stop the server, which cannot promise what it cannot persist.
                warn(
                    "refused a worker's report",
                    ["worker.id": "\(ResourceName.printable(worker))", "reason": "\(ResourceName.printable(error.message))"])
            }
            if sighting == .alreadyClosed {
                // It spoke from a connection that has closed since: it is gone (or on its way back).
                try coordinator.connectionClosed(of: worker)
            }
        }
        return false
    }

    /// Loses the workers whose key was revoked since their Hello, and cuts their connections:
    /// their runs go elsewhere, and they cannot come back (their handshakes fail).
    private func dropRevoked(
        _ keyed: inout KeyedWorkers, security: ServerSecurity, monitor: SocketMonitor, _ connections: ConnectionTable,
        _ coordinator: inout Coordinator
    ) throws {
        let revoked = keyed.revoked(
            now: .now, isActive: { security.key(for: $0) != nil }, isConnected: { coordinator.isConnected($0) })
        for (worker, key) in revoked {
            logger.warning("dropped a worker whose key was revoked", metadata: ["key.name": "\(security.keyName(for: key))"])
            if let fd = connections.connection(of: worker) { monitor.shutDown(connection: fd) }
            try coordinator.connectionClosed(of: worker)
        }
    }

    /// Closes the connections the table says to (silent ones, once a worker's connection
    /// closed): a reconnecting worker's new connection, which the ROUTER may have ignored
    /// while its old one held the routing id, comes back by itself before its Hello is due.
    private func closeSilentConnections(_ monitor: SocketMonitor, _ connections: inout ConnectionTable) {
        for fd in connections.silentConnectionsToClose() {
            logger.debug("closed a dispatch connection that has not spoken yet", metadata: ["connection.fd": "\(fd)"])
            monitor.shutDown(connection: fd)
        }
    }

    /// Reads the dispatch connections' events; a worker whose current connection closed
    /// is lost at once.
    private func readConnectionEvents(
        _ monitor: SocketMonitor, _ connections: inout ConnectionTable, _ coordinator: inout Coordinator
    ) throws {
        while let event = try? monitor.receive(wait: false) {
            switch event.kind {
            case .accepted:
                connections.accepted(event.fileDescriptor)
            case .disconnected:
                if let worker = connections.disconnected(event.fileDescriptor) {
                    try coordinator.connectionClosed(of: worker)
                }
            default:
                break
            }
        }
    }

    // MARK: Limits

    private func serveLimits(_ limits: Socket, _ coordinator: inout Coordinator) throws {
        for _ in 0..<Self.batchLimit {
            guard let message = try? limits.receive(wait: false) else { return }
            guard message.frames.count == 1, let envelope = try? Drover_V1_Envelope(serializedBytes: message.frames[0]),
                case .limitReply(let reply)? = envelope.body
            else {
                warn("dropped a malformed message from the limit service", ["bytes": "\(message.byteCount)"])
                continue
            }
            try coordinator.handle(limitReply: reply)
        }
    }

    /// Sends what the coordinator has for workers and for the limit service; a worker that
    /// cannot be reached is lost.
    private func flush(_ coordinator: inout Coordinator, to dispatch: Socket, limits: Socket) throws {
        // A worker found unreachable here loses its runs, which gives back their slots: keep
        // going until both outboxes are empty, so those releases leave now, not at the next wake-up.
        for _ in 0..<100 {
            let requests = coordinator.takeLimitRequests()
            let outbox = coordinator.takeOutbox()
            guard !requests.isEmpty || !outbox.isEmpty else { return }
            // What a lost worker changed in the previous round is durable before more leaves.
            try coordinator.sync()
            for request in requests {
                do {
                    let payload: [UInt8] = try Drover_V1_Envelope.with {
                        $0.protocolVersion = droverProtocolVersion
                        $0.limitRequest = request
                    }.serializedBytes()
                    if try !limits.send(payload, wait: false) {
                        warn("dropped a request for the limit service: its queue is full", [:])
                    }
                } catch {
                    logger.error("could not send a request to the limit service", metadata: ["error": "\(error)"])
                }
            }
            for (worker, message) in outbox {
                let delivered = send(
                    .with {
                        $0.protocolVersion = droverProtocolVersion; $0.coordinatorMessage = message
                    },
                    to: worker, on: dispatch)
                if !delivered && coordinator.isConnected(worker) {
                    try coordinator.workerUnreachable(worker)
                }
            }
        }
    }

    /// Sends one envelope to a worker without blocking; false when it is gone or its queue
    /// is full (it does not read: the caller treats it as unreachable).
    private func send(_ envelope: Drover_V1_Envelope, to worker: String, on dispatch: Socket) -> Bool {
        send(envelope, toIdentity: Array(worker.utf8), on: dispatch)
    }

    @discardableResult
    private func send(_ envelope: Drover_V1_Envelope, toIdentity identity: [UInt8], on dispatch: Socket) -> Bool {
        do {
            let payload: [UInt8] = try envelope.serializedBytes()
            if try dispatch.send(ZeroMQ.Message([identity, payload]), wait: false) { return true }
            let worker = String(decoding: identity, as: UTF8.self)
            warn("dropped a dispatch message: the worker's queue is full", ["worker.id": "\(ResourceName.printable(worker))"])
        } catch let error as ZeroMQError where error.code == .hostUnreachable {
            logger.debug("a worker left before its dispatch message")
        } catch {
            logger.error("could not send a dispatch message", metadata: ["error": "\(error)"])
        }
        return false
    }

    /// Why a secure server refuses a worker's Hello: its key may not serve the pool it names.
    private func refusal(of hello: Drover_V1_Hello, from message: ZeroMQ.Message) -> DroverError? {
        guard let security = configuration.security else { return nil }
        guard let key = security.key(for: message.userID) else {
            return ServerSecurity.revokedRefusal
        }
        return ControlAccess.mayServe(key, pool: hello.workPoolName)
            ? nil : ControlAccess.serveRefusal(for: key, pool: hello.workPoolName)
    }

    /// Tells a peer that did not name itself what to set; it has no session to refuse.
    private func refuseUnnamed(_ identity: [UInt8], on dispatch: Socket) {
        let refusal = DispatchFrame.unnamedRefusal()
        send(
            .with {
                $0.protocolVersion = droverProtocolVersion; $0.coordinatorMessage = refusal
            },
            toIdentity: identity, on: dispatch)
    }

    /// Logs a warning about what a peer sent, unless one of the same kind went out in the
    /// last 10 s; the next one says how many were held back meanwhile. `kind` is the
    /// message; the metadata must hold nothing a peer sent unescaped.
    private func warn(_ kind: String, _ metadata: Logger.Metadata) {
        let heldBack: Int? = peerWarnings.withLock { gate in
            gate.allows(kind, now: .now) ? gate.takeHeldBack(kind) : nil
        }
        guard let heldBack else { return }
        var metadata = metadata
        if heldBack > 0 { metadata["warnings.held_back"] = "\(heldBack)" }
        logger.warning("\(kind)", metadata: metadata)
    }
}

/// Builds the coordinator once the endpoints are known, on the loop thread.
struct CoordinatorFactory: Sendable {
    let make: @Sendable (ServerEndpoints) throws(DroverError) -> Coordinator
}
