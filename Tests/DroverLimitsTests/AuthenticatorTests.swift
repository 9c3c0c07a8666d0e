import DroverCore
import DroverLimits
import Logging
import Synchronization
import Testing
import ZeroMQ

/// The ZAP handler with real CURVE handshakes over loopback: a key it allows gets through
/// with its user id on every message; an unknown key, a plaintext peer, and any peer once
/// the handler is gone, get nothing through (the server fails closed).
@Suite(.timeLimit(.minutes(1)))
struct AuthenticatorTests {
    let serverKeys: CurveKeyPair
    let allowedKeys: CurveKeyPair

    init() throws {
        serverKeys = try CurveKeyPair.generate()
        allowedKeys = try CurveKeyPair.generate()
    }

    private func secureRouter(_ context: Context) throws -> (Socket, String) {
        let router = try Socket(context: context, type: .router)
        try router.set(.curveServer, true)
        try router.set(.curveSecretKey, serverKeys.secretKey)
        try router.set(.zapDomain, "drover")
        try router.set(.zapEnforceDomain, true)
        let endpoint = try router.bind("tcp://127.0.0.1:*")
        return (router, endpoint)
    }

    private func client(_ context: Context, _ keys: CurveKeyPair?, to endpoint: String, id: String) throws -> (Socket, SocketMonitor) {
        let dealer = try Socket(context: context, type: .dealer)
        try dealer.set(.routingID, Array(id.utf8))
        if let keys {
            try dealer.set(.curveServerKey, serverKeys.publicKey)
            try dealer.set(.curvePublicKey, keys.publicKey)
            try dealer.set(.curveSecretKey, keys.secretKey)
        }
        let monitor = try SocketMonitor(dealer, events: [.handshakeSucceeded, .handshakeFailedAuth, .handshakeFailedProtocol])
        try dealer.connect(endpoint)
        return (dealer, monitor)
    }

    /// The next message or event on `socket` within `seconds` (a failure guard), else nil.
    private func next(_ socket: Socket, seconds: Int64) throws -> ZeroMQ.Message? {
        var poller = Poller()
        let index = poller.add(socket)
        guard try poller.poll(timeout: .seconds(seconds))[index].contains(.readable) else { return nil }
        return try socket.receive(wait: false)
    }

    private func nextEvent(_ monitor: SocketMonitor, seconds: Int64) throws -> SocketMonitor.Event? {
        var poller = Poller()
        let index = poller.add(monitor.socket)
        guard try poller.poll(timeout: .seconds(seconds))[index].contains(.readable) else { return nil }
        return try monitor.receive(wait: false)
    }

    @Test func anAllowedKeyGetsThroughWithItsUserIDAndOthersDoNot() throws {
        let context = try Context()
        let allowed = allowedKeys.publicKey
        let seen = LockedRequests()
        let authenticator = try Authenticator(context: context, logger: Logger(label: "test")) { request in
            seen.append(request)
            return request.curvePublicKey == allowed ? .allow(userID: "alice") : .deny(reason: "unknown key")
        }
        defer { authenticator.stop() }
        let (router, endpoint) = try secureRouter(context)

        let (stranger, strangerEvents) = try client(context, try CurveKeyPair.generate(), to: endpoint, id: "stranger")
        _ = try stranger.send(ZeroMQ.Message(strings: ["from a stranger"]))
        #expect(try nextEvent(strangerEvents, seconds: 10)?.kind == .handshakeFailedAuth)
        let (plaintext, _) = try client(context, nil, to: endpoint, id: "plaintext")
        _ = try plaintext.send(ZeroMQ.Message(strings: ["in the clear"]))

        let (alice, aliceEvents) = try client(context, allowedKeys, to: endpoint, id: "alice-socket")
        _ = try alice.send(ZeroMQ.Message(strings: ["hello"]))
        #expect(try nextEvent(aliceEvents, seconds: 10)?.kind == .handshakeSucceeded)
        let received = try #require(try next(router, seconds: 10))
        #expect(received.strings == ["alice-socket", "hello"])
        #expect(received.userID == "alice")
        // Only Alice's message came through.
        #expect(try next(router, seconds: 1) == nil)

        let requests = seen.all
        #expect(requests.contains { $0.curvePublicKey == allowed && $0.domain == "drover" && $0.address == "127.0.0.1" })
        #expect(requests.allSatisfy { $0.mechanism == "CURVE" })
    }

    @Test func withoutAHandlerEveryHandshakeFails() throws {
        let context = try Context()
        let (router, endpoint) = try secureRouter(context)
        let (alice, events) = try client(context, allowedKeys, to: endpoint, id: "alice")
        _ = try alice.send(ZeroMQ.Message(strings: ["hello"]))
        #expect(try next(router, seconds: 2) == nil)
        #expect(try nextEvent(events, seconds: 0)?.kind != .handshakeSucceeded)
    }

    @Test func aStoppedHandlerCanBeStoppedAgainAndItsEndpointIsFree() throws {
        let context = try Context()
        let first = try Authenticator(context: context, logger: Logger(label: "test")) { _ in .deny(reason: "no") }
        first.stop()
        first.stop()
        let second = try Authenticator(context: context, logger: Logger(label: "test")) { _ in .deny(reason: "no") }
        second.stop()
    }
}

/// Requests the handler saw, from its thread.
final class LockedRequests: Sendable {
    private let requests = Mutex<[ZAP.Request]>([])

    func append(_ request: ZAP.Request) { requests.withLock { $0.append(request) } }
    var all: [ZAP.Request] { requests.withLock { $0 } }
}
