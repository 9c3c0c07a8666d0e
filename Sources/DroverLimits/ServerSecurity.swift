import DroverCore
import Foundation
import Logging
import Synchronization
import ZeroMQ

/// A secure daemon's side of CURVE: its key pair, the keys it issued, and the ZAP handler
/// that admits only those. Every endpoint it binds is a CURVE server in ZAP domain
/// `domain` with the domain enforced, so without a running handler nobody connects.
public struct ServerSecurity: Sendable {
    public static let domain = "drover"
    /// The user id of the server itself, when it connects to its own limit service. No key
    /// can be issued under it (a key name cannot hold '/').
    public static let serverUserID = "/server"

    public let keys: CurveKeyPair
    public let store: KeyStore

    /// Loads the key pair of `home` (made there on first use), or the one in `keyFile`.
    public init(home: URL, keyFile: String? = nil) throws(DroverError) {
        store = KeyStore(home: home, serverKey: keyFile.flatMap { $0.isEmpty ? nil : .file($0) } ?? .home)
        keys = try store.serverKeys(create: true)
        try store.recordServerKeyFile()
    }

    /// Starts the ZAP handler of `context`; bind no secure endpoint before it.
    public func startAuthenticator(in context: Context, logger: Logger) throws(DroverError) -> Authenticator {
        let store = store
        let ownKey = keys.publicKey
        // A peer may try keys as fast as it can connect: one line per 10 s, with the count.
        let gate = Mutex(WarningGate())
        logger.info(
            "CURVE security on: only keys issued in this home connect",
            metadata: ["keys": "\(store.folder.path)", "server.public_key": "\(keys.publicKey)"])
        return try Authenticator(context: context, logger: logger) { request in
            if request.curvePublicKey == ownKey { return .allow(userID: Self.serverUserID) }
            let verdict = store.verdict(for: request)
            if case .deny(let reason) = verdict,
                let heldBack = gate.withLock({ $0.allows("refused", now: .now) ? $0.takeHeldBack("refused") : nil })
            {
                var metadata: Logger.Metadata = ["peer.address": "\(request.address)", "reason": "\(reason)"]
                if heldBack > 0 { metadata["warnings.held_back"] = "\(heldBack)" }
                logger.warning("refused a connection", metadata: metadata)
            }
            return verdict
        }
    }

    /// The key a message came with (`Message.userID`, the key's public key), while it is
    /// issued and not revoked.
    public func key(for userID: String?) -> IssuedKey? {
        guard let userID else { return nil }
        if userID == Self.serverUserID {
            return IssuedKey(name: userID, role: .admin, pools: [], publicKey: keys.publicKey, created: .distantPast)
        }
        return store.activeKey(publicKey: userID)
    }

    /// The refusal of a request on a connection whose key was revoked since it connected.
    public static let revokedRefusal = DroverError.permissionDenied(
        "This connection's key was revoked; ask the server's admin for a new one.")

    /// The name of the key with this user id, revoked or not, for logs.
    public func keyName(for userID: String) -> String {
        ((try? store.issued()) ?? []).last { $0.publicKey == userID }?.name ?? "unknown"
    }

    /// Makes `socket` a CURVE server of this key pair that asks the ZAP handler about every peer.
    public func secure(_ socket: Socket) throws(ZeroMQError) {
        try socket.set(.curveServer, true)
        try socket.set(.curveSecretKey, keys.secretKey)
        try socket.set(.zapDomain, Self.domain)
        try socket.set(.zapEnforceDomain, true)
    }

    /// The key the server uses as a client of its own (embedded) limit service.
    public var ownClientKey: KeyFile {
        KeyFile(
            name: Self.serverUserID, role: .admin, pools: [], publicKey: keys.publicKey, secretKey: keys.secretKey,
            serverPublicKey: keys.publicKey, server: "")
    }
}
