import DroverTestSupport
import Foundation
import Testing

/// `drover bench`: a run to the end against its own server, and against one given with --server.
@Suite(.timeLimit(.minutes(2)))
struct BenchCommandTests {
    @Test func benchesItsOwnServerAndReportsEveryRun() async throws {
        let result = try await drover("bench", "--workers", "3", "--limit", "2", "--runs", "40", "-o", "json")
        #expect(result.status == 0, "\(result)")
        let report = try JSON.object(result.stdout)
        #expect(report["finished"] as? Int == 40, "\(report)")
        let dispatch = try #require(report["dispatchLatency"] as? [String: Any])
        #expect(dispatch["count"] as? Int == 40)
        #expect((dispatch["p50"] as? Int ?? 0) <= (dispatch["max"] as? Int ?? -1))
        let server = try #require(report["server"] as? [String: Any], "its own server's usage: \(report)")
        #expect((server["peakResidentBytes"] as? Int ?? 0) > 0)
    }

    @Test func benchesAGivenServerAndLeavesNothingBehind() async throws {
        let home = try TemporaryDirectory()
        let server = try await DroverServer.start(home: home.url)
        defer { server.terminate() }
        let result = try await drover("bench", "--server", server.endpoint, "--workers", "2", "--runs", "20", "--run-duration", "0.01")
        #expect(result.status == 0, "\(result)")
        #expect(result.stdout.contains("20 of 20 runs finished by 2 simulated workers"), "\(result)")
        #expect(result.stdout.contains("dispatch latency"))
        // Its pool and deployment are gone again.
        #expect(try await server.output("work-pool", "ls").contains("No work pools found."))
        #expect(await server.stop() == .exit(0))
    }

    @Test func aFleetLargerThanOneProcessSpreadsOverChildProcesses() async throws {
        let result = try await drover(
            "bench", "--workers", "1003", "--limit", "1", "--runs", "30", "--idle", "0.2", "-o", "json")
        #expect(result.status == 0, "\(result)")
        let report = try JSON.object(result.stdout)
        #expect(report["workers"] as? Int == 1003, "\(report)")
        #expect(report["finished"] as? Int == 30, "\(report)")
        let dispatch = try #require(report["dispatchLatency"] as? [String: Any])
        #expect(dispatch["count"] as? Int == 30, "every run measured once, whichever process ran it: \(report)")
        #expect(report["serverIdle"] is [String: Any], "the server's usage after the idle time: \(report)")
    }

    @Test func runsStartRealProcessesMeasuredAgainstTheMachinesOwnRate() async throws {
        let result = try await drover("bench", "--workers", "2", "--limit", "2", "--runs", "20", "--process", "true", "-o", "json")
        #expect(result.status == 0, "\(result)")
        let report = try JSON.object(result.stdout)
        #expect(report["finished"] as? Int == 20, "\(report)")
        #expect(report["process"] as? [String] == ["true"], "\(report)")
        let raw = try #require(report["rawSpawn"] as? [String: Any], "\(report)")
        #expect(raw["count"] as? Int == 20)
        #expect(raw["failures"] as? Int == 0)
        #expect(raw["concurrency"] as? Int == 4)
    }

    @Test func badArgumentsAreUsageErrors() async throws {
        for arguments in [
            ["--workers", "0"], ["--workers", "20001"], ["--process", " "], ["--idle", "-1"], ["--runs", "0"], ["--rate", "-1"],
            ["--run-duration", "-2"],
            ["--relaxed-durability", "--server", "tcp://127.0.0.1:1"],
        ] {
            let result = try await drover(["bench"] + arguments)
            #expect(result.status == 2, "\(result)")
        }
    }
}
