import Foundation

#if canImport(Glibc)
import Glibc
#endif

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

    /// Reads the key file at `path`; refuses one that others can read, as ssh does
    /// (`PrivateFile`).
    public static func read(from path: String) throws(DroverError) -> KeyFile {
        try PrivateFile.check(
            path, kind: "key file",
            missing: "No key file at \(path). Create one on the server's host with `drover keys create NAME --role ROLE`.")
        guard let data = FileManager.default.contents(atPath: path),
            let file = try? JSONDecoder().decode(KeyFile.self, from: data)
        else {
            throw .invalidArgument("\(path) is not a Drover key file (one written by `drover keys create`).")
        }
        guard file.version == Self.version else {
            throw .invalidArgument("Key file \(path) is of version \(file.version); this drover reads version \(Self.version).")
        }
        return file
    }

    /// Writes the key to a new file at `path`, 0600; never overwrites one.
    public func write(to path: String) throws(DroverError) {
        try Self.createPrivateFile(at: path, contents: try encoded())
    }

    /// The key file's contents: pretty JSON and a newline.
    public func encoded() throws(DroverError) -> [UInt8] {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
        guard let data = try? encoder.encode(self) else { throw DroverError(.internal, "Could not encode the key file.") }
        return Array(data) + [0x0A]
    }

    /// Creates `path` with `contents`, readable and writable by its owner only from the
    /// start (`O_EXCL`: never over an existing file, never readable by others for a moment).
    public static func createPrivateFile(at path: String, contents: [UInt8]) throws(DroverError) {
        let fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, mode_t(permissions))
        guard fd >= 0 else {
            if errno == EEXIST {
                throw .alreadyExists("\(path) already exists; remove it or write the key elsewhere with --output.")
            }
            throw .failedPrecondition(
                "Could not create \(path): \(String(cString: strerror(errno))). Check that its folder exists and is writable.")
        }
        defer { close(fd) }
        let written = contents.withUnsafeBytes { Glibc.write(fd, $0.baseAddress, $0.count) }
        guard written == contents.count, fsync(fd) == 0 else {
            throw .failedPrecondition("Could not write \(path): \(String(cString: strerror(errno))).")
        }
    }
}
