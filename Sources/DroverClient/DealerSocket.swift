import DroverCore
import DroverProto
import DroverWire
import ZeroMQ

/// The DEALER socket both clients talk through: Drover's frame limit, connected in the
/// background to `endpoint`, on `context` or a context of its own; with `key`, a CURVE
/// client of the server that key is for.
enum DealerSocket {
    static func connect(to endpoint: String, context: Context?, key: KeyFile?) throws(ZeroMQError) -> (Socket, HandshakeWatch) {
        let shared: Context
        if let context { shared = context } else { shared = try Context(ioThreads: 1) }
        let socket = try Socket(context: shared, type: .dealer)
        try socket.set(.maxMessageSize, droverMaxFrameBytes)
        if let key { try socket.secure(asClientWith: key) }
        let watch = HandshakeWatch(try SocketMonitor(socket, events: HandshakeWatch.events), key: key)
        try socket.connect(endpoint)
        return (socket, watch)
    }
}

extension Socket {
    /// Makes this socket a CURVE client with `key`: it talks only to the server whose public
    /// key the key file holds, and that server knows it by the key's name. Before `connect`.
    public func secure(asClientWith key: KeyFile) throws(ZeroMQError) {
        try secureAsCurveClient(serverKey: key.serverPublicKey, publicKey: key.publicKey, secretKey: key.secretKey)
    }
}

/// Watches a client socket's handshakes, so that a server which refused the key (or wants
/// one) is reported as that, not as a server that does not answer.
final class HandshakeWatch {
    static let events: SocketMonitor.Events = [.handshakeFailedAuth, .handshakeFailedProtocol, .handshakeFailedNoDetail]

    private let monitor: SocketMonitor
    private let key: KeyFile?
    private var failure: SocketMonitor.Events?

    init(_ monitor: SocketMonitor, key: KeyFile?) {
        self.monitor = monitor
        self.key = key
    }

    /// Why the server at `endpoint` turned the connection down, if a handshake failed.
    func refusal(by peer: String, at endpoint: String) -> DroverError? {
        while let event = try? monitor.receive(wait: false) { failure = event.kind }
        guard let failure else { return nil }
        guard let key else {
            return .permissionDenied(
                "The \(peer) at \(endpoint) accepts only secure connections: pass --key FILE (or set DROVER_KEY) with a key "
                    + "its admin made with `drover keys create`.")
        }
        if failure == .handshakeFailedAuth {
            return .permissionDenied(
                "The \(peer) at \(endpoint) refused the key '\(key.name)': it is unknown there, or revoked. Ask its admin "
                    + "for a new one (`drover keys create`).")
        }
        return .permissionDenied(
            "The \(peer) at \(endpoint) did not accept a secure connection with the key '\(key.name)': is it started with "
                + "--secure, and is this key one of its own?")
    }
}
