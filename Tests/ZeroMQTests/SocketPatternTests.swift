import Testing
import ZeroMQ

/// One test per socket pattern the module offers.
@Suite struct SocketPatternTests {
    @Test func routerSeesDealerRoutingIDAndRoutesRepliesByIdentity() throws {
        let context = try Context()
        let router = try Socket(context: context, type: .router)
        let endpoint = try router.bind(loopbackWildcard)

        let first = try Socket(context: context, type: .dealer)
        try first.set(.routingID, bytes("worker-1"))
        try first.connect(endpoint)
        let second = try Socket(context: context, type: .dealer)
        try second.set(.routingID, bytes("worker-2"))
        try second.connect(endpoint)

        try first.send(Message(strings: ["hello from 1"]))
        try second.send(Message(strings: ["hello from 2"]))

        var senders: [String: String] = [:]
        for _ in 0..<2 {
            let message = try receiveGuarded(router)
            try #require(message.frames.count == 2)
            senders[message.strings[0]] = message.strings[1]
        }
        #expect(senders == ["worker-1": "hello from 1", "worker-2": "hello from 2"])

        // Address worker-2 first: if routing ignored the identity frame, worker-1's
        // first message would be the one meant for worker-2.
        try router.send(Message(strings: ["worker-2", "for 2"]))
        try router.send(Message(strings: ["worker-1", "for 1"]))
        #expect(try receiveGuarded(first).strings == ["for 1"])
        #expect(try receiveGuarded(second).strings == ["for 2"])
        #expect(try first.receive(wait: false) == nil)
        #expect(try second.receive(wait: false) == nil)
    }

    /// What the dispatch endpoint relies on to keep a worker's connection its own: without
    /// `ROUTER_HANDOVER`, a second connection with a routing id in use is ignored (libzmq
    /// never routes to or from it), and the first keeps the id.
    @Test func routerWithoutHandoverKeepsAnIDWithItsFirstConnection() throws {
        let context = try Context()
        let router = try Socket(context: context, type: .router)
        try router.set(.routerMandatory, true)
        let endpoint = try router.bind(loopbackWildcard)
        let owner = try Socket(context: context, type: .dealer)
        try owner.set(.routingID, bytes("worker-1"))
        try owner.connect(endpoint)
        try owner.send(Message(strings: ["from the owner"]))
        #expect(try receiveGuarded(router).strings == ["worker-1", "from the owner"])

        let impostor = try Socket(context: context, type: .dealer)
        try impostor.set(.routingID, bytes("worker-1"))
        try impostor.connect(endpoint)
        try impostor.send(Message(strings: ["forged"]))
        try owner.send(Message(strings: ["still here"]))
        #expect(try receiveGuarded(router).strings == ["worker-1", "still here"])
        try router.send(Message(strings: ["worker-1", "for the owner"]))
        #expect(try receiveGuarded(owner).strings == ["for the owner"])
        #expect(try !isReadable(impostor, within: .milliseconds(200)))
        #expect(try router.receive(wait: false) == nil, "the impostor's message was never delivered")
    }

    @Test func dealerEnvelopeWithEmptyDelimiterKeepsItsFrames() throws {
        let context = try Context()
        let router = try Socket(context: context, type: .router)
        let endpoint = uniqueInproc("envelope")
        try router.bind(endpoint)
        let dealer = try Socket(context: context, type: .dealer)
        try dealer.set(.routingID, [0x01, 0x02, 0x03])
        try dealer.connect(endpoint)

        try dealer.send(Message([[], bytes("payload")]))
        let request = try receiveGuarded(router)
        #expect(request == Message([[0x01, 0x02, 0x03], [], bytes("payload")]))

        try router.send(Message([[0x01, 0x02, 0x03], [], bytes("answer")]))
        #expect(try receiveGuarded(dealer) == Message([[], bytes("answer")]))
    }

