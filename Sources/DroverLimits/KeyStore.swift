import DroverCore
import DroverSystem
import Foundation
import Synchronization
import ZeroMQ

#if canImport(Glibc)
import Glibc
#endif

/// A server's keys, in `DROVER_HOME/keys` (a folder only its owner can enter): its own CURVE
/// key pair (`server.json`) and the client keys it issued (`issued.json`, public halves
/// only), each 0600. The secret half of a client key exists only in the key file handed
/// to that client.
///
/// The server reads `issued.json` again whenever it changed, so a key issued or revoked
/// with `drover keys` on the server's host counts from the next connection on.
public final class KeyStore: Sendable {
    public let folder: URL
    private let cache = Mutex<(modified: Date?, keys: ActiveKeys)>((nil, ActiveKeys()))

    /// Where the server's key pair is.
    public enum ServerKeyLocation: Sendable, Equatable {
        /// `keys/server.json` in the home, made there on first use.
        case home
        /// A file outside the home (`--server-key`), such as a Kubernetes Secret.
        case file(String)
        /// Wherever the home's server was last started with: a file it recorded, else the
        /// home. What `drover keys` on the server's host uses, so it issues keys for the pair
        /// the server uses, even without `DROVER_SERVER_KEY`, and never makes a second pair.
        case asRecorded
    }

    private let serverKeyLocation: ServerKeyLocation

    public init(home: URL, serverKey: ServerKeyLocation = .asRecorded) {
        folder = home.appendingPathComponent("keys", isDirectory: true)
        serverKeyLocation = serverKey
    }

    private var serverFile: String { folder.appendingPathComponent("server.json").path }
    private var serverKeyFileRecord: String { folder.appendingPathComponent("server-key-file").path }
    private var issuedFile: String { folder.appendingPathComponent("issued.json").path }

