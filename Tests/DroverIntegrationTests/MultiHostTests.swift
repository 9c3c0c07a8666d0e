import DroverTestSupport
import Foundation
import Testing

#if canImport(Glibc)
import Glibc
#endif

/// A fleet on four hosts: network namespaces this test makes (a server host and three worker
/// hosts on a private bridge, 10.201.0.0/24), with the real binaries. Runs land on every
/// host; what crosses the wire is captured on the bridge; and a worker host cut off for 10 s
/// loses its runs once, none twice, and comes back by itself.
///
/// Skipped where network namespaces are not allowed (not root, no iproute2).
@Suite(
    .serialized, .timeLimit(.minutes(4)),
    .enabled(if: NetworkLab.available, Comment(rawValue: NetworkLab.unavailableReason)))
struct MultiHostTests {
    @Test func aFleetOnThreeHostsRunsEverywhereAndACutHostLosesItsRunsOnce() async throws {
        let lab = try NetworkLab(tag: "mh\(getpid() % 1000)", hosts: ["server", "w1", "w2", "w3"])
        defer { lab.tearDown() }
        let home = try TemporaryDirectory()
        let serverHost = lab.host("server")
        let server = try await DroverServer.start(
            home: home.url, arguments: ["--host", serverHost.address, "--insecure", "--heartbeat-interval", "1"],
            namespace: serverHost.namespace)
        defer { server.terminate() }
        #expect(server.endpoint == "tcp://\(serverHost.address):4201")
        #expect(server.stderr.contains("listening beyond loopback without security (--insecure)"))

        // Every run writes its id and attempt to a journal when it starts (the hosts share
        // this machine's file system), and carries a marker to look for on the wire.
        let journal = home.file("journal")
        let marker = "drover-wire-marker-\(UInt32.random(in: 0...UInt32.max))"
        let start = #"echo "$DROVER_FLOW_RUN_ID $DROVER_FLOW_RUN_ATTEMPT" >> '\#(journal.path)'"#
        try await server.succeed("work-pool", "create", "fleet")
        try await server.succeed(
            "deployment", "create", "spread", "--pool", "fleet", "--command", "\(start); echo \(marker); sleep 4")
        try await server.succeed("deployment", "create", "long", "--pool", "fleet", "--command", "\(start); sleep 5")
        var workers: [DroverWorkerProcess] = []
        defer { workers.forEach { $0.terminate() } }
        for name in ["w1", "w2", "w3"] {
            workers.append(
                try await DroverWorkerProcess.start(
                    on: server, pool: "fleet", name: name, arguments: ["--limit", "2"], namespace: lab.host(name).namespace))
        }

        // Six runs of 4 s on three workers of limit 2: every host runs some (two each unless
        // the runs took more than 4 s to create).
        let pcap = home.file("fleet.pcap")
        let tcpdump = try lab.capture(into: pcap)
        defer { tcpdump.killAndReap() }
        _ = await onOwnThread { waitUntil(seconds: 10) { tcpdump.stderr.contains("listening on") } }
        var spread: [String] = []
        for _ in 0..<6 { spread.append(try await server.runDeployment("spread")) }
        var ranOn: [String: Int] = [:]
        for run in spread {
            let finished = try await server.awaitFlowRun(run, toBe: "COMPLETED")
            ranOn[finished.workerName ?? "?", default: 0] += 1
        }
        #expect(Set(ranOn.keys) == ["w1", "w2", "w3"], "\(ranOn)")
        tcpdump.send(SIGINT)
        _ = await onOwnThread { tcpdump.waitForExit(seconds: 10) }
        let captured = try Data(contentsOf: pcap)
        #expect(captured.count > 1_000, "\(tcpdump.stderr)")
        // Without security the command text crosses the network as it is.
        #expect(captured.range(of: Data(marker.utf8)) != nil, "the marker is in the clear with --insecure")

        // w2 is cut off for 10 s while each host runs two 5 s runs.
        var long: [String] = []
        for _ in 0..<6 { long.append(try await server.runDeployment("long")) }
        var onW2: Set<String> = []
        for run in long {
            if try await server.awaitFlowRun(run, toBe: "RUNNING").workerName == "w2" { onW2.insert(run) }
        }
        #expect(onW2.count == 2)
        try lab.setLink(of: lab.host("w2"), up: false)
        try await Task.sleep(for: .seconds(10))
        try lab.setLink(of: lab.host("w2"), up: true)

        for run in long {
            let finished = try await server.awaitTerminal(run, seconds: 60)
            // The server gave w2 up after 3 silent heartbeats: its runs crashed (no retries
            // here), and w2 stopped them once it heard so; the others completed.
            #expect(finished.state == (onW2.contains(run) ? "CRASHED" : "COMPLETED"), "\(finished)")
            #expect(finished.attempt == 1, "\(finished)")
        }
        // Every attempt started once, on whichever host ran it.
        let starts = try String(contentsOf: journal, encoding: .utf8).split(separator: "\n").map(String.init)
        #expect(starts.count == Set(starts).count, "an attempt started twice: \(starts)")
        let startedRuns = Set(starts.compactMap { $0.split(separator: " ").first.map { $0.lowercased() } })
        #expect(startedRuns == Set((spread + long).map { $0.lowercased() }), "a run never started: \(starts)")

        // w2 came back by itself and takes work again.
        let backDeadline = Date(timeIntervalSinceNow: 30)
        while element(named: "w2", in: try await server.workers())?["status"] as? String != "ONLINE" {
            try #require(Date() < backDeadline, "w2 did not reconnect within 30 s of its link coming back")
            try await Task.sleep(for: .milliseconds(100))
        }
        #expect(await server.stop() == .exit(0))
    }

