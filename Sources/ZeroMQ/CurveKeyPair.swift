import CZeroMQ

/// A CURVE long-term key pair in Z85 text (40 characters each).
///
/// Servers set `curveServer` and `curveSecretKey`; clients set `curveServerKey` and
/// their own pair. Without a ZAP handler and `zapEnforceDomain`, a CURVE server accepts
/// any client that knows its public key.
public struct CurveKeyPair: Sendable, Equatable {
    public let publicKey: String
    public let secretKey: String

    public init(publicKey: String, secretKey: String) {
        self.publicKey = publicKey
        self.secretKey = secretKey
    }

    /// Generates a fresh key pair; fails with `notSupported` when libzmq lacks libsodium.
    public static func generate() throws(ZeroMQError) -> CurveKeyPair {
        var publicKey = [CChar](repeating: 0, count: 41)
        var secretKey = [CChar](repeating: 0, count: 41)
        guard zmq_curve_keypair(&publicKey, &secretKey) == 0 else { throw .last("zmq_curve_keypair") }
        return CurveKeyPair(publicKey: Self.text(publicKey), secretKey: Self.text(secretKey))
    }

    private static func text(_ key: [CChar]) -> String {
        String(decoding: key.prefix(40).map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }
}

extension Socket {
    /// Makes this socket a CURVE client with the pair `publicKey`/`secretKey`: it talks only
    /// to the server whose public key is `serverKey` (all Z85). Before `connect`.
    public func secureAsCurveClient(serverKey: String, publicKey: String, secretKey: String) throws(ZeroMQError) {
        try set(.curveServerKey, serverKey)
        try set(.curvePublicKey, publicKey)
        try set(.curveSecretKey, secretKey)
    }
}