    /// The server's key pair file outside the home; nil: `keys/server.json`.
    public var serverKeyFile: String? {
        switch serverKeyLocation {
        case .home: return nil
        case .file(let path): return path
        case .asRecorded:
            guard let data = FileManager.default.contents(atPath: serverKeyFileRecord) else { return nil }
            let path = String(decoding: data, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
            return path.isEmpty ? nil : path
        }
    }

    /// Records in the home the key pair file a server is started with (its absolute path),
    /// or forgets it when the server keeps its pair in the home.
    public func recordServerKeyFile() throws(DroverError) {
        switch serverKeyLocation {
        case .home:
            unlink(serverKeyFileRecord)
        case .file(let file):
            let path = URL(fileURLWithPath: file).standardizedFileURL.path
            try writePrivate(raw: Array(path.utf8) + [0x0A], to: serverKeyFileRecord)
        case .asRecorded:
            return
        }
    }

    // MARK: The server's key pair

    private struct ServerKeys: Codable {
        let publicKey: String
        let secretKey: String

        enum CodingKeys: String, CodingKey {
            case publicKey = "public_key"
            case secretKey = "secret_key"
        }

        /// Both halves are Z85 CURVE keys (40 characters for 32 bytes).
        var isWellFormed: Bool {
            Z85.decode(publicKey)?.count == 32 && Z85.decode(secretKey)?.count == 32
        }
    }

    /// Writes a new server key pair to a new file at `path` (0600, never over one), for a
    /// server that keeps its key outside its home (`--server-key`); returns its public key.
    public static func writeServerKeys(to path: String) throws(DroverError) -> String {
        let pair = try newPair()
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
        guard let data = try? encoder.encode(ServerKeys(publicKey: pair.publicKey, secretKey: pair.secretKey)) else {
            throw DroverError(.internal, "Could not encode the server key pair.")
        }
        try PrivateFile.create(at: path, contents: Array(data) + [0x0A])
        return pair.publicKey
    }

    /// The server's key pair, made on first use when `create` is true; one kept outside the
    /// home is never made here (`writeServerKeys(to:)` does, by hand).
    public func serverKeys(create: Bool) throws(DroverError) -> CurveKeyPair {
        if let serverKeyFile {
            try PrivateFile.check(
                serverKeyFile, kind: "server key file",
                missing: "No server key file at \(serverKeyFile). Make one with `drover keys server-key -o \(serverKeyFile)`.")
            guard let data = FileManager.default.contents(atPath: serverKeyFile),
                let keys = try? JSONDecoder().decode(ServerKeys.self, from: data), keys.isWellFormed
            else {
                throw .invalidArgument(
                    "\(serverKeyFile) is not a server key file (one written by `drover keys server-key`).")
            }
            return CurveKeyPair(publicKey: keys.publicKey, secretKey: keys.secretKey)
        }
        if let data = FileManager.default.contents(atPath: serverFile) {
            guard let keys = try? JSONDecoder().decode(ServerKeys.self, from: data) else {
                throw .failedPrecondition("\(serverFile) is damaged: it does not hold the server's key pair.")
            }
            return CurveKeyPair(publicKey: keys.publicKey, secretKey: keys.secretKey)
        }
        guard create else {
            throw .notFound(
                "This home has no server key yet (\(serverFile)): start the server once with --secure, which makes it.")
        }
        try makeFolder()
        let pair = try Self.newPair()
        try writePrivate(ServerKeys(publicKey: pair.publicKey, secretKey: pair.secretKey), to: serverFile)
        return pair
    }

    // MARK: Issued keys

    /// Every key issued, revoked ones too, in the order they were issued.
    public func issued() throws(DroverError) -> [IssuedKey] {
        guard let data = FileManager.default.contents(atPath: issuedFile) else { return [] }
        do {
            let decoder = JSONDecoder()
            decoder.dateDecodingStrategy = .iso8601
            return try decoder.decode([IssuedKey].self, from: data)
        } catch {
            throw .failedPrecondition("\(issuedFile) is damaged: \(error).")
        }
    }

    /// Issues a new key: records its public half and returns the key file for the client.
    public func issue(
        name: String, role: KeyRole, pools: [String], server: String, now: Date = Date()
    ) throws(DroverError) -> KeyFile {
        try ResourceName.validate(name, kind: "key")
        for pool in pools { try ResourceName.validate(pool, kind: "work pool") }
        let serverKeys = try serverKeys(create: true)
        return try withLock { () throws(DroverError) -> KeyFile in
            var keys = try issued()
            guard !keys.contains(where: { $0.name == name }) else {
                throw .alreadyExists("A key named '\(name)' was already issued; pick another name (or revoke it and use a new one).")
            }
            let pair = try Self.newPair()
            keys.append(IssuedKey(name: name, role: role, pools: pools, publicKey: pair.publicKey, created: now, server: server))
            try save(keys)
            return KeyFile(
                name: name, role: role, pools: pools, publicKey: pair.publicKey, secretKey: pair.secretKey,
                serverPublicKey: serverKeys.publicKey, server: server)
        }
    }

    /// Revokes the key named `name`: it never connects again.
    @discardableResult
    public func revoke(name: String, now: Date = Date()) throws(DroverError) -> IssuedKey {
        try withLock { () throws(DroverError) -> IssuedKey in
            var keys = try issued()
            guard let last = keys.lastIndex(where: { $0.name == name }) else {
                throw .notFound("No key named '\(name)' was issued here. `drover keys ls` lists them.")
            }
            for index in keys.indices where keys[index].name == name && keys[index].revoked == nil {
                keys[index].revoked = now
            }
            try save(keys)
            return keys[last]
        }
    }

    /// The key with this public key, if it was issued here and is not revoked.
    public func activeKey(publicKey: String) -> IssuedKey? {
        current { $0.byPublicKey[publicKey] }
    }

    /// The key named `name`, if it was issued here and is not revoked.
    public func activeKey(named name: String) -> IssuedKey? {
        current { $0.byName[name] }
    }

    /// Looks up in the active keys, read again from `issued.json` when it changed (one
    /// `stat` per lookup).
    private func current(_ lookup: (ActiveKeys) -> IssuedKey?) -> IssuedKey? {
        let modified = (try? FileManager.default.attributesOfItem(atPath: issuedFile))?[.modificationDate] as? Date
        return cache.withLock { cache in
            if cache.modified != modified || modified == nil {
                let active = ((try? issued()) ?? []).filter { $0.revoked == nil }
                cache = (
                    modified,
                    ActiveKeys(
                        byPublicKey: Dictionary(active.map { ($0.publicKey, $0) }, uniquingKeysWith: { _, last in last }),
                        byName: Dictionary(active.map { ($0.name, $0) }, uniquingKeysWith: { _, last in last }))
                )
            }
            return lookup(cache.keys)
        }
    }

    private struct ActiveKeys {
        var byPublicKey: [String: IssuedKey] = [:]
        var byName: [String: IssuedKey] = [:]
    }

    /// What the ZAP handler answers a handshake: the key's public key as its user id (what
    /// identifies this very key, even after a rotation gives its name a new one), or why not.
    public func verdict(for request: ZAP.Request) -> ZAP.Verdict {
        guard let publicKey = request.curvePublicKey else { return .deny(reason: "a CURVE key is required") }
        guard activeKey(publicKey: publicKey) != nil else { return .deny(reason: "unknown or revoked key") }
        return .allow(userID: publicKey)
    }

    /// Gives the active key named `name` a new key pair, with the same role and pools, and
    /// returns its key file; the old pair is revoked at once.
    /// `server` nil keeps the endpoint the old key file named.
    public func rotate(name: String, server: String? = nil, now: Date = Date()) throws(DroverError) -> KeyFile {
        let serverKeys = try serverKeys(create: true)
        return try withLock { () throws(DroverError) -> KeyFile in
            var keys = try issued()
            guard let index = keys.firstIndex(where: { $0.name == name && $0.revoked == nil }) else {
                throw .notFound("No active key named '\(name)' here. `drover keys ls` lists them.")
            }
            let pair = try Self.newPair()
            let old = keys[index]
            let server = server ?? old.server ?? ""
            keys[index].revoked = now
            keys.append(
                IssuedKey(name: name, role: old.role, pools: old.pools, publicKey: pair.publicKey, created: now, server: server))
            try save(keys)
            return KeyFile(
                name: name, role: old.role, pools: old.pools, publicKey: pair.publicKey, secretKey: pair.secretKey,
                serverPublicKey: serverKeys.publicKey, server: server)
        }
    }

    /// A new CURVE key pair.
    private static func newPair() throws(DroverError) -> CurveKeyPair {
        do {
            return try CurveKeyPair.generate()
        } catch {
            throw DroverError(.internal, "Could not generate a CURVE key pair: \(error). Is libzmq built with libsodium?")
        }
    }

    // MARK: Files

    private func makeFolder() throws(DroverError) {
        do {
            try FileManager.default.createDirectory(
                at: folder, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700])
        } catch {
            throw .failedPrecondition("Could not create \(folder.path): \(error).")
        }
    }