    /// The same fleet, `--secure`: workers with keys serve, a host without a key or with a
    /// key of another server runs nothing, and nothing of a run's command crosses in the clear.
    /// The server binds every address of its host (as in a container), so workers reach the
    /// dispatch endpoint on the host they reached the control endpoint on; an admin on
    /// another host issues and revokes a worker key over the control endpoint.
    @Test func aSecureFleetAdmitsOnlyItsKeysAndSendsNothingInTheClear() async throws {
        let lab = try NetworkLab(tag: "ms\(getpid() % 1000)", hosts: ["server", "w1", "w2", "stranger"])
        defer { lab.tearDown() }
        let home = try TemporaryDirectory()
        let keys = try TemporaryDirectory()
        let serverHost = lab.host("server")
        let endpoint = "tcp://\(serverHost.address):4201"
        for (name, role) in [("admin", "admin"), ("w1", "worker"), ("w2", "worker"), ("old", "worker"), ("viewer", "viewer")] {
            let created = try await drover(
                "keys", "create", name, "--role", role, "--server", endpoint, "--output", keys.file("\(name).key").path,
                "--home", home.url.path)
            try #require(created.status == 0, "\(created)")
        }
        let elsewhere = try TemporaryDirectory()
        #expect(
            try await drover(
                "keys", "create", "w1", "--role", "worker", "--output", keys.file("foreign.key").path, "--home", elsewhere.url.path
            ).status == 0)
        // Secure beyond loopback: no --insecure needed, no warning. Its own commands reach it
        // on its host's 0.0.0.0; every other host names its address.
        let server = try await DroverServer.start(
            home: home.url, arguments: ["--host", "0.0.0.0", "--secure"], namespace: serverHost.namespace,
            clientKey: keys.file("admin.key").path)
        defer { server.terminate() }
        #expect(!server.stderr.contains("--insecure"))

