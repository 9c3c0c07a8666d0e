import DroverLimits
import DroverProto
import DroverTestSupport
import Foundation
import Testing
import ZeroMQ

/// The limit loop over real sockets on loopback: DEALER clients against its ROUTER.
@Suite struct LimitLoopTests {
    @Test func waitersAreGrantedInArrivalOrderWithoutAsking() async throws {
        let home = try TemporaryDirectory()
        try await withLimitLoop(home: home.url) { endpoint in
            let context = try Context()
            let admin = try LimitWireClient(context, endpoint)
            let holder = try LimitWireClient(context, endpoint)
            let first = try LimitWireClient(context, endpoint)
            let second = try LimitWireClient(context, endpoint)
            #expect(try admin.call(.create("db", slots: 1)).limitReply?.limit == 1)
            let held = try #require(try holder.call(.acquireSlot("db", holder: "holder")).grantedLease)

            let firstID = try first.send(.acquireSlot("db", holder: "first"))
            let firstQueued = try first.receive()
            #expect(firstQueued.requestID == firstID)
            #expect(firstQueued.queuedReply?.position == 1)
            let secondID = try second.send(.acquireSlot("db", holder: "second"))
            let secondQueued = try second.receive()
            #expect(secondQueued.requestID == secondID)
            #expect(secondQueued.queuedReply?.position == 2)

            #expect(try holder.call(.releaseLeases([held.id])).releasedReply?.leases == 1)
            // Pushed: the first waiter sends nothing more and is told.
            let granted = try first.receive()
            #expect(granted.requestID == firstID)
            let firstLease = try #require(granted.grantedLease)
            #expect(firstLease.holder == "first")

            // The second is still in line: the next thing it hears answers its GetLimit.
            let status = try #require(try second.call(.get("db")).limitReply)
            #expect(status.activeSlots == 1)
            #expect(status.waiting == 1)
            #expect(status.leases.map(\.holder) == ["first"])

            #expect(try first.call(.releaseLeases([firstLease.id])).releasedReply?.leases == 1)
            let secondGrant = try second.receive()
            #expect(secondGrant.requestID == secondID)
            #expect(secondGrant.grantedLease?.holder == "second")
        }
    }

    @Test func aWaiterThatDisconnectsLeavesNoGrantBehind() async throws {
        let home = try TemporaryDirectory()
        try await withLimitLoop(home: home.url) { endpoint in
            let context = try Context()
            let admin = try LimitWireClient(context, endpoint)
            let holder = try LimitWireClient(context, endpoint)
            _ = try admin.call(.create("db", slots: 1))
            let held = try #require(try holder.call(.acquireSlot("db", holder: "holder")).grantedLease)

            do {
                // A context of its own: when both are released, zmq_ctx_term has closed the
                // connection, so the service sees it drop before the next client is served.
                let goneContext = try Context()
                let gone = try LimitWireClient(goneContext, endpoint)
                #expect(try gone.call(.acquireSlot("db", holder: "gone")).queuedReply?.position == 1)
            }

            // A client that connects after it left waits behind it.
            let later = try LimitWireClient(context, endpoint)
            let laterID = try later.send(.acquireSlot("db", holder: "later"))
            #expect(try later.receive().queuedReply != nil)

            #expect(try holder.call(.releaseLeases([held.id])).releasedReply?.leases == 1)
            // The grant meant for the vanished client cannot be delivered, so the slot goes on.
            let granted = try later.receive()
            #expect(granted.requestID == laterID)
            let lease = try #require(granted.grantedLease)
            #expect(lease.holder == "later")

            let status = try #require(try admin.call(.get("db")).limitReply)
            #expect(status.activeSlots == 1)
            #expect(status.waiting == 0)
            #expect(status.leases.map(\.id) == [lease.id])
            let renewed = try #require(try admin.call(.renew(.with { $0.holders = ["gone"] })).renewedReply)
            #expect(renewed.unknownHolders == ["gone"])
            #expect(renewed.leases.isEmpty)
        }
    }