    private func save(_ keys: [IssuedKey]) throws(DroverError) {
        try writePrivate(keys, to: issuedFile)
    }

    /// Replaces `path` with `value` as JSON, atomically (a new 0600 file renamed over it).
    private func writePrivate(_ value: some Encodable, to path: String) throws(DroverError) {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
        encoder.dateEncodingStrategy = .iso8601
        guard let data = try? encoder.encode(value) else { throw DroverError(.internal, "Could not encode \(path).") }
        try writePrivate(raw: Array(data) + [0x0A], to: path)
    }

    /// Replaces `path` with `contents`, atomically (a new 0600 file renamed over it).
    private func writePrivate(raw contents: [UInt8], to path: String) throws(DroverError) {
        try makeFolder()
        let temporary = "\(path).\(getpid()).tmp"
        unlink(temporary)
        try PrivateFile.create(at: temporary, contents: contents)
        guard rename(temporary, path) == 0 else {
            unlink(temporary)
            throw .failedPrecondition("Could not replace \(path): \(String(cString: strerror(errno))).")
        }
    }

    /// Runs `body` holding the store's lock, so two `drover keys` at once do not lose a key.
    private func withLock<T>(_ body: () throws(DroverError) -> T) throws(DroverError) -> T {
        try makeFolder()
        let lockPath = folder.appendingPathComponent(".lock").path
        let fd = open(lockPath, O_RDWR | O_CREAT | O_CLOEXEC, mode_t(0o600))
        guard fd >= 0 else { throw .failedPrecondition("Could not open \(lockPath): \(String(cString: strerror(errno))).") }
        defer { close(fd) }
        guard flock(fd, LOCK_EX) == 0 else { throw .failedPrecondition("Could not lock \(lockPath).") }
        return try body()
    }
}
