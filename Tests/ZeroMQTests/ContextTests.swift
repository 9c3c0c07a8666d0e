import Dispatch
import Foundation
import Synchronization
import Testing
import ZeroMQ

@Suite struct ContextTests {
    @Test func libraryVersionIsFourPointSomething() {
        let version = ZeroMQLibrary.version
        #expect(version.major == 4)
        #expect(version.minor >= 0)
        #expect(version.patch >= 0)
    }

    @Test func invalidContextSettingsThrowInvalidArgument() {
        let threads = #expect(throws: ZeroMQError.self) { _ = try Context(ioThreads: -1) }
        #expect(threads?.code == .invalidArgument)
        #expect(threads?.operation == "zmq_ctx_set(ZMQ_IO_THREADS)")
        let sockets = #expect(throws: ZeroMQError.self) { _ = try Context(maxSockets: 0) }
        #expect(sockets?.code == .invalidArgument)
        #expect(sockets?.operation == "zmq_ctx_set(ZMQ_MAX_SOCKETS)")
    }

    @Test func maxSocketsLimitsOpenSockets() throws {
        let context = try Context(maxSockets: 2)
        let first = try Socket(context: context, type: .pair)
        let second = try Socket(context: context, type: .pair)
        let error = #expect(throws: ZeroMQError.self) { _ = try Socket(context: context, type: .pair) }
        #expect(error?.code == .tooManyOpenFiles)
        #expect(error?.operation == "zmq_socket")
        withExtendedLifetime((first, second)) {}
    }

    @Test func socketKeepsItsContextAliveUntilClosed() throws {
        weak var weakContext: Context?
        var socket: Socket? = try {
            let context = try Context()
            weakContext = context
            return try Socket(context: context, type: .pair)
        }()
        #expect(weakContext != nil)
        let endpoint = uniqueInproc("alive")
        try socket?.bind(endpoint)
        socket = nil
        // The last socket closed, so the context was terminated and released.
        #expect(weakContext == nil)
    }

    @Test func shutdownMakesCallsThrowContextTerminated() throws {
        let context = try Context()
        let socket = try Socket(context: context, type: .dealer)
        try socket.bind(uniqueInproc("shutdown"))
        context.shutdown()

        let receiveError = #expect(throws: ZeroMQError.self) { _ = try socket.receive() }
        #expect(receiveError?.code == .contextTerminated)
        let sendError = #expect(throws: ZeroMQError.self) { try socket.send(Message(strings: ["x"])) }
        #expect(sendError?.code == .contextTerminated)
        let socketError = #expect(throws: ZeroMQError.self) { _ = try Socket(context: context, type: .pair) }
        #expect(socketError?.code == .contextTerminated)
    }

    @Test func shutdownReleasesABlockingReceiveOnAnotherThread() throws {
        let context = try Context()
        let outcome = Mutex<ZeroMQError.Code?>(nil)
        let ready = DispatchSemaphore(value: 0)
        let finished = DispatchSemaphore(value: 0)
        let endpoint = uniqueInproc("blocked")

        // The socket is created, used and closed on the worker thread only.
        let worker = Thread {
            defer { finished.signal() }
            do {
                let socket = try Socket(context: context, type: .pair)
                try socket.bind(endpoint)
                ready.signal()
                _ = try socket.receive()  // no timeout: only shutdown ends this
            } catch let error as ZeroMQError {
                outcome.withLock { $0 = error.code }
            } catch {
                Issue.record(error)
            }
        }
        worker.start()
        #expect(ready.wait(timeout: .now() + 5) == .success)
        context.shutdown()
        try #require(finished.wait(timeout: .now() + 5) == .success, "shutdown did not release the receive")
        #expect(outcome.withLock { $0 } == .contextTerminated)
    }
}