    @Test func aMalformedFrameGetsAnErrorAndTheLoopKeepsServing() async throws {
        let home = try TemporaryDirectory()
        try await withLimitLoop(home: home.url) { endpoint in
            let context = try Context()
            let client = try LimitWireClient(context, endpoint)

            try client.socket.send([0xde, 0xad, 0xbe, 0xef])
            let garbage = try client.receive()
            #expect(garbage.errorCode == .malformedMessage)
            #expect(garbage.requestID == 0)

            try client.socket.send(ZeroMQ.Message([[0x01], [0x02]]))
            #expect(try client.receive().errorCode == .malformedMessage)

            let control = Drover_V1_Envelope.with {
                $0.protocolVersion = droverProtocolVersion
                $0.controlRequest = .with { $0.requestID = 7 }
            }
            let controlPayload: [UInt8] = try control.serializedBytes()
            try client.socket.send(controlPayload)
            #expect(try client.receive().errorCode == .malformedMessage)

            let future = Drover_V1_Envelope.with {
                $0.protocolVersion = droverProtocolVersion + 1
                $0.limitRequest = .with {
                    $0.requestID = 42; $0.listLimits = .init()
                }
            }
            let futurePayload: [UInt8] = try future.serializedBytes()
            try client.socket.send(futurePayload)
            let unsupported = try client.receive()
            #expect(unsupported.errorCode == .unsupportedVersion)
            #expect(unsupported.requestID == 42)

            // The same client, and another, are still served.
            #expect(try client.call(.create("db", slots: 1)).limitReply?.name == "db")
            let other = try LimitWireClient(context, endpoint)
            guard case .limits(let list)? = try other.call(.listLimits(.init())).result else {
                Issue.record("ListLimits must answer with the limits")
                return
            }
            #expect(list.limits.map(\.name) == ["db"])
        }
    }

    @Test func stopEndsRunWithAClientWaitingAndTheStoreKeepsWhatWasTaken() async throws {
        let home = try TemporaryDirectory()
        let heldID = try await withLimitLoopResult(home: home.url) { endpoint in
            let context = try Context()
            let holder = try LimitWireClient(context, endpoint)
            let waiter = try LimitWireClient(context, endpoint)
            _ = try holder.call(.create("db", slots: 1))
            let held = try #require(try holder.call(.acquireSlot("db", holder: "holder", leaseTTLMilliseconds: 600_000)).grantedLease)
            #expect(try waiter.call(.acquireSlot("db", holder: "waiter")).queuedReply != nil)
            return held.id
        }
        // withLimitLoop stopped the loop above and saw run return; a new one restores the slot.
        try await withLimitLoop(home: home.url) { endpoint in
            let context = try Context()
            let admin = try LimitWireClient(context, endpoint)
            let status = try #require(try admin.call(.get("db")).limitReply)
            #expect(status.activeSlots == 1)
            #expect(status.leases.map(\.id) == [heldID])
            #expect(status.waiting == 0)
        }
    }

    @Test func stopBeforeTheFirstRequestMakesRunReturn() async throws {
        let home = try TemporaryDirectory()
        let loop = try LimitLoop(configuration: LimitServiceConfiguration(port: 0, home: home.url), logger: quietLogger)
        loop.stop()
        let (finished, continuation) = AsyncStream.makeStream(of: Result<Void, any Error>.self)
        Task {
            do {
                try await loop.run { _ in }
                continuation.yield(.success(()))
            } catch {
                continuation.yield(.failure(error))
            }
            continuation.finish()
        }
        try #require(await first(of: finished, within: replyGuard), "run did not return after stop()").get()
    }

    @Test func aLeaseNotRenewedExpiresAndTheWaiterIsGranted() async throws {
        let home = try TemporaryDirectory()
        try await withLimitLoop(home: home.url) { endpoint in
            let context = try Context()
            let holder = try LimitWireClient(context, endpoint)
            let waiter = try LimitWireClient(context, endpoint)
            _ = try holder.call(.create("db", slots: 1))
            let started = ContinuousClock.now
            let held = try #require(
                try holder.call(.acquireSlot("db", holder: "holder", leaseTTLMilliseconds: 1_000)).grantedLease)
            let waiterID = try waiter.send(.acquireSlot("db", holder: "waiter"))
            #expect(try waiter.receive().queuedReply != nil)

            // No renewal: the loop's own deadline expires the lease and pushes the grant.
            let granted = try waiter.receive()
            #expect(ContinuousClock.now - started >= .milliseconds(900))
            #expect(granted.requestID == waiterID)
            #expect(granted.grantedLease?.holder == "waiter")
            #expect(try holder.call(.releaseLeases([held.id])).releasedReply?.leases == 0)
            let status = try #require(try holder.call(.get("db")).limitReply)
            #expect(status.leases.map(\.holder) == ["waiter"])
        }
    }
}

/// `withLimitLoop`, returning what `body` returns.
func withLimitLoopResult<T>(home: URL, _ body: (String) throws -> T) async throws -> T {
    var result: T?
    try await withLimitLoop(home: home) { endpoint in result = try body(endpoint) }
    return try #require(result)
}
