import DroverTestSupport
import Foundation
import Testing

/// `drover server start --secure` with keys from `drover keys create`, on loopback: each key
/// does what its role allows, a client without a key or with a revoked one is told so, and
/// no secret reaches the log.
@Suite(.timeLimit(.minutes(3)))
struct SecureServerTests {
    /// A refused client learns it within its timeout; keep that short.
    static let quick = ["DROVER_CLIENT_TIMEOUT": "2"]
    static let keyless = ["DROVER_CLIENT_TIMEOUT": "2", "DROVER_KEY": ""]

    @Test func aSecureServerAdmitsItsKeysEachToItsRole() async throws {
        let home = try TemporaryDirectory()
        let keys = try TemporaryDirectory()
        for (name, role, pools) in [("admin", "admin", []), ("viewer", "viewer", []), ("gpu-host", "worker", ["gpu"])] {
            let created = try await drover(
                ["keys", "create", name, "--role", role, "--output", keys.file("\(name).key").path, "--home", home.url.path]
                    + pools.flatMap { ["--pool", $0] })
            #expect(created.status == 0, "\(created)")
        }
        let listed = try await drover("keys", "ls", "--home", home.url.path)
        #expect(listed.stdout.contains("gpu-host") && listed.stdout.contains("active"), "\(listed)")

        let server = try await DroverServer.start(
            home: home.url, arguments: ["--control-port", "0", "--dispatch-port", "0", "--limits-port", "0", "--secure"],
            clientKey: keys.file("admin.key").path)
        defer { server.terminate() }
        let admin = ["--key", keys.file("admin.key").path]
        let viewer = ["--key", keys.file("viewer.key").path]
        let gpuHost = ["--key", keys.file("gpu-host.key").path]

        let keyless = try await server.drover(["work-pool", "ls"], env: Self.keyless)
        #expect(keyless.status == 1 && keyless.stderr.contains("accepts only secure connections"), "\(keyless)")

        #expect(try await server.drover(["work-pool", "create", "gpu"] + admin).status == 0)
        #expect(try await server.drover(["deployment", "create", "hello", "--pool", "gpu", "--command", "echo hi"] + admin).status == 0)
        let read = try await server.drover(["work-pool", "ls"] + viewer)
        #expect(read.status == 0 && read.stdout.contains("gpu"), "\(read)")
        let write = try await server.drover(["work-pool", "create", "other"] + viewer)
        #expect(write.status == 1 && write.stderr.contains("viewer key: it can read but not change anything"), "\(write)")
        let slots = try await server.drover(["concurrency-limit", "create", "db", "1"] + gpuHost)
        #expect(slots.status == 1 && slots.stderr.contains("worker key"), "\(slots)")

        // The worker key serves its pool, and only it.
        let worker = try await DroverWorkerProcess.start(on: server, pool: "gpu", name: "gpu-1", arguments: gpuHost)
        defer { worker.terminate() }
        let run = try await server.runDeployment("hello")
        _ = try await server.awaitFlowRun(run, toBe: "COMPLETED")
        switch try await DroverWorkerProcess.launch(
            on: server, pool: "cpu", name: "cpu-1", arguments: gpuHost + ["--create-pool-if-not-found"])
        {
        case .started(let intruder):
            intruder.terminate()
            Issue.record("a worker key for 'gpu' served 'cpu'")
        case .exited(_, let result):
            #expect(result.status == 1 && result.stderr.contains("serves only 'gpu'"), "\(result)")
        }

        // Revoked: refused from the next connection on, and a worker of the key is cut off.
        #expect(try await drover("keys", "revoke", "viewer", "--home", home.url.path).status == 0)
        let revoked = try await server.drover(["work-pool", "ls"] + viewer, env: Self.quick)
        #expect(revoked.status == 1 && revoked.stderr.contains("refused the key 'viewer'"), "\(revoked)")
        // Rotated: the old pair's worker is cut off, the new key file serves; revoked: that one too.
        let rotated = try await drover(
            "keys", "rotate", "gpu-host", "--output", keys.file("gpu-host-2.key").path, "--home", home.url.path)
        #expect(rotated.status == 0, "\(rotated)")
        try await awaitOffline("gpu-1", on: server)
        #expect(server.stderr.contains("dropped a worker whose key was revoked"))
        let second = try await DroverWorkerProcess.start(
            on: server, pool: "gpu", name: "gpu-2", arguments: ["--key", keys.file("gpu-host-2.key").path])
        defer { second.terminate() }
        #expect(try await drover("keys", "revoke", "gpu-host", "--home", home.url.path).status == 0)
        try await awaitOffline("gpu-2", on: server)

        #expect(server.stderr.contains("CURVE security on"))
        for name in ["admin", "viewer", "gpu-host"] {
            let file = try JSON.object(String(contentsOf: keys.file("\(name).key"), encoding: .utf8))
            let secret = try #require(file["secret_key"] as? String)
            #expect(!server.stderr.contains(secret) && !worker.stderr.contains(secret), "a secret key in a log")
        }
        #expect(await server.stop() == .exit(0))
    }

