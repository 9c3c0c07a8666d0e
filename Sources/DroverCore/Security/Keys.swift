import Foundation

/// What a client key may do.
public enum KeyRole: String, Codable, Sendable, CaseIterable {
    /// Everything.
    case admin
    /// Serve runs of its pools (all pools when it names none), and read.
    case worker
    /// Read, change nothing.
    case viewer

    /// "an admin key", "a worker key": the role as messages name it.
    public var keyPhrase: String { self == .admin ? "an admin key" : "a \(rawValue) key" }
}

/// A client key as the server keeps it: its public half, never its secret.
public struct IssuedKey: Codable, Sendable, Equatable {
    public let name: String
    public let role: KeyRole
    /// The pools a worker key serves; empty: any.
    public let pools: [String]
    /// CURVE public key, Z85 (40 characters).
    public let publicKey: String
    public let created: Date
    /// When it was revoked; a revoked key never connects again.
    public var revoked: Date?
    /// The server endpoint its key file names, kept for `keys rotate`.
    public let server: String?

    public init(
        name: String, role: KeyRole, pools: [String], publicKey: String, created: Date, revoked: Date? = nil,
        server: String? = nil
    ) {
        self.server = server
        self.name = name
        self.role = role
        self.pools = pools
        self.publicKey = publicKey
        self.created = created
        self.revoked = revoked
    }

    enum CodingKeys: String, CodingKey {
        case name, role, pools, revoked, created, server
        case publicKey = "public_key"
    }
}

/// What a client needs to reach a secure server: its own key pair, the server's public
/// key, and where the server is. Written once by `drover keys create`, kept 0600.
public struct KeyFile: Codable, Sendable, Equatable {
    public static let version = 1

    public let version: Int
    public let name: String
    public let role: KeyRole
    public let pools: [String]
    public let publicKey: String
    public let secretKey: String
    public let serverPublicKey: String
    /// The server's control endpoint, such as `tcp://10.0.0.5:4201`.
    public let server: String

    public init(
        name: String, role: KeyRole, pools: [String], publicKey: String, secretKey: String, serverPublicKey: String,
        server: String
    ) {
        version = Self.version
        self.name = name
        self.role = role
        self.pools = pools
        self.publicKey = publicKey
        self.secretKey = secretKey
        self.serverPublicKey = serverPublicKey
        self.server = server
    }

    enum CodingKeys: String, CodingKey {
        case version, name, role, pools, server
        case publicKey = "public_key"
        case secretKey = "secret_key"
        case serverPublicKey = "server_public_key"
    }

    /// A key only its owner can read: 0600 (`FileManager` permissions).
    public static let permissions = 0o600

    /// The key file's contents: pretty JSON and a newline.
    public func encoded() throws(DroverError) -> [UInt8] {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
        guard let data = try? encoder.encode(self) else { throw DroverError(.internal, "Could not encode the key file.") }
        return Array(data) + [0x0A]
    }
}
