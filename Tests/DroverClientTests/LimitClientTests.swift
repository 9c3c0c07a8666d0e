import DroverCore
import DroverProto
import Foundation
import Synchronization
import Testing
import ZeroMQ

@testable import DroverClient

/// `LimitClient` against a scripted limit service: a ROUTER on loopback that this test
/// thread plays, while the client blocks on a thread of its own.
@Suite struct LimitClientTests {
    let context: Context
    let router: Socket
    let endpoint: String

    init() throws {
        context = try Context()
        router = try Socket(context: context, type: .router)
        endpoint = try router.bind("tcp://127.0.0.1:*")
    }

    // MARK: The scripted service

    /// The next request the client sent, and the identity to answer it at (5 s failure guard).
    private func receiveRequest(
        sourceLocation: SourceLocation = #_sourceLocation
    ) throws -> (identity: [UInt8], request: Drover_V1_LimitRequest) {
        var poller = Poller()
        let index = poller.add(router)
        let readable = try poller.poll(timeout: .seconds(5))[index].contains(.readable)
        try #require(readable, "the client sent nothing within 5 s", sourceLocation: sourceLocation)
        let message = try #require(try router.receive(wait: false), sourceLocation: sourceLocation)
        try #require(message.frames.count == 2, "a DEALER request is one frame", sourceLocation: sourceLocation)
        let envelope = try Drover_V1_Envelope(serializedBytes: message.frames[1])
        #expect(envelope.protocolVersion == droverProtocolVersion, sourceLocation: sourceLocation)
        guard case .limitRequest(let request)? = envelope.body else {
            Issue.record("expected a limit request, got \(envelope)", sourceLocation: sourceLocation)
            throw DroverError(.internal, "not a limit request")
        }
        return (message.frames[0], request)
    }

    /// Answers request `requestID` at `identity` with `result`.
    private func reply(
        _ result: Drover_V1_LimitReply.OneOf_Result, requestID: UInt64, to identity: [UInt8]
    ) throws {
        let envelope = Drover_V1_Envelope.with {
            $0.protocolVersion = droverProtocolVersion
            $0.limitReply = .with {
                $0.requestID = requestID
                $0.result = result
            }
        }
        try router.send(ZeroMQ.Message([identity, try envelope.serializedBytes()]))
    }

    private func reply(_ result: Drover_V1_LimitReply.OneOf_Result, to request: (identity: [UInt8], request: Drover_V1_LimitRequest)) throws
    {
        try reply(result, requestID: request.request.requestID, to: request.identity)
    }

    /// A client made on the calling thread, talking to the scripted service.
    private static func client(
        _ endpoint: String, timeout: Duration = .seconds(5), resendInterval: Duration = .seconds(10)
    ) throws -> LimitClient {
        try LimitClient(endpoint: endpoint, timeout: timeout, resendInterval: resendInterval)
    }

    /// A waiting concurrency Acquire of `db` by `holder`.
    private static func waitingAcquire(holder: String = "flow-run/1") -> Drover_V1_Acquire {
        .with {
            $0.limits = ["db"]
            $0.slots = 1
            $0.holder = holder
            $0.wait = true
            $0.mode = .concurrency
        }
    }

    private static func lease(_ id: String, holder: String = "flow-run/1") -> Drover_V1_Lease {
        .with {
            $0.id = id
            $0.holder = holder
            $0.limits = ["db"]
            $0.slots = 1
        }
    }

    // MARK: call

    @Test func callReturnsTheServicesResult() throws {
        let endpoint = self.endpoint
        let finish = onOwnThread { () throws -> Drover_V1_LimitReply.OneOf_Result in
            try Self.client(endpoint).call(.getLimit(.with { $0.name = "db" }))
        }
        let request = try receiveRequest()
        guard case .getLimit(let get)? = request.request.operation else {
            Issue.record("expected GetLimit, got \(request.request)")
            return
        }
        #expect(get.name == "db")
        try reply(
            .limit(
                .with {
                    $0.name = "db"; $0.limit = 3
                }), to: request)
        guard case .limit(let limit) = try finish() else {
            Issue.record("expected a limit")
            return
        }
        #expect(limit.name == "db")
        #expect(limit.limit == 3)
    }

