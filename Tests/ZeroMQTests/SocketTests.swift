import Foundation
import Testing
import ZeroMQ

@Suite struct SocketTests {
    // MARK: Types

    @Test func everySocketTypeOpensAsTheMatchingLibzmqType() throws {
        let context = try Context()
        // zmq.h: PAIR 0, PUB 1, SUB 2, REQ 3, REP 4, DEALER 5, ROUTER 6.
        let expected: [SocketType: Int32] = [
            .pair: 0, .publisher: 1, .subscriber: 2, .request: 3, .reply: 4, .dealer: 5, .router: 6,
        ]
        #expect(Set(SocketType.allCases) == Set(expected.keys))
        for type in SocketType.allCases {
            let socket = try Socket(context: context, type: type)
            #expect(socket.type == type)
            #expect(try socket.get(.type) == expected[type], "\(type)")
        }
    }

    // MARK: Multipart

    @Test(arguments: ["inproc", "tcp"])
    func multipartMessageWithEmptyAndLargeFramesArrivesWhole(transport: String) throws {
        let context = try Context()
        let receiver = try Socket(context: context, type: .pair)
        let endpoint = try receiver.bind(transport == "tcp" ? loopbackWildcard : uniqueInproc("multipart"))
        let sender = try Socket(context: context, type: .pair)
        try sender.connect(endpoint)

        let large = (0..<(1 << 20)).map { UInt8(truncatingIfNeeded: $0 &* 31 &+ 7) }
        let message = Message([bytes("head"), [], large, [], bytes("tail")])
        try sender.send(message)
        let received = try receiveGuarded(receiver)
        #expect(received.frames.count == 5)
        #expect(received.frames.map(\.count) == [4, 0, 1 << 20, 0, 4])
        #expect(received == message)
        #expect(received.byteCount == 8 + (1 << 20))

        // A message that is one empty frame is still a message.
        try sender.send([])
        #expect(try receiveGuarded(receiver) == Message([[]]))
        #expect(try receiver.receive(wait: false) == nil)
    }

    @Test func consecutiveMultipartMessagesStaySeparate() throws {
        let context = try Context()
        let endpoint = uniqueInproc("separate")
        let receiver = try Socket(context: context, type: .pair)
        try receiver.bind(endpoint)
        let sender = try Socket(context: context, type: .pair)
        try sender.connect(endpoint)

        try sender.send(Message(strings: ["a1", "a2"]))
        try sender.send(Message(strings: ["b1"]))
        try sender.send(Message(strings: ["c1", "", "c3"]))
        #expect(try receiveGuarded(receiver).strings == ["a1", "a2"])
        #expect(try receiveGuarded(receiver).strings == ["b1"])
        #expect(try receiveGuarded(receiver).strings == ["c1", "", "c3"])
        #expect(try receiver.get(.receiveMore) == false)
    }

    // MARK: Non-blocking and timed-out calls

    @Test func nonBlockingReceiveOnAnEmptySocketReturnsNil() throws {
        let context = try Context()
        let endpoint = uniqueInproc("empty")
        let receiver = try Socket(context: context, type: .pair)
        try receiver.bind(endpoint)
        let sender = try Socket(context: context, type: .pair)
        try sender.connect(endpoint)

        #expect(try receiver.receive(wait: false) == nil)
        // The socket still works afterwards: nil meant "nothing yet", not a broken socket.
        try sender.send(Message(strings: ["later"]))
        #expect(try receiveGuarded(receiver).strings == ["later"])
        #expect(try receiver.receive(wait: false) == nil)
    }

    @Test func blockingReceiveReturnsNilWhenReceiveTimeoutExpires() throws {
        let context = try Context()
        let socket = try Socket(context: context, type: .dealer)
        try socket.bind(uniqueInproc("timeout"))
        try socket.set(.receiveTimeout, 10)
        #expect(try socket.receive() == nil)
    }

    @Test func blockingSendReturnsFalseWhenSendTimeoutExpires() throws {
        let context = try Context()
        let dealer = try Socket(context: context, type: .dealer)
        try dealer.set(.sendTimeout, 10)
        // No peer at all: nothing can take the message.
        #expect(try dealer.send(Message(strings: ["nobody"])) == false)
    }

