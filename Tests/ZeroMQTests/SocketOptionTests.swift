import Testing
import ZeroMQ

@Suite struct SocketOptionTests {
    @Test func newSocketsStartWithZeroLinger() throws {
        let context = try Context()
        for type in SocketType.allCases {
            let socket = try Socket(context: context, type: type)
            #expect(try socket.get(.linger) == 0, "\(type)")
        }
    }

    @Test func int32OptionsRoundTrip() throws {
        let context = try Context()
        let socket = try Socket(context: context, type: .dealer)
        let cases: [(SocketOption<Int32>, Int32)] = [
            (.linger, 250),
            (.sendHighWaterMark, 17),
            (.receiveHighWaterMark, 23),
            (.sendTimeout, 1234),
            (.receiveTimeout, 4321),
            (.heartbeatInterval, 1500),
            (.heartbeatTimeout, 4500),
            (.heartbeatTTL, 2000),  // whole deciseconds survive libzmq's rounding
            (.reconnectInterval, 250),
            (.reconnectIntervalMax, 5000),
            (.handshakeInterval, 7000),
        ]
        for (option, value) in cases {
            #expect(try socket.get(option) != value, "\(option.name) already had the test value")
            try socket.set(option, value)
            #expect(try socket.get(option) == value, "\(option.name)")
        }
        try socket.set(.linger, -1)
        #expect(try socket.get(.linger) == -1)
    }

    @Test func maxMessageSizeIsASixtyFourBitOption() throws {
        let context = try Context()
        let socket = try Socket(context: context, type: .router)
        #expect(try socket.get(.maxMessageSize) == -1)
        let beyondInt32: Int64 = 5_000_000_000
        try socket.set(.maxMessageSize, beyondInt32)
        #expect(try socket.get(.maxMessageSize) == beyondInt32)
        try socket.set(.maxMessageSize, 1024)
        #expect(try socket.get(.maxMessageSize) == 1024)

        // The same option given as a 4-byte int is rejected: the width matters.
        let narrow = SocketOption<Int32>(code: SocketOption<Int64>.maxMessageSize.code, name: "ZMQ_MAXMSGSIZE")
        let error = #expect(throws: ZeroMQError.self) { try socket.set(narrow, 2048) }
        #expect(error?.code == .invalidArgument)
        #expect(error?.operation == "zmq_setsockopt(ZMQ_MAXMSGSIZE)")
        #expect(try socket.get(.maxMessageSize) == 1024)
    }

    @Test func boolOptionsRoundTrip() throws {
        let context = try Context()
        let dealer = try Socket(context: context, type: .dealer)
        for option in [SocketOption<Bool>.immediate, .ipv6, .curveServer] {
            #expect(try dealer.get(option) == false, "\(option.name)")
            try dealer.set(option, true)
            #expect(try dealer.get(option) == true, "\(option.name)")
            try dealer.set(option, false)
            #expect(try dealer.get(option) == false, "\(option.name)")
        }
        // Write-only in libzmq 4.3: setting works, reading is refused.
        let router = try Socket(context: context, type: .router)
        for option in [SocketOption<Bool>.routerMandatory, .routerHandover] {
            try router.set(option, true)
            let error = #expect(throws: ZeroMQError.self) { _ = try router.get(option) }
            #expect(error?.code == .invalidArgument, "\(option.name)")
        }
        #expect(try dealer.get(.zapEnforceDomain) == false)
        try dealer.set(.zapEnforceDomain, true)
        #expect(try dealer.get(.zapEnforceDomain) == true)
    }

    @Test func routingIDIsRawBytes() throws {
        let context = try Context()
        let socket = try Socket(context: context, type: .dealer)
        #expect(try socket.get(.routingID) == [])

        // Embedded NUL and high bytes survive: the id is bytes, not a C string.
        let id: [UInt8] = [0x41, 0x00, 0xFF, 0x42]
        try socket.set(.routingID, id)
        #expect(try socket.get(.routingID) == id)

        let longest = [UInt8](repeating: 0x7A, count: 255)
        try socket.set(.routingID, longest)
        #expect(try socket.get(.routingID) == longest)

        let error = #expect(throws: ZeroMQError.self) { try socket.set(.routingID, [UInt8](repeating: 1, count: 256)) }
        #expect(error?.code == .invalidArgument)
        #expect(error?.operation == "zmq_setsockopt(ZMQ_ROUTING_ID)")
    }

    @Test func lastEndpointReportsTheWildcardPortChosen() throws {
        let context = try Context()
        let socket = try Socket(context: context, type: .router)
        #expect(try socket.get(.lastEndpoint) == "")

        let bound = try socket.bind(loopbackWildcard)
        #expect(try socket.get(.lastEndpoint) == bound)
        #expect(bound.hasPrefix("tcp://127.0.0.1:"))
        let port = try #require(Int(bound.dropFirst("tcp://127.0.0.1:".count)))
        #expect(port > 0 && port < 65536)

        // A second wildcard bind gets another port, and lastEndpoint follows it.
        let again = try socket.bind(loopbackWildcard)
        #expect(again != bound)
        #expect(try socket.get(.lastEndpoint) == again)

        let inproc = uniqueInproc("last")
        #expect(try socket.bind(inproc) == inproc)
        #expect(try socket.get(.lastEndpoint) == inproc)

        let client = try Socket(context: context, type: .dealer)
        try client.connect(bound)
        #expect(try client.get(.lastEndpoint) == bound)
    }

    @Test func stringOptionsRoundTrip() throws {
        let context = try Context()
        let socket = try Socket(context: context, type: .router)
        #expect(try socket.get(.zapDomain) == "")
        try socket.set(.zapDomain, "drover")
        #expect(try socket.get(.zapDomain) == "drover")
    }

    @Test func eventsOptionReflectsAWaitingMessage() throws {
        let context = try Context()
        let endpoint = uniqueInproc("events")
        let receiver = try Socket(context: context, type: .pair)
        try receiver.bind(endpoint)
        let sender = try Socket(context: context, type: .pair)
        try sender.connect(endpoint)

        let readable = Int32(PollEvents.readable.rawValue)
        let writable = Int32(PollEvents.writable.rawValue)
        #expect(try receiver.get(.events) & readable == 0)
        #expect(try sender.get(.events) & writable != 0)
        try sender.send(Message(strings: ["x"]))
        _ = try isReadable(receiver, within: failureGuard)
        #expect(try receiver.get(.events) & readable != 0)
        _ = try receiver.receive(wait: false)
        #expect(try receiver.get(.events) & readable == 0)
    }

    @Test func readingAWriteOnlyOptionThrowsInvalidArgument() throws {
        let context = try Context()
        let socket = try Socket(context: context, type: .subscriber)
        try socket.set(.subscribe, bytes("topic"))
        let error = #expect(throws: ZeroMQError.self) { _ = try socket.get(.subscribe) }
        #expect(error?.code == .invalidArgument)
        #expect(error?.operation == "zmq_getsockopt(ZMQ_SUBSCRIBE)")
    }
}
