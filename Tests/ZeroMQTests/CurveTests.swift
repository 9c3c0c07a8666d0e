import Testing
import ZeroMQ

@Suite struct CurveTests {
    static let z85Alphabet = Set("0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ.-:+=^!/*?&<>()[]{}@%$#")

    @Test func libzmqHasCurve() {
        #expect(ZeroMQLibrary.has("curve"))
        #expect(!ZeroMQLibrary.has("no-such-capability"))
    }

    @Test func generatedKeyPairsAreFortyCharacterZ85AndFresh() throws {
        let first = try CurveKeyPair.generate()
        let second = try CurveKeyPair.generate()
        for key in [first.publicKey, first.secretKey, second.publicKey, second.secretKey] {
            #expect(key.count == 40)
            #expect(key.utf8.count == 40)
            #expect(key.allSatisfy { Self.z85Alphabet.contains($0) }, "\(key)")
        }
        #expect(first.publicKey != first.secretKey)
        #expect(first != second)
        #expect(first.publicKey != second.publicKey)
        #expect(first == CurveKeyPair(publicKey: first.publicKey, secretKey: first.secretKey))
    }

    @Test func curveKeysRoundTripAsOptions() throws {
        let context = try Context()
        let pair = try CurveKeyPair.generate()
        let server = try CurveKeyPair.generate()
        let socket = try Socket(context: context, type: .dealer)
        try socket.set(.curvePublicKey, pair.publicKey)
        try socket.set(.curveSecretKey, pair.secretKey)
        try socket.set(.curveServerKey, server.publicKey)
        #expect(try socket.get(.curvePublicKey) == pair.publicKey)
        #expect(try socket.get(.curveSecretKey) == pair.secretKey)
        #expect(try socket.get(.curveServerKey) == server.publicKey)

        let error = #expect(throws: ZeroMQError.self) { try socket.set(.curveServerKey, "too short") }
        #expect(error?.code == .invalidArgument)
        #expect(error?.operation == "zmq_setsockopt(ZMQ_CURVE_SERVERKEY)")
    }

    @Test func curveEncryptedRouterDealerExchange() throws {
        let context = try Context()
        let serverKeys = try CurveKeyPair.generate()
        let clientKeys = try CurveKeyPair.generate()

        let server = try Socket(context: context, type: .router)
        try server.set(.curveServer, true)
        try server.set(.curveSecretKey, serverKeys.secretKey)
        #expect(try server.get(.curveServer) == true)
        let endpoint = try server.bind(loopbackWildcard)

        // Clients that cannot complete a CURVE handshake: plaintext, and a wrong server key.
        let plaintext = try Socket(context: context, type: .dealer)
        try plaintext.set(.routingID, bytes("plaintext"))
        try plaintext.connect(endpoint)
        try plaintext.send(Message(strings: ["plaintext hello"]))
        let impostorKeys = try CurveKeyPair.generate()
        let misled = try Socket(context: context, type: .dealer)
        try misled.set(.routingID, bytes("misled"))
        try misled.set(.curveServerKey, impostorKeys.publicKey)
        try misled.set(.curvePublicKey, clientKeys.publicKey)
        try misled.set(.curveSecretKey, clientKeys.secretKey)
        try misled.connect(endpoint)
        try misled.send(Message(strings: ["misled hello"]))

        let client = try Socket(context: context, type: .dealer)
        try client.set(.routingID, bytes("curve-client"))
        try client.set(.curveServerKey, serverKeys.publicKey)
        try client.set(.curvePublicKey, clientKeys.publicKey)
        try client.set(.curveSecretKey, clientKeys.secretKey)
        try client.connect(endpoint)

        try client.send(Message(strings: ["secret hello"]))
        #expect(try receiveGuarded(server).strings == ["curve-client", "secret hello"])
        try server.send(Message(strings: ["curve-client", "secret reply"]))
        #expect(try receiveGuarded(client).strings == ["secret reply"])

        // The failed clients started their handshakes first, yet nothing from them gets
        // through; give them a further window to prove it.
        #expect(try !isReadable(server, within: .milliseconds(200)))
        #expect(try server.receive(wait: false) == nil)
    }
}
