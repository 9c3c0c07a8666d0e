import DroverCore
import DroverProto
import Foundation
import Logging
import Synchronization
import ZeroMQ

/// The coordinator's event loop: one OS thread that owns the control ROUTER socket.
///
/// ZeroMQ sockets are not thread-safe, so every socket is created, used and closed on
/// this thread, which blocks in `zmq_poll` and never on Swift's cooperative pool. Other
/// threads reach it only through `stop()`, which rings an eventfd in the poll set.
final class ControlLoop: Sendable {
    private let configuration: CoordinatorConfiguration
    private let logger: Logger
    private let wakeup: Wakeup
    private let stopping = Atomic<Bool>(false)

    /// Messages handled per wake-up before the loop checks for a stop again.
    private static let batchLimit = 1024

    init(configuration: CoordinatorConfiguration, logger: Logger) throws(DroverError) {
        self.configuration = configuration
        self.logger = logger
        do {
            wakeup = try Wakeup()
        } catch {
            throw DroverError(.internal, "Could not create the loop's wake-up descriptor: \(error)")
        }
    }

    /// Asks the loop to finish the requests it already received and return. Any thread.
    func stop() {
        stopping.store(true, ordering: .sequentiallyConsistent)
        wakeup.signal()
    }

    /// Runs the loop on its own thread until `stop()`.
    ///
    /// - Parameter onBound: called on the loop thread once every endpoint is bound,
    ///   before the first request is read.
    func run(
        handler: ControlHandlerFactory, onBound: @escaping @Sendable (ServerEndpoints) -> Void
    ) async throws {
        try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<Void, any Error>) in
            let thread = Thread { [self] in
                do {
                    try self.loop(handlerFactory: handler, onBound: onBound)
                    continuation.resume()
                } catch {
                    continuation.resume(throwing: error)
                }
            }
            thread.name = "drover-control"
            thread.start()
        }
    }

    private func loop(
        handlerFactory: ControlHandlerFactory, onBound: @Sendable (ServerEndpoints) -> Void
    ) throws {
        let context: Context
        let control: Socket
        let endpoint = configuration.endpoint(port: configuration.controlPort)
        var bound: String
        do {
            context = try Context(ioThreads: 1)
            control = try Socket(context: context, type: .router)
            try control.set(.routerMandatory, true)
            try control.set(.maxMessageSize, configuration.maxFrameBytes)
            try control.set(.sendHighWaterMark, 10_000)
            try control.set(.receiveHighWaterMark, 10_000)
            if configuration.usesIPv6 { try control.set(.ipv6, true) }
            bound = try control.bind(endpoint)
        } catch {
            throw Self.bindFailure(error, endpoint: endpoint, portOption: "--control-port")
        }
        var handler = try handlerFactory.make(ServerEndpoints(control: bound))
        onBound(ServerEndpoints(control: bound))
        defer { logger.info("control loop stopped") }

        var poller = Poller()
        let controlIndex = poller.add(control)
        let wakeupIndex = poller.add(fileDescriptor: wakeup.fileDescriptor)
        while !stopping.load(ordering: .sequentiallyConsistent) {
            let events = try poller.poll(timeout: nil)
            if events[wakeupIndex].contains(.readable) { wakeup.drain() }
            if events[controlIndex].contains(.readable) {
                try serve(control, handler: &handler, limit: Self.batchLimit)
            }
        }
        // Finish what was already received, then close.
        try serve(control, handler: &handler, limit: Self.batchLimit)
        bound = ""
    }

    /// Handles up to `limit` waiting messages without blocking.
    private func serve(_ control: Socket, handler: inout ControlHandler, limit: Int) throws {
        for _ in 0..<limit {
            guard let message = try control.receive(wait: false) else { return }
            switch ControlFrame.decode(message) {
            case nil:
                logger.warning("dropped a control message without a routing id")
            case .reject(let identity, let reply)?:
                logger.warning(
                    "rejected a control message", metadata: ["reason": "\(reply.error.message)", "bytes": "\(message.byteCount)"])
                send(reply, to: identity, on: control)
            case .request(let identity, let request)?:
                send(handler.handle(request), to: identity, on: control)
            }
        }
    }

    private func send(_ reply: Drover_V1_ControlReply, to identity: [UInt8], on control: Socket) {
        do {
            let payload: [UInt8] = try Drover_V1_Envelope.reply(reply).serializedBytes()
            if try !control.send(Message([identity, payload]), wait: false) {
                logger.warning("dropped a control reply: the client's queue is full")
            }
        } catch let error as ZeroMQError where error.code == .hostUnreachable {
            logger.debug("control client left before its reply")
        } catch {
            logger.error("could not send a control reply", metadata: ["error": "\(error)"])
        }
    }

    static func bindFailure(_ error: ZeroMQError, endpoint: String, portOption: String) -> DroverError {
        switch error.code {
        case .addressInUse:
            return DroverError(
                .unavailable,
                "Could not bind \(endpoint): the address is already in use. Is another Drover server running? "
                    + "Stop it, or pick another port with \(portOption).")
        case .addressNotAvailable, .invalidArgument:
            return DroverError(
                .invalidArgument,
                "Could not bind \(endpoint): \(error.code). Check --host: it must be an address of this machine.")
        default:
            return DroverError(.unavailable, "Could not bind \(endpoint): \(error.code).")
        }
    }
}

/// Builds the control handler once the endpoints are known, on the loop thread.
struct ControlHandlerFactory: Sendable {
    let make: @Sendable (ServerEndpoints) throws(DroverError) -> ControlHandler
}