        let marker = "drover-wire-marker-\(UInt32.random(in: 0...UInt32.max))"
        try await server.succeed("work-pool", "create", "fleet")
        try await server.succeed("deployment", "create", "hello", "--pool", "fleet", "--command", "echo \(marker); sleep 1")
        var workers: [DroverWorkerProcess] = []
        defer { workers.forEach { $0.terminate() } }
        for name in ["w1", "w2"] {
            workers.append(
                try await DroverWorkerProcess.start(
                    on: server, pool: "fleet", name: name,
                    arguments: ["--limit", "1", "--key", keys.file("\(name).key").path, "--server", endpoint],
                    namespace: lab.host(name).namespace))
        }
        // An admin on another host issues a worker key over the control endpoint; a worker
        // serves with it until the admin revokes it, which cuts that worker off.
        let stranger = lab.host("stranger").namespace
        let admin = ["--key", keys.file("admin.key").path, "--server", endpoint]
        let issued = try await drover(
            ["keys", "create", "late", "--role", "worker", "--pool", "fleet", "-o", keys.file("late.key").path] + admin,
            namespace: stranger)
        #expect(issued.status == 0, "\(issued)")
        let late = try await DroverWorkerProcess.start(
            on: server, pool: "fleet", name: "late", arguments: ["--key", keys.file("late.key").path, "--server", endpoint],
            namespace: stranger)
        defer { late.terminate() }
        let listed = try await drover(["keys", "ls", "-o", "json"] + admin, namespace: stranger)
        #expect(listed.status == 0 && listed.stdout.contains("\"late\"") && !listed.stdout.contains("secret"), "\(listed)")
        #expect(try await drover(["keys", "revoke", "late"] + admin, namespace: stranger).status == 0)
        try await server.awaitWorker("late", pool: "fleet", status: "OFFLINE")
        #expect(server.stderr.contains("dropped a worker whose key was revoked"))
        #expect(server.stderr.contains("issued a key") && server.stderr.contains("revoked a key"))
        // A host without a key, with a key another server issued, or with a revoked key is
        // turned away; a viewer key reads but creates nothing.
        #expect(try await drover("keys", "revoke", "old", "--home", home.url.path).status == 0)
        let viewer = ["--key", keys.file("viewer.key").path, "--server", endpoint]
        let read = try await drover(["work-pool", "ls"] + viewer, namespace: lab.host("stranger").namespace)
        #expect(read.status == 0 && read.stdout.contains("fleet"), "\(read)")
        let write = try await drover(
            ["deployment", "create", "sneaky", "--pool", "fleet", "--command", "true"] + viewer,
            namespace: lab.host("stranger").namespace)
        #expect(write.status == 1 && write.stderr.contains("viewer key"), "\(write)")
        for (key, says) in [
            ("", "accepts only secure connections"), (keys.file("foreign.key").path, "key 'w1'"),
            (keys.file("old.key").path, "refused the key 'old'"),
        ] {
            let launch = try await DroverWorkerProcess.launch(
                on: server, pool: "fleet", name: "intruder", arguments: ["--key", key, "--server", endpoint],
                namespace: lab.host("stranger").namespace)
            switch launch {
            case .started(let intruder):
                intruder.terminate()
                Issue.record("a worker with key '\(key)' was admitted")
            case .exited(_, let result):
                #expect(result.status == 1 && result.stderr.contains(says), "\(result)")
            }
        }

        let pcap = home.file("secure.pcap")
        let tcpdump = try lab.capture(into: pcap)
        defer { tcpdump.killAndReap() }
        _ = await onOwnThread { waitUntil(seconds: 10) { tcpdump.stderr.contains("listening on") } }
        var ranOn: Set<String> = []
        var runs: [String] = []
        for _ in 0..<4 { runs.append(try await server.runDeployment("hello")) }
        for run in runs { ranOn.insert(try await server.awaitFlowRun(run, toBe: "COMPLETED").workerName ?? "?") }
        #expect(ranOn == ["w1", "w2"])
        tcpdump.send(SIGINT)
        _ = await onOwnThread { tcpdump.waitForExit(seconds: 10) }
        let captured = try Data(contentsOf: pcap)
        #expect(captured.count > 1_000, "\(tcpdump.stderr)")
        #expect(captured.range(of: Data(marker.utf8)) == nil, "the command text crossed the network in the clear")
        #expect(captured.range(of: Data("fleet".utf8)) == nil, "a pool name crossed the network in the clear")
        #expect(await server.stop() == .exit(0))
    }
}

/// Polls `condition` every 10 ms until it holds or `seconds` pass (a failure guard).
@discardableResult
func waitUntil(seconds: Double, _ condition: () -> Bool) -> Bool {
    let deadline = Date(timeIntervalSinceNow: seconds)
    while !condition() {
        guard Date() < deadline else { return false }
        usleep(10_000)
    }
    return true
}