    @Test func callThrowsTheServicesErrorWithItsCodeAndMessage() throws {
        let endpoint = self.endpoint
        let finish = onOwnThread { () throws -> DroverError? in
            do {
                _ = try Self.client(endpoint).call(.getLimit(.with { $0.name = "nope" }))
                return nil
            } catch let error as DroverError {
                return error
            }
        }
        let request = try receiveRequest()
        try reply(
            .error(
                .with {
                    $0.code = .notFound; $0.message = "Limit 'nope' does not exist."
                }), to: request)
        let error = try #require(try finish())
        #expect(error.code == .notFound)
        #expect(error.message == "Limit 'nope' does not exist.")
    }

    @Test func callSkipsAStaleReplyAndReturnsTheMatchingOne() throws {
        let endpoint = self.endpoint
        let finish = onOwnThread { () throws -> String in
            guard case .limit(let limit) = try Self.client(endpoint).call(.getLimit(.with { $0.name = "db" })) else {
                throw DroverError(.internal, "not a limit")
            }
            return limit.name
        }
        let request = try receiveRequest()
        // An answer to another request, even an error, is not this call's.
        try reply(.limit(.with { $0.name = "stale" }), requestID: request.request.requestID &+ 1000, to: request.identity)
        try reply(
            .error(
                .with {
                    $0.code = .notFound; $0.message = "stale"
                }), requestID: request.request.requestID &+ 1001, to: request.identity)
        try reply(.limit(.with { $0.name = "fresh" }), to: request)
        #expect(try finish() == "fresh")
    }

    @Test func aSilentServiceIsUnavailableNamingTheEndpoint() throws {
        let endpoint = self.endpoint
        let finish = onOwnThread { () throws -> DroverError? in
            do {
                _ = try Self.client(endpoint, timeout: .milliseconds(300)).call(.listLimits(.init()))
                return nil
            } catch let error as DroverError {
                return error
            }
        }
        // The service hears the request and never answers.
        _ = try receiveRequest()
        let error = try #require(try finish())
        #expect(error.code == .unavailable)
        #expect(error.message.contains(endpoint))
        #expect(error.message.contains("within 0.3 s"))
    }

    /// Frames a limit service never sends: bytes that are no envelope, two frames, and
    /// an envelope that holds a control reply rather than a limit reply.
    static let foreignReplies: [String] = ["garbage", "two frames", "control reply"]

    @Test(arguments: foreignReplies)
    func aFrameThatIsNoLimitReplyIsMalformed(_ kind: String) throws {
        let endpoint = self.endpoint
        let finish = onOwnThread { () throws -> DroverError? in
            do {
                _ = try Self.client(endpoint).call(.listLimits(.init()))
                return nil
            } catch let error as DroverError {
                return error
            }
        }
        let request = try receiveRequest()
        switch kind {
        case "garbage":
            try router.send(ZeroMQ.Message([request.identity, Array("HTTP/1.1 400 Bad Request\r\n".utf8)]))
        case "two frames":
            let envelope = Drover_V1_Envelope.with {
                $0.protocolVersion = droverProtocolVersion
                $0.limitReply = .with {
                    $0.requestID = request.request.requestID; $0.limits = .init()
                }
            }
            try router.send(ZeroMQ.Message([request.identity, [], try envelope.serializedBytes()]))
        default:
            let envelope = Drover_V1_Envelope.reply(
                .with {
                    $0.requestID = request.request.requestID; $0.workPools = .init()
                })
            try router.send(ZeroMQ.Message([request.identity, try envelope.serializedBytes()]))
        }
        let error = try #require(try finish())
        #expect(error.code == .malformedMessage)
        #expect(error.message.contains(endpoint))
        #expect(error.message.contains("limit service"))
    }

    // MARK: acquire

