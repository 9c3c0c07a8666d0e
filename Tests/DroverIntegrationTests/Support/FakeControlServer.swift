#if canImport(ZeroMQ) && canImport(DroverProto)
import DroverProto
import Foundation
import Testing
import ZeroMQ

/// A stand-in for a Drover server: a ROUTER on a free loopback port that answers each
/// request with whatever `answer` returns (nothing, when it returns nil). Its socket
/// lives on its own thread; `stop()` ends it.
final class FakeControlServer: @unchecked Sendable {
    let endpoint: String
    private let wakeup: Wakeup
    private let finished: Latch
    private let received: LockedValue<Int>
    private let firstRequest: Latch

    private init(
        endpoint: String, wakeup: Wakeup, finished: Latch, received: LockedValue<Int>, firstRequest: Latch
    ) {
        self.endpoint = endpoint
        self.wakeup = wakeup
        self.finished = finished
        self.received = received
        self.firstRequest = firstRequest
    }

    /// How many requests arrived so far.
    var requestsReceived: Int { received.value }

    /// Waits (bounded) until a request arrived; true if one did.
    func awaitFirstRequest(seconds: Double = 5) async -> Bool {
        let firstRequest = self.firstRequest
        return await onOwnThread { firstRequest.wait(seconds: seconds) }
    }

    /// Binds a ROUTER on `tcp://127.0.0.1:*` on a new thread and returns once it is bound.
    /// - Parameter answer: the reply frame for a request (nil when it is not an envelope),
    ///   or nil to stay silent.
    static func start(
        answer: @escaping @Sendable (Drover_V1_Envelope?) -> [UInt8]?
    ) async throws -> FakeControlServer {
        let wakeup = try Wakeup()
        let bound = Latch()
        let finished = Latch()
        let received = LockedValue(0)
        let firstRequest = Latch()
        let endpoint = LockedValue<Result<String, any Error>?>(nil)
        let thread = Thread {
            defer { finished.open() }
            let router: Socket
            do {
                router = try Socket(context: try Context(ioThreads: 1), type: .router)
                endpoint.set(.success(try router.bind("tcp://127.0.0.1:*")))
            } catch {
                endpoint.set(.failure(error))
                bound.open()
                return
            }
            bound.open()
            var poller = Poller()
            let routerIndex = poller.add(router)
            let wakeupIndex = poller.add(fileDescriptor: wakeup.fileDescriptor)
            while true {
                guard let events = try? poller.poll(timeout: nil), !events[wakeupIndex].contains(.readable) else { return }
                guard events[routerIndex].contains(.readable), let message = try? router.receive(wait: false),
                    message.frames.count == 2
                else { continue }
                received.set(received.value + 1)
                firstRequest.open()
                let request = try? Drover_V1_Envelope(serializedBytes: message.frames[1])
                if let reply = answer(request) { _ = try? router.send(Message([message.frames[0], reply])) }
            }
        }
        thread.name = "drover-test-fake-server"
        thread.start()
        let ready = await onOwnThread { bound.wait(seconds: 10) }
        let server = FakeControlServer(
            endpoint: try #require(try endpoint.value?.get(), "the fake server did not bind (\(ready))"),
            wakeup: wakeup, finished: finished, received: received, firstRequest: firstRequest)
        return server
    }

    /// Ends the thread and closes the socket (bounded wait).
    func stop() {
        wakeup.signal()
        _ = finished.wait(seconds: 10)
    }
}
#endif
