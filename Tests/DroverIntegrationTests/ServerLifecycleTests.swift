import DroverTestSupport
import Foundation
import Testing

#if canImport(Glibc)
import Glibc
#endif

/// `drover server start` as a process: readiness, signals, restarts on the same home,
/// refusals, and what clients do when no server answers.
@Suite(.timeLimit(.minutes(2)))
struct ServerLifecycleTests {
    @Test func stateSurvivesARestart() async throws {
        let home = try TemporaryDirectory()
        let first = try await DroverServer.start(home: home.url)
        defer { first.terminate() }

        let template = home.file("template.json")
        try Data(#"{"job_configuration": {"cmd": "{{ command }}"}, "variables": {"properties": {"command": {"type": "string"}}}}"#.utf8)
            .write(to: template)
        for arguments in [
            ["work-pool", "create", "alpha", "--description", "Alpha pool", "--concurrency-limit", "4"],
            ["work-pool", "create", "beta", "--paused", "--base-job-template", template.path],
            ["work-pool", "create", "gamma"],
            ["work-pool", "set-concurrency-limit", "gamma", "0"],
            ["work-pool", "update", "alpha", "--description", "Alpha pool, updated"],
            ["work-queue", "create", "fast", "--pool", "alpha", "--priority", "1", "--limit", "2"],
            ["work-queue", "create", "slow", "--pool", "alpha", "--description", "Slow lane"],
            ["work-queue", "pause", "slow", "--pool", "alpha"],
            ["work-queue", "create", "other", "--pool", "beta", "--limit", "3"],
            ["work-queue", "clear-concurrency-limit", "other", "--pool", "beta"],
        ] {
            let result = try await first.drover(arguments)
            try #require(result.status == 0, "\(result)")
        }
        let snapshot = try await first.snapshot()
        let poolText = try await first.output("work-pool", "inspect", "alpha")
        let queueText = try await first.output("work-queue", "inspect", "slow", "--pool", "alpha")
        let table = try await first.output("work-pool", "ls")

        #expect(await first.stop(signal: SIGTERM) == .exit(0))

        let second = try await DroverServer.start(home: home.url)
        defer { second.terminate() }
        #expect(try await second.snapshot() == snapshot, "pools and queues, ids and timestamps, survive a restart")
        #expect(try await second.output("work-pool", "inspect", "alpha") == poolText)
        #expect(try await second.output("work-queue", "inspect", "slow", "--pool", "alpha") == queueText)
        #expect(try await second.output("work-pool", "ls") == table)
        // And the restarted server keeps working on that state.
        let create = try await second.drover("work-pool", "create", "alpha")
        #expect(create.status == 1 && create.stderr.contains("Work pool named 'alpha' already exists."), "\(create)")
        #expect(await second.stop() == .exit(0))
    }

    @Test func sigintStopsTheServerWithExitZero() async throws {
        let home = try TemporaryDirectory()
        let server = try await DroverServer.start(home: home.url)
        defer { server.terminate() }
        #expect(
            server.listeningLine.hasPrefix(
                "Drover server listening on \(server.endpoint) (home \(home.path)); workers connect to tcp://127.0.0.1:"))
        #expect(server.endpoint.hasPrefix("tcp://127.0.0.1:") && server.port > 0)

        // `server status` reports who answers.
        let status = try await server.drover("server", "status")
        #expect(status.status == 0, "\(status)")
        #expect(status.stdout.contains("(protocol 1), pid \(server.pid)\n"), "\(status)")
        #expect(status.stdout.contains("  Home:    \(home.path)\n"), "\(status)")
        #expect(status.stdout.contains("  Control: \(server.endpoint)"), "\(status)")
        let info = try JSON.object(try await server.output("server", "status", "-o", "json"))
        #expect(info["home"] as? String == home.path)
        #expect(info["pid"] as? Int == Int(server.pid))
        #expect(info["protocol_version"] as? Int == 1)
        #expect((info["endpoints"] as? [String: String])?["control"] == server.endpoint)

        #expect(try await server.drover("work-pool", "create", "kept").status == 0)
        #expect(await server.stop(signal: SIGINT) == .exit(0))

        // It let go of the home: a new server starts there and has the pool.
        let again = try await DroverServer.start(home: home.url)
        defer { again.terminate() }
        #expect(try await again.drover("work-pool", "inspect", "kept").status == 0)
        #expect(await again.stop(signal: SIGINT) == .exit(0))
    }