    @Test func aQueuedAcquireIsGrantedAndReportsItsPlaceInLine() throws {
        let endpoint = self.endpoint
        let cancel = try Wakeup()
        defer { cancel.signal() }  // a failed test still ends the client's wait
        let queuedAt = Mutex<[UInt32]>([])
        let finish = onOwnThread { () throws -> LimitClient.AcquireOutcome in
            try Self.client(endpoint).acquire(Self.waitingAcquire(), cancellation: cancel.fileDescriptor) { queued in
                queuedAt.withLock { $0.append(queued.position) }
            }
        }
        let request = try receiveRequest()
        guard case .acquire(let acquire)? = request.request.operation else {
            Issue.record("expected Acquire, got \(request.request)")
            return
        }
        #expect(acquire == Self.waitingAcquire())
        try reply(
            .queued(
                .with {
                    $0.position = 2; $0.blockingLimits = ["db"]
                }), to: request)
        try reply(.granted(.with { $0.lease = Self.lease("L1") }), to: request)
        #expect(try finish() == .granted(Self.lease("L1")))
        #expect(queuedAt.withLock { $0 } == [2])
    }

    @Test func aQueuedAcquireThatTimesOutIsDenied() throws {
        let endpoint = self.endpoint
        let cancel = try Wakeup()
        defer { cancel.signal() }
        let finish = onOwnThread { () throws -> LimitClient.AcquireOutcome in
            var acquire = Self.waitingAcquire()
            acquire.timeoutMs = 60_000
            return try Self.client(endpoint).acquire(acquire, cancellation: cancel.fileDescriptor)
        }
        let request = try receiveRequest()
        try reply(.queued(.with { $0.position = 1 }), to: request)
        let denied = Drover_V1_Denied.with {
            $0.reason = .timedOut
            $0.message = "Timed out waiting for a slot of 'db'."
        }
        try reply(.denied(denied), to: request)
        #expect(try finish() == .denied(denied))
    }

    @Test func aWaitingAcquireIsResentUnderTheSameRequestID() throws {
        let endpoint = self.endpoint
        let cancel = try Wakeup()
        defer { cancel.signal() }
        let queuedAt = Mutex<[UInt32]>([])
        let finish = onOwnThread { () throws -> LimitClient.AcquireOutcome in
            try Self.client(endpoint, resendInterval: .milliseconds(200))
                .acquire(Self.waitingAcquire(), cancellation: cancel.fileDescriptor) { queued in
                    queuedAt.withLock { $0.append(queued.position) }
                }
        }
        let first = try receiveRequest()
        try reply(.queued(.with { $0.position = 2 }), to: first)
        // Nothing is decided, so the client asks again: the same Acquire, the same id.
        let resent = try receiveRequest()
        #expect(resent.request == first.request)
        guard case .acquire(let acquire)? = resent.request.operation else {
            Issue.record("expected the Acquire again, got \(resent.request)")
            return
        }
        #expect(acquire.holder == "flow-run/1")
        // A repeat of the same place in line is not news; a new place is.
        try reply(.queued(.with { $0.position = 2 }), to: resent)
        try reply(.queued(.with { $0.position = 1 }), to: resent)
        try reply(.granted(.with { $0.lease = Self.lease("L1") }), to: resent)
        #expect(try finish() == .granted(Self.lease("L1")))
        #expect(queuedAt.withLock { $0 } == [2, 1])
    }

    @Test func cancellingAQueuedAcquireReleasesItsHolder() throws {
        let endpoint = self.endpoint
        let cancel = try Wakeup()
        defer { cancel.signal() }
        let queued = DispatchSemaphore(value: 0)
        let finish = onOwnThread { () throws -> LimitClient.AcquireOutcome in
            try Self.client(endpoint).acquire(Self.waitingAcquire(holder: "flow-run/7"), cancellation: cancel.fileDescriptor) { _ in
                queued.signal()
            }
        }
        let request = try receiveRequest()
        try reply(.queued(.with { $0.position = 1 }), to: request)
        try #require(queued.wait(timeout: .now() + 5) == .success, "the client never saw Queued")
        cancel.signal()
        let release = try receiveRequest()
        guard case .release(let withdrawn)? = release.request.operation else {
            Issue.record("expected a Release, got \(release.request)")
            return
        }
        #expect(withdrawn.holders == ["flow-run/7"])
        #expect(withdrawn.leaseIds.isEmpty)
        #expect(release.request.requestID != request.request.requestID)
        try reply(.released(.with { $0.waiters = 1 }), to: release)
        #expect(try finish() == .cancelled)
    }

