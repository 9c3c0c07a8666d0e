import DroverCore
import DroverLimits
import DroverSystem
import DroverTestSupport
import Foundation
import Logging
import Testing
import ZeroMQ

@Suite struct KeyStoreTests {
    private func mode(_ path: String) throws -> Int {
        try #require((FileManager.default.attributesOfItem(atPath: path)[.posixPermissions] as? NSNumber)?.intValue)
    }

    @Test func theServerKeyIsMadeOnceOnlyWhenAskedAndKeptPrivate() throws {
        let home = try TemporaryDirectory()
        let store = KeyStore(home: home.url)
        let missing = #expect(throws: DroverError.self) { try store.serverKeys(create: false) }
        #expect(missing?.code == .notFound && missing?.message.contains("--secure") == true)
        let made = try store.serverKeys(create: true)
        #expect(try store.serverKeys(create: false) == made)
        #expect(try KeyStore(home: home.url).serverKeys(create: true) == made)
        #expect(try mode(store.folder.path) == 0o700)
        #expect(try mode(store.folder.appendingPathComponent("server.json").path) == 0o600)
    }

    /// `--server-key FILE`: the pair comes from a file made by `drover keys server-key` (a
    /// Kubernetes Secret), never made in the home, and keys issued name it.
    @Test func aServerKeyFileOutsideTheHomeIsUsedAndNeverMade() throws {
        let home = try TemporaryDirectory()
        let path = home.file("server-key.json").path
        let missing = #expect(throws: DroverError.self) {
            try KeyStore(home: home.url, serverKey: .file(path)).serverKeys(create: true)
        }
        #expect(missing?.code == .notFound && missing?.message.contains("drover keys server-key -o \(path)") == true)
        #expect(!FileManager.default.fileExists(atPath: path))

        let publicKey = try KeyStore.writeServerKeys(to: path)
        #expect(try mode(path) == 0o600)
        let again = #expect(throws: DroverError.self) { try KeyStore.writeServerKeys(to: path) }
        #expect(again?.code == .alreadyExists)
        let store = KeyStore(home: home.url, serverKey: .file(path))
        #expect(try store.serverKeys(create: true).publicKey == publicKey)
        let file = try store.issue(name: "w1", role: .worker, pools: [], server: "tcp://drover-server:4201")
        #expect(file.serverPublicKey == publicKey)
        #expect(!FileManager.default.fileExists(atPath: store.folder.appendingPathComponent("server.json").path))

        try FileManager.default.setAttributes([.posixPermissions: 0o640], ofItemAtPath: path)
        let exposed = #expect(throws: DroverError.self) { try store.serverKeys(create: false) }
        #expect(exposed?.message.contains("Server key file \(path) can be read by others") == true)

        let damaged = home.file("damaged.json").path
        try PrivateFile.create(at: damaged, contents: Array(#"{"public_key":"short","secret_key":"short"}"#.utf8))
        let wrong = #expect(throws: DroverError.self) { try KeyStore(home: home.url, serverKey: .file(damaged)).serverKeys(create: false) }
        #expect(wrong?.code == .invalidArgument && wrong?.message.contains("not a server key file") == true)
    }

    /// `drover keys` on the server's host, without DROVER_SERVER_KEY, issues keys for the
    /// pair the server was started with, and never makes a pair of its own in the home.
    @Test func theHomeRemembersTheServerKeyFileItsServerUses() throws {
        let home = try TemporaryDirectory()
        let path = home.file("server-key.json").path
        let publicKey = try KeyStore.writeServerKeys(to: path)
        #expect(try ServerSecurity(home: home.url, keyFile: path).keys.publicKey == publicKey)
        let onHost = KeyStore(home: home.url)
        #expect(onHost.serverKeyFile == path)
        #expect(try onHost.issue(name: "admin", role: .admin, pools: [], server: "").serverPublicKey == publicKey)
        #expect(!FileManager.default.fileExists(atPath: onHost.folder.appendingPathComponent("server.json").path))
        // Started again without --server-key, the server uses (and makes) the home's pair.
        let own = try ServerSecurity(home: home.url).keys.publicKey
        #expect(own != publicKey && KeyStore(home: home.url).serverKeyFile == nil)
        #expect(try KeyStore(home: home.url).serverKeys(create: false).publicKey == own)
    }

    @Test func anIssuedKeyConnectsUntilRevoked() throws {
        let home = try TemporaryDirectory()
        let store = KeyStore(home: home.url)
        let file = try store.issue(name: "ci-runner", role: .worker, pools: ["gpu"], server: "tcp://10.0.0.5:4201")
        #expect(file.name == "ci-runner" && file.role == .worker && file.pools == ["gpu"])
        #expect(file.serverPublicKey == (try store.serverKeys(create: false)).publicKey)
        #expect(file.server == "tcp://10.0.0.5:4201")
        let listed = try store.issued()
        #expect(listed.map(\.name) == ["ci-runner"] && listed[0].publicKey == file.publicKey && listed[0].revoked == nil)
        #expect(
            !String(decoding: try Data(contentsOf: store.folder.appendingPathComponent("issued.json")), as: UTF8.self)
                .contains(file.secretKey), "the server keeps no client's secret")
        #expect(store.activeKey(publicKey: file.publicKey)?.name == "ci-runner")
        #expect(store.activeKey(publicKey: try CurveKeyPair.generate().publicKey) == nil)

        let revoked = try store.revoke(name: "ci-runner")
        #expect(revoked.revoked != nil)
        #expect(store.activeKey(publicKey: file.publicKey) == nil, "a revocation counts at once")
        let again = #expect(throws: DroverError.self) { try store.revoke(name: "nobody") }
        #expect(again?.code == .notFound)
    }

