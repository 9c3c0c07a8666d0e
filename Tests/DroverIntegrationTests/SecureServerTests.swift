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
        switch try await DroverWorkerProcess.launch(on: server, pool: "cpu", name: "cpu-1", arguments: gpuHost + ["--create-pool-if-not-found"]) {
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

    /// Waits until the worker named `name` is no longer ONLINE (a failure guard of 20 s).
    private func awaitOffline(_ name: String, on server: DroverServer) async throws {
        let deadline = Date(timeIntervalSinceNow: 20)
        while element(named: name, in: try await server.workers())?["status"] as? String == "ONLINE" {
            try #require(Date() < deadline, "worker \(name) was still online 20 s after its key was revoked")
            try await Task.sleep(for: .milliseconds(100))
        }
    }
}
