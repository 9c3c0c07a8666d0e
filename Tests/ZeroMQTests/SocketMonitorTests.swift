import Testing
import ZeroMQ

/// The socket monitor: a ROUTER learns when a peer's connection closes, and which
/// connection it was, by the descriptor its messages came in on.
@Suite struct SocketMonitorTests {
    /// Waits for the next event the monitor reports, failing the test after the guard.
    func nextEvent(
        _ monitor: SocketMonitor, sourceLocation: SourceLocation = #_sourceLocation
    ) throws -> SocketMonitor.Event {
        let readable = try isReadable(monitor.socket, within: failureGuard)
        try #require(readable, "no event within the failure guard", sourceLocation: sourceLocation)
        return try #require(try monitor.receive(wait: false), sourceLocation: sourceLocation)
    }

    @Test func aDealerThatClosesIsReportedDisconnectedWithTheDescriptorItsMessageCameFrom() throws {
        let context = try Context()
        let router = try Socket(context: context, type: .router)
        let endpoint = try router.bind(loopbackWildcard)
        let monitor = try SocketMonitor(router, events: [.accepted, .disconnected])

        var dealer: Socket? = try Socket(context: context, type: .dealer)
        try dealer?.set(.routingID, bytes("worker-1"))
        try dealer?.connect(endpoint)
        try dealer?.send(Message(strings: ["hello"]))
        let message = try receiveGuarded(router)
        #expect(message.strings == ["worker-1", "hello"])
        let fd = try #require(message.sourceFD, "a TCP message names its connection")

        let accepted = try nextEvent(monitor)
        #expect(accepted.kind == .accepted)
        #expect(accepted.fileDescriptor == fd)
        #expect(accepted.endpoint == endpoint)

        dealer = nil
        let closed = try nextEvent(monitor)
        #expect(closed == SocketMonitor.Event(kind: .disconnected, value: UInt32(fd), endpoint: endpoint))
        #expect(try monitor.receive(wait: false) == nil, "one event per change")
    }