    @Test func rotatingGivesTheNameANewPairAndRevokesTheOld() throws {
        let store = KeyStore(home: try TemporaryDirectory().url)
        let old = try store.issue(name: "w1", role: .worker, pools: ["gpu"], server: "tcp://h:4201")
        let new = try store.rotate(name: "w1", server: "tcp://h:4201")
        #expect(new.publicKey != old.publicKey && new.role == .worker && new.pools == ["gpu"])
        #expect(store.activeKey(publicKey: old.publicKey) == nil)
        #expect(store.activeKey(publicKey: new.publicKey)?.name == "w1")
        #expect(store.activeKey(named: "w1")?.publicKey == new.publicKey)
        #expect(try store.issued().map(\.revoked).map { $0 != nil } == [true, false])
        let missing = #expect(throws: DroverError.self) { try store.rotate(name: "nobody", server: "") }
        #expect(missing?.code == .notFound)
    }

    @Test func namesAreUniqueAndValid() throws {
        let store = KeyStore(home: try TemporaryDirectory().url)
        _ = try store.issue(name: "admin", role: .admin, pools: [], server: "tcp://127.0.0.1:4201")
        let duplicate = #expect(throws: DroverError.self) {
            try store.issue(name: "admin", role: .viewer, pools: [], server: "tcp://127.0.0.1:4201")
        }
        #expect(duplicate?.code == .alreadyExists)
        let bad = #expect(throws: DroverError.self) { try store.issue(name: "a/b", role: .viewer, pools: [], server: "") }
        #expect(bad?.code == .invalidArgument)
    }

    @Test func aKeyFileIsWrittenPrivateNeverOverAnotherAndReadOnlyWhenPrivate() throws {
        let home = try TemporaryDirectory()
        let file = try KeyStore(home: home.url).issue(name: "viewer", role: .viewer, pools: [], server: "tcp://127.0.0.1:4201")
        let path = home.file("viewer.key").path
        try file.write(to: path)
        #expect(try mode(path) == 0o600)
        #expect(try KeyFile.read(from: path) == file)
        let overwrite = #expect(throws: DroverError.self) { try file.write(to: path) }
        #expect(overwrite?.code == .alreadyExists)

        try FileManager.default.setAttributes([.posixPermissions: 0o644], ofItemAtPath: path)
        let exposed = #expect(throws: DroverError.self) { try KeyFile.read(from: path) }
        #expect(exposed?.message.contains("chmod 600") == true)
        let missing = #expect(throws: DroverError.self) { try KeyFile.read(from: home.file("none.key").path) }
        #expect(missing?.code == .notFound)
    }

    /// The store behind the ZAP handler, with real handshakes: an issued key connects under
    /// its name; once revoked, a new connection with it is refused.
    @Test(.timeLimit(.minutes(1)))
    func theAuthenticatorAnswersFromTheStore() throws {
        let home = try TemporaryDirectory()
        let store = KeyStore(home: home.url)
        let file = try store.issue(name: "w1", role: .worker, pools: [], server: "")
        let serverKeys = try store.serverKeys(create: false)
        let context = try Context()
        let authenticator = try Authenticator(context: context, logger: Logger(label: "test")) { store.verdict(for: $0) }
        defer { authenticator.stop() }
        let router = try Socket(context: context, type: .router)
        try router.set(.curveServer, true)
        try router.set(.curveSecretKey, serverKeys.secretKey)
        try router.set(.zapDomain, "drover")
        try router.set(.zapEnforceDomain, true)
        let endpoint = try router.bind("tcp://127.0.0.1:*")

        func connect(_ id: String) throws -> Socket {
            let dealer = try Socket(context: context, type: .dealer)
            try dealer.set(.routingID, Array(id.utf8))
            try dealer.set(.curveServerKey, file.serverPublicKey)
            try dealer.set(.curvePublicKey, file.publicKey)
            try dealer.set(.curveSecretKey, file.secretKey)
            try dealer.connect(endpoint)
            return dealer
        }
        func next(within seconds: Int64) throws -> ZeroMQ.Message? {
            var poller = Poller()
            let index = poller.add(router)
            guard try poller.poll(timeout: .seconds(seconds))[index].contains(.readable) else { return nil }
            return try router.receive(wait: false)
        }

        let first = try connect("first")
        _ = try first.send(ZeroMQ.Message(strings: ["hello"]))
        #expect(try next(within: 10)?.userID == file.publicKey)
        try store.revoke(name: "w1")
        let second = try connect("second")
        _ = try second.send(ZeroMQ.Message(strings: ["hello again"]))
        #expect(try next(within: 2) == nil, "a revoked key does not connect")
    }
}