    @Test func subscriberReceivesOnlyItsTopicsAndStopsAfterUnsubscribing() throws {
        let context = try Context()
        let publisher = try Socket(context: context, type: .publisher)
        let endpoint = try publisher.bind(loopbackWildcard)
        let subscriber = try Socket(context: context, type: .subscriber)
        try subscriber.set(.subscribe, bytes("weather."))
        try subscriber.set(.subscribe, bytes("marker"))
        try subscriber.connect(endpoint)

        // Slow joiner: messages published before the subscription reaches the publisher
        // are dropped, so publish until the first one gets through (bounded, ~5 s).
        var first: Message?
        for _ in 0..<500 where first == nil {
            try publisher.send(Message(strings: ["weather.today", "sunny"]))
            if try isReadable(subscriber, within: .milliseconds(10)) {
                first = try subscriber.receive(wait: false)
            }
        }
        let confirmed = try #require(first, "the subscription never reached the publisher")
        #expect(confirmed.strings == ["weather.today", "sunny"])

        // A topic nobody subscribed to is published between two that were: it must not
        // arrive before the later one (one publisher's messages stay in order).
        try publisher.send(Message(strings: ["sports.today", "rain"]))
        try publisher.send(Message(strings: ["weather.tomorrow", "cloudy"]))
        let beforeTomorrow = try receiveUntil(subscriber, limit: 600) { $0.strings.first == "weather.tomorrow" }
        #expect(beforeTomorrow.allSatisfy { $0.strings.first?.hasPrefix("weather.") == true })
        #expect(beforeTomorrow.last?.strings == ["weather.tomorrow", "cloudy"])

        // After unsubscribing, the topic is filtered (by the publisher once it hears of
        // it, by the subscriber until then), while the remaining subscription still works.
        try subscriber.set(.unsubscribe, bytes("weather."))
        try publisher.send(Message(strings: ["weather.later", "fog"]))
        try publisher.send(Message(strings: ["marker", "end"]))
        let afterUnsubscribe = try receiveUntil(subscriber, limit: 10) { $0.strings.first == "marker" }
        #expect(afterUnsubscribe.map(\.strings) == [["marker", "end"]])
    }

    @Test func pairTalksBothWaysOverInproc() throws {
        let context = try Context()
        let endpoint = uniqueInproc("pair")
        let left = try Socket(context: context, type: .pair)
        try left.bind(endpoint)
        let right = try Socket(context: context, type: .pair)
        try right.connect(endpoint)

        try left.send(Message(strings: ["left to right"]))
        #expect(try receiveGuarded(right).strings == ["left to right"])
        try right.send(Message(strings: ["right to left", "second frame"]))
        #expect(try receiveGuarded(left).strings == ["right to left", "second frame"])
    }

    @Test func requestReplyRunsInLockStep() throws {
        let context = try Context()
        let reply = try Socket(context: context, type: .reply)
        let endpoint = try reply.bind(loopbackWildcard)
        let request = try Socket(context: context, type: .request)
        try request.connect(endpoint)

        // REP cannot answer before it has been asked.
        let earlyReply = #expect(throws: ZeroMQError.self) { try reply.send(Message(strings: ["too early"])) }
        #expect(earlyReply?.code == .invalidState)
        // REQ cannot wait for a reply it has not asked for.
        let earlyReceive = #expect(throws: ZeroMQError.self) { _ = try request.receive(wait: false) }
        #expect(earlyReceive?.code == .invalidState)

        try request.send(Message(strings: ["ping"]))
        let secondSend = #expect(throws: ZeroMQError.self) { try request.send(Message(strings: ["ping again"])) }
        #expect(secondSend?.code == .invalidState)
        #expect(secondSend?.operation == "zmq_send")

        #expect(try receiveGuarded(reply).strings == ["ping"])
        try reply.send(Message(strings: ["pong"]))
        #expect(try receiveGuarded(request).strings == ["pong"])

        // The reply completed the cycle, so REQ may ask again.
        try request.send(Message(strings: ["ping 2"]))
        #expect(try receiveGuarded(reply).strings == ["ping 2"])
    }
}