    @Test func nonBlockingSendReturnsFalseWithoutACompletedConnectionWhenImmediate() throws {
        let context = try Context()
        // A bound PUB speaks ZMTP but refuses a DEALER, so a DEALER's connection to it
        // never completes: the DEALER has no peer, deterministically.
        let incompatible = try Socket(context: context, type: .publisher)
        let deadEnd = try incompatible.bind(loopbackWildcard)

        let unconnected = try Socket(context: context, type: .dealer)
        try unconnected.set(.immediate, true)
        #expect(try unconnected.send(Message(strings: ["lost"]), wait: false) == false)

        let immediate = try Socket(context: context, type: .dealer)
        try immediate.set(.immediate, true)
        try immediate.connect(deadEnd)
        #expect(try immediate.send(Message(strings: ["lost"]), wait: false) == false)

        // Without `immediate`, connect creates the queue at once and the send is accepted.
        let queueing = try Socket(context: context, type: .dealer)
        try queueing.set(.immediate, false)
        try queueing.connect(deadEnd)
        #expect(try queueing.send(Message(strings: ["queued"]), wait: false) == true)

        // With a real peer, an immediate DEALER becomes writable and its message arrives.
        let router = try Socket(context: context, type: .router)
        let endpoint = try router.bind(loopbackWildcard)
        let connected = try Socket(context: context, type: .dealer)
        try connected.set(.immediate, true)
        try connected.set(.routingID, bytes("immediate"))
        try connected.connect(endpoint)
        var poller = Poller()
        let index = poller.add(connected, events: .writable)
        #expect(try poller.poll(timeout: failureGuard)[index].contains(.writable))
        #expect(try connected.send(Message(strings: ["delivered"]), wait: false) == true)
        #expect(try receiveGuarded(router).strings == ["immediate", "delivered"])
    }

    // MARK: ROUTER behaviour

    @Test func routerMandatoryMakesSendsToUnknownPeersThrowHostUnreachable() throws {
        let context = try Context()
        let router = try Socket(context: context, type: .router)
        let endpoint = try router.bind(loopbackWildcard)

        // By default a ROUTER drops a message for an unknown peer silently.
        #expect(try router.send(Message(strings: ["nobody", "dropped"])) == true)

        try router.set(.routerMandatory, true)
        let error = #expect(throws: ZeroMQError.self) {
            try router.send(Message(strings: ["nobody", "refused"]))
        }
        #expect(error?.code == .hostUnreachable)
        #expect(error?.operation == "zmq_send")