    @Test func aReconnectionIsANewConnectionEvenOnTheSameDescriptor() throws {
        let context = try Context()
        let router = try Socket(context: context, type: .router)
        let endpoint = try router.bind(loopbackWildcard)
        let monitor = try SocketMonitor(router, events: [.accepted, .disconnected])
        var events: [SocketMonitor.Event] = []
        var descriptors: [Int32] = []

        for round in 1...2 {
            // Another routing id each round: a ROUTER without handover ignores a connection
            // whose id is still taken, and this test is about descriptors, not ids.
            var dealer: Socket? = try Socket(context: context, type: .dealer)
            try dealer?.set(.routingID, bytes("worker-\(round)"))
            try dealer?.connect(endpoint)
            try dealer?.send(Message(strings: ["round \(round)"]))
            let message = try receiveGuarded(router)
            #expect(message.strings == ["worker-\(round)", "round \(round)"])
            descriptors.append(try #require(message.sourceFD))
            events.append(try nextEvent(monitor))
            dealer = nil
            events.append(try nextEvent(monitor))
        }

        // Accepted, then disconnected, for each connection in turn, whatever number it had.
        #expect(events.map(\.kind) == [.accepted, .disconnected, .accepted, .disconnected])
        #expect(events.map(\.fileDescriptor) == [descriptors[0], descriptors[0], descriptors[1], descriptors[1]])
    }

    @Test func aConnectionIgnoredForATakenIDComesBackOnceShutDown() throws {
        let context = try Context()
        let router = try Socket(context: context, type: .router)
        try router.set(.routerMandatory, true)
        let endpoint = try router.bind(loopbackWildcard)
        let monitor = try SocketMonitor(router, events: [.accepted, .handshakeSucceeded, .disconnected])

        var first: Socket? = try Socket(context: context, type: .dealer)
        try first?.set(.routingID, bytes("worker-1"))
        try first?.connect(endpoint)
        try first?.send(Message(strings: ["first"]))
        #expect(try receiveGuarded(router).strings == ["worker-1", "first"])
        #expect(try [nextEvent(monitor).kind, nextEvent(monitor).kind] == [.accepted, .handshakeSucceeded])

        // The same worker's next socket is connected (its handshake done, so the ROUTER
        // meets it first) before the first one closes: the ROUTER ignores it for good, even
        // after the first one is gone.
        let second = try Socket(context: context, type: .dealer)
        try second.set(.routingID, bytes("worker-1"))
        try second.set(.reconnectInterval, 100)
        try second.connect(endpoint)
        let ignored = try nextEvent(monitor)
        #expect(ignored.kind == .accepted)
        #expect(try nextEvent(monitor).kind == .handshakeSucceeded)
        first = nil
        #expect(try nextEvent(monitor).kind == .disconnected)
        try second.send(Message(strings: ["lost"]))
        #expect(try !isReadable(router, within: .milliseconds(300)), "the ignored connection delivers nothing")

        monitor.shutDown(connection: ignored.fileDescriptor)
        #expect(try nextEvent(monitor) == SocketMonitor.Event(kind: .disconnected, value: ignored.value, endpoint: endpoint))
        #expect(try nextEvent(monitor).kind == .accepted, "it reconnected by itself")
        try second.send(Message(strings: ["back"]))
        #expect(try receiveGuarded(router).strings == ["worker-1", "back"])
    }

    @Test func messagesBuiltHereOrReceivedOverInprocNameNoConnection() throws {
        let context = try Context()
        let endpoint = uniqueInproc("srcfd")
        let receiver = try Socket(context: context, type: .pair)
        try receiver.bind(endpoint)
        let sender = try Socket(context: context, type: .pair)
        try sender.connect(endpoint)
        try sender.send(Message(strings: ["x"]))
        let received = try receiveGuarded(receiver)
        #expect(received.sourceFD == nil)
        #expect(Message(strings: ["x"]).sourceFD == nil)
        #expect(received == Message(strings: ["x"]), "where a message came from is not part of it")
    }

    @Test func eventFramesAreReadOnlyInLibzmqsLayout() {
        var head = [UInt8](repeating: 0, count: 6)
        withUnsafeBytes(of: UInt16(SocketMonitor.Events.disconnected.rawValue)) { head.replaceSubrange(0..<2, with: $0) }
        withUnsafeBytes(of: UInt32(17)) { head.replaceSubrange(2..<6, with: $0) }
        #expect(
            SocketMonitor.Event(frames: [head, bytes("tcp://127.0.0.1:1")])
                == SocketMonitor.Event(kind: .disconnected, value: 17, endpoint: "tcp://127.0.0.1:1"))
        #expect(SocketMonitor.Event(frames: [head]) == nil)
        #expect(SocketMonitor.Event(frames: [Array(head.prefix(5)), []]) == nil)
        #expect(SocketMonitor.Event(frames: [head, [], []]) == nil)
    }

    @Test func aMonitorStopsBeforeItsSocketCloses() throws {
        // Dropping a monitor and then its socket, with connections still open, must not
        // leave libzmq's I/O thread blocked on an event nobody reads: the context ends.
        let context = try Context()
        var router: Socket? = try Socket(context: context, type: .router)
        let endpoint = try router!.bind(loopbackWildcard)
        var monitor: SocketMonitor? = try SocketMonitor(router!, events: .all)
        var dealer: Socket? = try Socket(context: context, type: .dealer)
        try dealer?.connect(endpoint)
        try dealer?.send(Message(strings: ["x"]))
        _ = try receiveGuarded(router!)
        monitor = nil
        router = nil
        dealer = nil
        // The context is terminated when the test ends; that would hang were an event stuck.
        #expect(monitor == nil && router == nil && dealer == nil)
    }
}
