import DroverCore
import DroverProto
import DroverStore
import Foundation
import Logging
import Synchronization
import ZeroMQ

/// The limit service's event loop: one OS thread that owns the limits ROUTER and the
/// `LimitServiceCore`.
///
/// It blocks in `zmq_poll` with the core's next deadline (a lease expiring, a wait timing
/// out, decay making room) as its timeout, so a waiter is answered in the same wake-up that
/// frees its slots, and nothing polls. Other threads reach it only through `stop()`.
public final class LimitLoop: Sendable {
    private let configuration: LimitServiceConfiguration
    private let logger: Logger
    private let wakeup: Wakeup
    private let stopping = Atomic<Bool>(false)

    /// Messages handled per wake-up before timers get a turn.
    private static let batchLimit = 1024

    public init(configuration: LimitServiceConfiguration, logger: Logger) throws(DroverError) {
        self.configuration = configuration
        self.logger = logger
        do {
            wakeup = try Wakeup()
        } catch {
            throw DroverError(.internal, "Could not create the limit loop's wake-up descriptor: \(error)")
        }
    }

    /// Asks the loop to answer what it already received and return. Any thread.
    public func stop() {
        stopping.store(true, ordering: .sequentiallyConsistent)
        wakeup.signal()
    }

    /// Opens the store, binds the endpoint and serves until `stop()`, on a thread of its own.
    ///
    /// - Parameter onBound: called on the loop thread with the bound endpoint, before the
    ///   first request is read.
    public func run(onBound: @escaping @Sendable (String) -> Void) async throws {
        try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<Void, any Error>) in
            let thread = Thread { [self] in
                do {
                    try self.loop(onBound: onBound)
                    continuation.resume()
                } catch {
                    continuation.resume(throwing: error)
                }
            }
            thread.name = "drover-limits"
            thread.start()
        }
    }

    private func loop(onBound: @Sendable (String) -> Void) throws {
        let database = try SQLiteLimitStore(path: configuration.storePath, durability: configuration.durability)
        var core = try LimitServiceCore(store: GroupCommitLimitStore(database), settings: configuration.book, logger: logger)
        let context: Context
        do {
            context = try Context(ioThreads: 1, maxSockets: 4096)
        } catch {
            throw DroverError(.internal, "Could not create a ZeroMQ context: \(error)")
        }
        // The ZAP handler comes first: a secure endpoint admits nobody without it.
        let authenticator = try configuration.security?.startAuthenticator(in: context, logger: logger)
        defer { authenticator?.stop() }
        let (socket, endpoint) = try RouterEndpoint.bind(
            context, endpoint: RouterEndpoint.tcp(host: configuration.host, port: configuration.port),
            maxFrameBytes: configuration.maxFrameBytes, ipv6: configuration.host.contains(":"), portOption: configuration.portOption,
            security: configuration.security)
        logger.info("limit service ready", metadata: ["endpoint.limits": "\(endpoint)", "store.path": "\(database.path)"])
        onBound(endpoint)
        defer { logger.info("limit loop stopped") }

        var poller = Poller()
        let socketIndex = poller.add(socket)
        let wakeupIndex = poller.add(fileDescriptor: wakeup.fileDescriptor)
        while !stopping.load(ordering: .sequentiallyConsistent) {
            let timeout = core.nextDeadline().map { Duration.seconds(max(0, $0.timeIntervalSinceNow)) }
            let events = try poller.poll(timeout: timeout)
            if events[wakeupIndex].contains(.readable) { wakeup.drain() }
            var deliveries: [LimitDelivery] = []
            if events[socketIndex].contains(.readable) { try serve(socket, &core, into: &deliveries) }
            if let deadline = core.nextDeadline(), deadline <= Date() {
                deliveries += try core.tick()
            }
            try deliver(deliveries, on: socket, &core)
        }
        var deliveries: [LimitDelivery] = []
        try serve(socket, &core, into: &deliveries)
        try deliver(deliveries, on: socket, &core)
    }

    /// Handles the requests received so far, adding their replies to `deliveries`.
    private func serve(_ socket: Socket, _ core: inout LimitServiceCore, into deliveries: inout [LimitDelivery]) throws {
        for _ in 0..<Self.batchLimit {
            guard let message = try? socket.receive(wait: false) else { return }
            switch LimitFrame.decode(message.frames) {
            case .request(let client, let request):
                if let security = configuration.security,
                    let refusal = LimitAccess.refusal(of: request, by: security.key(for: message.userID))
                {
                    deliveries.append(LimitFrame.failure(client, request.requestID, refusal))
                    continue
                }
                deliveries += try core.handle(request, from: client)
            case .refuse(let refusal): deliveries.append(refusal)
            case .unanswerable: continue
            }
        }
    }

    /// Group commit: makes what the wake-up changed durable in one transaction, then sends
    /// its replies. A client that cannot be reached gives back what it was granted, which
    /// may grant it to the next in line: those changes are made durable before their replies go.
    private func deliver(_ deliveries: [LimitDelivery], on socket: Socket, _ core: inout LimitServiceCore) throws {
        var pending = deliveries
        for _ in 0..<10_000 {
            try core.sync()
            guard !pending.isEmpty else { return }
            var next: [LimitDelivery] = []
            for delivery in pending where !send(delivery, on: socket) {
                next += try core.undeliverable(delivery)
            }
            pending = next
        }
    }

    private func send(_ delivery: LimitDelivery, on socket: Socket) -> Bool {
        do {
            let envelope = Drover_V1_Envelope.with {
                $0.protocolVersion = droverProtocolVersion
                $0.limitReply = delivery.reply
            }
            let payload: [UInt8] = try envelope.serializedBytes()
            if try socket.send(ZeroMQ.Message([delivery.client, payload]), wait: false) { return true }
            logger.warning("a limits client's queue is full: treating it as gone")
        } catch let error as ZeroMQError where error.code == .hostUnreachable {
            logger.debug("a limits client left before its reply")
        } catch {
            logger.error("could not send a limits reply", metadata: ["error": "\(error)"])
        }
        return false
    }
}
