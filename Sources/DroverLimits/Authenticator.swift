import DroverCore
import Foundation
import Logging
import Synchronization
import ZeroMQ

/// The ZAP handler of a server's ZeroMQ context: a thread of its own that answers libzmq's
/// "may this peer connect?" for every CURVE handshake on the context's secure sockets.
///
/// It is bound before any server socket, and it must be stopped (`stop()`) before the
/// context terminates: its socket would hold the termination up. `decide` runs on its
/// thread for each handshake, so what it reads (a key store that a revocation changes)
/// takes effect for the next handshake.
public final class Authenticator: Sendable {
    private let wakeup: Wakeup
    private let state = State()

    /// What the handler's thread and its owner share.
    private final class State: Sendable {
        let stopping = Atomic<Bool>(false)
        let finished = DispatchSemaphore(value: 0)
    }

    /// Binds the handler in `context` and starts answering; returns once it is bound.
    public init(
        context: Context, logger: Logger, decide: @escaping @Sendable (ZAP.Request) -> ZAP.Verdict
    ) throws(DroverError) {
        do {
            wakeup = try Wakeup()
        } catch {
            throw DroverError(.internal, "Could not create the authenticator's wake-up descriptor: \(error)")
        }
        let bound = Mutex<Result<Void, DroverError>?>(nil)
        let ready = DispatchSemaphore(value: 0)
        let wakeup = wakeup
        let state = state
        let thread = Thread {
            // The socket is closed at the end of this scope, on this thread, before the owner
            // hears that the handler stopped (the context cannot terminate while it is open).
            do {
                let socket: Socket
                do {
                    socket = try Socket(context: context, type: .reply)
                    _ = try socket.bind(ZAP.endpoint)
                    bound.withLock { $0 = .success(()) }
                    ready.signal()
                } catch {
                    bound.withLock { $0 = .failure(DroverError(.internal, "Could not start the ZAP handler: \(error)")) }
                    ready.signal()
                    state.finished.signal()
                    return
                }
                Self.serve(socket, wakeup: wakeup, state: state, logger: logger, decide: decide)
                // Closing frees the endpoint later, on libzmq's reaper thread; unbinding frees it now.
                try? socket.unbind(ZAP.endpoint)
            }
            state.finished.signal()
        }
        thread.name = "drover-zap"
        thread.start()
        ready.wait()
        if case .failure(let error)? = bound.withLock({ $0 }) { throw error }
    }

    /// Stops answering and closes the handler's socket; returns once it is closed.
    public func stop() {
        guard !state.stopping.exchange(true, ordering: .acquiringAndReleasing) else { return }
        wakeup.signal()
        state.finished.wait()
    }

    private static func serve(
        _ socket: Socket, wakeup: Wakeup, state: State, logger: Logger,
        decide: @Sendable (ZAP.Request) -> ZAP.Verdict
    ) {
        while !state.stopping.load(ordering: .acquiring) {
            var poller = Poller()
            let socketIndex = poller.add(socket)
            let wakeupIndex = poller.add(fileDescriptor: wakeup.fileDescriptor)
            guard let events = try? poller.poll(timeout: nil) else { continue }
            if events[wakeupIndex].contains(.readable) { _ = wakeup.drain() }
            guard events[socketIndex].contains(.readable), let message = try? socket.receive(wait: false) else { continue }
            // A REP socket must answer what it received before it can receive again.
            guard let request = ZAP.Request(frames: message.frames) else {
                logger.error("the ZAP handler got a request it cannot read")
                _ = try? socket.send(ZeroMQ.Message([Array("1.0".utf8), [], Array("500".utf8), Array("bad request".utf8), [], []]))
                continue
            }
            _ = try? socket.send(ZeroMQ.Message(request.reply(decide(request))))
        }
    }
}
