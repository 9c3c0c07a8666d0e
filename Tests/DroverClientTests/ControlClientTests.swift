import DroverCore
import DroverProto
import Foundation
import Synchronization
import Testing
import ZeroMQ

@testable import DroverClient

/// The client against a scripted ROUTER peer on loopback.
@Suite struct ControlClientTests {
    let context: Context
    let router: Socket
    let endpoint: String

    init() throws {
        context = try Context()
        router = try Socket(context: context, type: .router)
        endpoint = try router.bind("tcp://127.0.0.1:*")
    }

    /// Receives the client's request on the scripted peer (5 s guard).
    private func receiveRequest() throws -> (identity: [UInt8], request: Drover_V1_ControlRequest) {
        var poller = Poller()
        poller.add(router)
        let events = try poller.poll(timeout: .seconds(5))
        let message = try #require(events[0].contains(.readable) ? try router.receive(wait: false) : nil)
        let envelope = try Drover_V1_Envelope(serializedBytes: message.frames[1])
        return (message.frames[0], envelope.controlRequest)
    }

    private func reply(_ envelope: Drover_V1_Envelope, to identity: [UInt8]) throws {
        try router.send(ZeroMQ.Message([identity, try envelope.serializedBytes()]))
    }

    /// Runs `call` on its own thread while the test plays the server on this one.
    private func onAnotherThread<T: Sendable>(
        _ call: @escaping @Sendable () throws -> T
    ) -> @Sendable () throws -> T {
        let result = Mutex<Result<T, any Error>?>(nil)
        let done = DispatchSemaphore(value: 0)
        Thread {
            result.withLock { $0 = Result(catching: call) }
            done.signal()
        }.start()
        return {
            guard done.wait(timeout: .now() + 10) == .success else { throw DroverError(.internal, "call hung") }
            return try result.withLock { $0! }.get()
        }
    }

    @Test func silentServerGivesUnavailableNamingTheEndpoint() throws {
        let endpoint = self.endpoint
        let client = try ControlClient(endpoint: endpoint, timeout: .milliseconds(200))
        do {
            _ = try client.call(.listWorkPools(.init()))
            Issue.record("a silent server must time out")
        } catch {
            #expect(error.code == .unavailable)
            #expect(error.message.contains(endpoint))
            #expect(error.message.contains("drover server start"))
        }
    }

    @Test func staleRepliesAreSkippedAndTheMatchingOneReturned() throws {
        let endpoint = self.endpoint
        let finish = onAnotherThread {
            let client = try ControlClient(endpoint: endpoint, timeout: .seconds(5))
            guard case .workPools(let list) = try client.call(.listWorkPools(.init())) else {
                throw DroverError(.internal, "wrong result")
            }
            return list.workPools.map(\.name)
        }
        let (identity, request) = try receiveRequest()
        try reply(
            .reply(
                .with {
                    $0.requestID = request.requestID &+ 1000; $0.workPools = .with { $0.workPools = [.with { $0.name = "stale" }] }
                }), to: identity)
        try reply(
            .reply(
                .with {
                    $0.requestID = request.requestID; $0.workPools = .with { $0.workPools = [.with { $0.name = "fresh" }] }
                }), to: identity)
        #expect(try finish() == ["fresh"])
    }

    @Test func serverErrorsBecomeDroverErrorsWithTheServersMessage() throws {
        let endpoint = self.endpoint
        let finish = onAnotherThread { () -> String in
            let client = try ControlClient(endpoint: endpoint, timeout: .seconds(5))
            do {
                _ = try client.call(.getWorkPool(.with { $0.name = "x" }))
                return "no error"
            } catch let error as DroverError {
                return "\(error.code): \(error.message)"
            }
        }
        let (identity, request) = try receiveRequest()
        try reply(.reply(.failure(requestID: request.requestID, code: .notFound, message: "Work pool 'x' does not exist.")), to: identity)
        #expect(try finish() == "notFound: Work pool 'x' does not exist.")
    }

    @Test func aReplyOfAnotherVersionIsRefused() throws {
        let endpoint = self.endpoint
        let finish = onAnotherThread { () -> DroverError.Code? in
            let client = try ControlClient(endpoint: endpoint, timeout: .seconds(5))
            do {
                _ = try client.call(.listWorkPools(.init()))
                return nil
            } catch let error as DroverError {
                return error.code
            }
        }
        let (identity, request) = try receiveRequest()
        var envelope = Drover_V1_Envelope.reply(
            .with {
                $0.requestID = request.requestID; $0.workPools = .init()
            })
        envelope.protocolVersion = 2
        try reply(envelope, to: identity)
        #expect(try finish() == .unsupportedVersion)
    }

    @Test func invalidEndpointIsAnInvalidArgument() {
        do {
            _ = try ControlClient(endpoint: "nonsense")
            Issue.record("an endpoint without a transport must be refused")
        } catch {
            #expect(error.code == .invalidArgument)
            #expect(error.message.contains("tcp://127.0.0.1:4201"))
        }
    }
}