        // A known peer is still reachable.
        let dealer = try Socket(context: context, type: .dealer)
        try dealer.set(.routingID, bytes("known"))
        try dealer.connect(endpoint)
        try dealer.send(Message(strings: ["hi"]))
        #expect(try receiveGuarded(router).strings == ["known", "hi"])
        #expect(try router.send(Message(strings: ["known", "welcome"])) == true)
        #expect(try receiveGuarded(dealer).strings == ["welcome"])
    }

    @Test func routerDisconnectsAPeerThatExceedsMaxMessageSizeAndServesOthers() throws {
        let context = try Context()
        let router = try Socket(context: context, type: .router)
        try router.set(.maxMessageSize, 1024)
        try router.set(.routerMandatory, true)
        let endpoint = try router.bind(loopbackWildcard)

        let rogue = try Socket(context: context, type: .dealer)
        try rogue.set(.routingID, bytes("rogue"))
        try rogue.set(.reconnectInterval, -1)  // once dropped, stay dropped
        try rogue.connect(endpoint)
        let polite = try Socket(context: context, type: .dealer)
        try polite.set(.routingID, bytes("polite"))
        try polite.connect(endpoint)

        // Both peers are connected and within the limit.
        try rogue.send(Message(strings: ["small from rogue"]))
        try polite.send(Message(strings: ["small from polite"]))
        var greetings: Set<[String]> = []
        for _ in 0..<2 { greetings.insert(try receiveGuarded(router).strings) }
        #expect(greetings == [["rogue", "small from rogue"], ["polite", "small from polite"]])

        // The rogue sends a frame over the limit; the ROUTER drops its connection, which
        // shows as the rogue's identity becoming unreachable. Bounded wait, ~5 s.
        try rogue.send([UInt8](repeating: 0xAB, count: 4096))
        var received: [Message] = []
        var rogueGone = false
        for _ in 0..<500 where !rogueGone {
            switch Result(catching: { () throws(ZeroMQError) in try router.send(Message(strings: ["rogue", "are you there?"])) }) {
            case .success: break
            case .failure(let error) where error.code == .hostUnreachable: rogueGone = true
            case .failure(let error): throw error
            }
            if rogueGone { break }
            if try isReadable(router, within: .milliseconds(10)), let message = try router.receive(wait: false) {
                received.append(message)
            }
        }
        #expect(rogueGone, "the ROUTER kept the oversized peer connected")

        // The polite peer is still served, and nothing else is waiting: the oversized
        // message was never delivered.
        try polite.send(Message(strings: ["still here"]))
        received += try receiveUntil(router, limit: 10) { $0.strings == ["polite", "still here"] }
        #expect(received.map(\.strings) == [["polite", "still here"]])
        #expect(received.allSatisfy { $0.byteCount < 1024 })
        #expect(try router.receive(wait: false) == nil)
        try router.send(Message(strings: ["polite", "served"]))
        #expect(try receiveGuarded(polite).strings == ["served"])
    }

    // MARK: Endpoint errors

    @Test func bindingABoundTCPEndpointAgainThrowsAddressInUse() throws {
        let context = try Context()
        let first = try Socket(context: context, type: .router)
        let endpoint = try first.bind(loopbackWildcard)
        let second = try Socket(context: context, type: .router)

        let error = try #require(#expect(throws: ZeroMQError.self) { try second.bind(endpoint) })
        #expect(error.code == .addressInUse)
        #expect(error.operation == "zmq_bind")
        #expect(error.endpoint == endpoint)
        #expect(error.description.contains(endpoint))
    }

    @Test func bindingABoundInprocEndpointAgainThrowsAddressInUse() throws {
        let context = try Context()
        let endpoint = uniqueInproc("twice")
        let first = try Socket(context: context, type: .pair)
        try first.bind(endpoint)
        let second = try Socket(context: context, type: .pair)
        let error = #expect(throws: ZeroMQError.self) { try second.bind(endpoint) }
        #expect(error?.code == .addressInUse)
        #expect(error?.endpoint == endpoint)
    }

    @Test func unknownTransportThrowsProtocolNotSupportedWithTheEndpoint() throws {
        let context = try Context()
        let socket = try Socket(context: context, type: .dealer)
        let bogus = "bogus://nowhere"

        let bindError = #expect(throws: ZeroMQError.self) { try socket.bind(bogus) }
        #expect(bindError?.code == .protocolNotSupported)
        #expect(bindError?.operation == "zmq_bind")
        #expect(bindError?.endpoint == bogus)

        let connectError = #expect(throws: ZeroMQError.self) { try socket.connect(bogus) }
        #expect(connectError?.code == .protocolNotSupported)
        #expect(connectError?.operation == "zmq_connect")
        #expect(connectError?.endpoint == bogus)
        #expect(connectError?.description == "zmq_connect(\(bogus)): \(ZeroMQError.Code.protocolNotSupported)")
    }

    @Test func malformedTCPEndpointThrowsInvalidArgument() throws {
        let context = try Context()
        let socket = try Socket(context: context, type: .dealer)
        let malformed = "tcp://127.0.0.1:not-a-port"
        let error = #expect(throws: ZeroMQError.self) { try socket.bind(malformed) }
        #expect(error?.code == .invalidArgument)
        #expect(error?.endpoint == malformed)
    }

    @Test func unbindAndDisconnectUndoBindAndConnect() throws {
        let context = try Context()
        let endpoint = uniqueInproc("unbind")
        let binder = try Socket(context: context, type: .pair)
        try binder.bind(endpoint)
        try binder.unbind(endpoint)
        // The name is free again.
        let other = try Socket(context: context, type: .pair)
        try other.bind(endpoint)

        let connector = try Socket(context: context, type: .dealer)
        try connector.connect(endpoint)
        try connector.disconnect(endpoint)

        // Undoing what was never done fails, naming the call and the endpoint.
        let never = uniqueInproc("never")
        let unbindError = #expect(throws: ZeroMQError.self) { try binder.unbind(never) }
        #expect(unbindError?.operation == "zmq_unbind")
        #expect(unbindError?.endpoint == never)
        #expect(unbindError?.errno == ENOENT)
        let disconnectError = #expect(throws: ZeroMQError.self) { try connector.disconnect(never) }
        #expect(disconnectError?.operation == "zmq_disconnect")
        #expect(disconnectError?.endpoint == never)
    }
}