    // MARK: release and renew

    @Test func releaseDecodesReleased() throws {
        let endpoint = self.endpoint
        let finish = onOwnThread { () throws -> Drover_V1_Released in
            try Self.client(endpoint).release(leaseIDs: ["L1"], holders: ["flow-run/1"])
        }
        let request = try receiveRequest()
        guard case .release(let release)? = request.request.operation else {
            Issue.record("expected a Release, got \(request.request)")
            return
        }
        #expect(release.leaseIds == ["L1"])
        #expect(release.holders == ["flow-run/1"])
        try reply(
            .released(
                .with {
                    $0.leases = 2; $0.waiters = 1
                }), to: request)
        let released = try finish()
        #expect(released.leases == 2)
        #expect(released.waiters == 1)
    }

    @Test func releaseAnsweredWithAnotherKindOfReplyIsMalformed() throws {
        let endpoint = self.endpoint
        let finish = onOwnThread { () throws -> DroverError? in
            do {
                try Self.client(endpoint).release(holders: ["flow-run/1"])
                return nil
            } catch let error as DroverError {
                return error
            }
        }
        let request = try receiveRequest()
        try reply(.renewed(.init()), to: request)
        let error = try #require(try finish())
        #expect(error.code == .malformedMessage)
        #expect(error.message.contains("Release"))
    }

    @Test func renewDecodesRenewed() throws {
        let endpoint = self.endpoint
        let finish = onOwnThread { () throws -> Drover_V1_Renewed? in
            try Self.client(endpoint).renew(leaseIDs: ["L1", "L9"], holders: ["flow-run/2"])
        }
        let request = try receiveRequest()
        guard case .renew(let renew)? = request.request.operation else {
            Issue.record("expected a Renew, got \(request.request)")
            return
        }
        #expect(renew.leaseIds == ["L1", "L9"])
        #expect(renew.holders == ["flow-run/2"])
        let renewed = Drover_V1_Renewed.with {
            $0.leases = [Self.lease("L1")]
            $0.unknownLeaseIds = ["L9"]
            $0.unknownHolders = ["flow-run/2"]
        }
        try reply(.renewed(renewed), to: request)
        #expect(try finish() == renewed)
    }

    @Test func renewEndsWithNilOnceCancelled() throws {
        let endpoint = self.endpoint
        let cancel = try Wakeup()
        defer { cancel.signal() }
        let finish = onOwnThread { () throws -> Drover_V1_Renewed? in
            try Self.client(endpoint).renew(leaseIDs: ["L1"], cancellation: cancel.fileDescriptor)
        }
        // The service hears the Renew and stays silent; cancelling ends the wait.
        _ = try receiveRequest()
        cancel.signal()
        #expect(try finish() == nil)
    }
}

/// Runs `call` on a thread of its own, since `LimitClient` blocks, and returns a function
/// that waits for its result (a 10 s failure guard, never a pause).
private func onOwnThread<T: Sendable>(
    _ call: @escaping @Sendable () throws -> T
) -> @Sendable () throws -> T {
    let result = Mutex<Result<T, any Error>?>(nil)
    let done = DispatchSemaphore(value: 0)
    let thread = Thread {
        let outcome = Result(catching: call)
        result.withLock { $0 = outcome }
        done.signal()
    }
    thread.name = "limit-client-test"
    thread.start()
    return {
        guard done.wait(timeout: .now() + 10) == .success else { throw DroverError(.internal, "the client call hung") }
        return try result.withLock { $0! }.get()
    }
}