    @Test func aSecondServerOnTheSameHomeIsRefused() async throws {
        let home = try TemporaryDirectory()
        let server = try await DroverServer.start(home: home.url)
        defer { server.terminate() }
        #expect(try await server.drover("work-pool", "create", "mine").status == 0)
        let before = try await server.snapshot()

        switch try await DroverServer.launch(home: home.url) {
        case .ready(let intruder):
            intruder.terminate()
            Issue.record("a second server started on \(home.path)")
        case .exited(let exit, let result):
            #expect(exit == .exit(1), "\(result)")
            #expect(
                result.stderr.contains(
                    "Another Drover server (pid \(server.pid)) is already using DROVER_HOME \(home.path). "
                        + "Stop it first, or give this one another --home."),
                "\(result)")
            #expect(!result.stdout.contains("listening"), "\(result)")
        }

        // The first one serves on, with its state intact.
        #expect(try await server.snapshot() == before)
        #expect(await server.stop() == .exit(0))
    }

    @Test func aServerOnABusyPortIsRefused() async throws {
        let home = try TemporaryDirectory()
        let otherHome = try TemporaryDirectory()
        let server = try await DroverServer.start(home: home.url)
        defer { server.terminate() }

        switch try await DroverServer.launch(
            home: otherHome.url, arguments: ["--control-port", "\(server.port)", "--dispatch-port", "0", "--limits-port", "0"])
        {
        case .ready(let intruder):
            intruder.terminate()
            Issue.record("a second server bound the busy port \(server.port)")
        case .exited(let exit, let result):
            #expect(exit == .exit(1), "\(result)")
            #expect(
                result.stderr.contains(
                    "Could not bind tcp://127.0.0.1:\(server.port): the address is already in use. "
                        + "Is another Drover server running? Stop it, or pick another port with --control-port."),
                "\(result)")
        }
        #expect(try await server.drover("work-pool", "ls").status == 0, "the first server still serves")
        #expect(await server.stop() == .exit(0))
    }

    /// Beyond loopback without security, neither daemon starts: it exits 1 before it binds
    /// anything, saying what to do. (`--insecure` beyond loopback is checked in network
    /// namespaces, never on this machine's own interfaces.)
    @Test(arguments: [["server", "start"], ["limit-service", "start"]])
    func aDaemonBeyondLoopbackWithoutSecurityIsRefused(command: [String]) async throws {
        let home = try TemporaryDirectory()
        for host in ["0.0.0.0", "::"] {
            let result = try await drover(command + ["--host", host, "--home", home.url.path])
            #expect(result.status == 1, "\(result)")
            #expect(result.stderr.hasPrefix("Refusing to start the "), "\(result)")
            #expect(result.stderr.contains("on \(host) without security") && result.stderr.contains("--insecure"), "\(result)")
        }
        let viaEnvironment = try await drover(command + ["--home", home.url.path], env: ["DROVER_SERVER_HOST": "0.0.0.0"])
        #expect(viaEnvironment.status == 1 && viaEnvironment.stderr.contains("without security"), "\(viaEnvironment)")
    }

    @Test func withoutAServerCommandsSayWhereTheyLookedAndHowToStartOne() async throws {
        let home = try TemporaryDirectory()
        // A port that was just a server's and is now bound by nothing.
        let server = try await DroverServer.start(home: home.url)
        defer { server.terminate() }
        let endpoint = server.endpoint
        #expect(await server.stop() == .exit(0))

        let env = ["DROVER_HOME": home.path, "DROVER_SERVER": endpoint, "DROVER_CLIENT_TIMEOUT": "1"]
        async let list = drover("work-pool", "ls", env: env)
        async let create = drover("work-pool", "create", "never", env: env)
        async let queues = drover("work-queue", "ls", "--pool", "never", env: env)
        async let status = drover("server", "status", env: env)
        let expected = """
            Could not reach a Drover server at \(endpoint): no answer within 1 s.
            Start one with `drover server start`, or point this command at yours with --server or DROVER_SERVER.

            """
        for result in try await [list, create, queues, status] {
            #expect(result.status == 1, "\(result)")
            #expect(result.stderr == expected, "\(result)")
            #expect(result.stdout.isEmpty, "\(result)")
        }
    }

    @Test func aFractionalTimeoutIsReportedAsGiven() async throws {
        let home = try TemporaryDirectory()
        let server = try await DroverServer.start(home: home.url)
        defer { server.terminate() }
        let endpoint = server.endpoint
        #expect(await server.stop() == .exit(0))

        let result = try await drover(
            "work-pool", "ls", env: ["DROVER_HOME": home.path, "DROVER_SERVER": endpoint, "DROVER_CLIENT_TIMEOUT": "0.5"])
        #expect(result.status == 1, "\(result)")
        #expect(result.stderr.contains("no answer within 0.5 s."), "\(result)")
    }
}