    /// A server whose key pair is a file of its own (`--server-key`, as a Kubernetes Secret),
    /// and an admin key that issues, lists, rotates and revokes keys over the control endpoint.
    @Test func anAdminKeyManagesKeysOverTheControlEndpoint() async throws {
        let home = try TemporaryDirectory()
        let keys = try TemporaryDirectory()
        let serverKey = keys.file("server-key.json").path
        let made = try await drover("keys", "server-key", "-o", serverKey)
        #expect(made.status == 0 && made.stdout.contains("public key is"), "\(made)")
        let onHost = ["DROVER_SERVER_KEY": serverKey]
        let adminKey = keys.file("admin.key").path
        let bootstrap = try await drover(
            ["keys", "create", "admin", "--role", "admin", "-o", adminKey, "--home", home.url.path], env: onHost)
        try #require(bootstrap.status == 0, "\(bootstrap)")
        let server = try await DroverServer.start(
            home: home.url,
            arguments: ["--control-port", "0", "--dispatch-port", "0", "--limits-port", "0", "--secure", "--server-key", serverKey],
            clientKey: adminKey)
        defer { server.terminate() }
        #expect(!FileManager.default.fileExists(atPath: home.file("keys/server.json").path), "the home made a key of its own")

        // `-o -`: the key file on standard output, the message on standard error.
        let issued = try await server.drover("keys", "create", "gpu-host", "--role", "worker", "--pool", "gpu", "-o", "-")
        try #require(issued.status == 0 && issued.stderr.contains("Issued worker key 'gpu-host'"), "\(issued)")
        let workerKey = keys.file("gpu-host.key").path
        #expect(
            FileManager.default.createFile(atPath: workerKey, contents: Data(issued.stdout.utf8), attributes: [.posixPermissions: 0o600]))
        let file = try JSON.object(issued.stdout)
        #expect(file["server"] as? String == server.endpoint, "the key file names the endpoint the admin reached")
        let viewerKey = keys.file("viewer.key").path
        #expect(try await server.drover("keys", "create", "viewer", "--role", "viewer", "-o", viewerKey).status == 0)

        // Only an admin manages keys, listing them too.
        let peek = try await server.drover(["keys", "ls"], env: ["DROVER_KEY": viewerKey])
        #expect(peek.status == 1 && peek.stderr.contains("only an admin key manages keys"), "\(peek)")
        let listed = try await server.drover("keys", "ls", "-o", "json")
        #expect(listed.status == 0, "\(listed)")
        #expect(try JSON.array(listed.stdout).compactMap { $0["name"] as? String } == ["admin", "gpu-host", "viewer"])
        // With no endpoint set anywhere, a client goes to the server its key file names.
        let byKeyFile = try await drover(["work-pool", "ls", "--key", viewerKey], env: ["DROVER_SERVER": ""])
        #expect(byKeyFile.status == 0 && byKeyFile.stdout.contains("No work pools"), "\(byKeyFile)")

        try await server.succeed("work-pool", "create", "gpu")
        let worker = try await DroverWorkerProcess.start(on: server, pool: "gpu", name: "gpu-1", arguments: ["--key", workerKey])
        defer { worker.terminate() }
        let rotated = try await server.drover("keys", "rotate", "viewer", "-o", keys.file("viewer-2.key").path)
        #expect(rotated.status == 0, "\(rotated)")
        let stale = try await server.drover(["work-pool", "ls"], env: Self.quick.merging(["DROVER_KEY": viewerKey]) { _, new in new })
        #expect(stale.status == 1 && stale.stderr.contains("refused the key 'viewer'"), "\(stale)")
        #expect(try await server.drover(["work-pool", "ls"], env: ["DROVER_KEY": keys.file("viewer-2.key").path]).status == 0)
        // Revoked over the control endpoint: the worker of the key is cut off at once.
        #expect(try await server.drover("keys", "revoke", "gpu-host").status == 0)
        try await server.awaitWorker("gpu-1", pool: "gpu", status: "OFFLINE")
        #expect(server.stderr.contains("issued a key") && server.stderr.contains("revoked a key"))
        let secret = try #require(file["secret_key"] as? String)
        #expect(!server.stderr.contains(secret) && !worker.stderr.contains(secret), "a secret key in a log")
        #expect(await server.stop() == .exit(0))
    }

    /// Waits until the worker named `name` is no longer ONLINE (a failure guard of 20 s).
    private func awaitOffline(_ name: String, on server: DroverServer) async throws {
        let deadline = Date(timeIntervalSinceNow: 20)
        while element(named: name, in: try await server.workers())?["status"] as? String == "ONLINE" {
            try #require(Date() < deadline, "worker \(name) was still online 20 s after its key was revoked")
            try await Task.sleep(for: .milliseconds(100))
        }
    }
}
