import DroverTestSupport
import Foundation
import Testing

#if canImport(Glibc)
import Glibc
#endif

/// A scheduled deployment across a server killed with SIGKILL and started again, and across
/// updates: every scheduled time keeps exactly one run, and none is lost.
@Suite(.timeLimit(.minutes(2)))
struct ScheduleRestartTests {
    /// The deployment's runs as `flow-run ls -o json` gives them: id → scheduled time.
    func scheduledRuns(_ server: DroverServer, sourceLocation: SourceLocation = #_sourceLocation) async throws -> [String: String] {
        let runs = try JSON.array(
            try await server.output(
                "flow-run", "ls", "--deployment", "nightly", "--limit", "10000", "-o", "json", sourceLocation: sourceLocation))
        var byID: [String: String] = [:]
        var times: Set<String> = []
        for run in runs {
            let id = try #require(run["id"] as? String, sourceLocation: sourceLocation)
            let time = try #require(run["scheduled_time"] as? String, "\(run)", sourceLocation: sourceLocation)
            byID[id] = time
            #expect(times.insert(time).inserted, "two runs for \(time)", sourceLocation: sourceLocation)
        }
        return byID
    }

    @Test func aKilledServerAndAnUpdatedDeploymentNeitherDuplicateNorLoseARun() async throws {
        let home = try TemporaryDirectory()
        let first = try await DroverServer.start(home: home.url)
        defer { first.terminate() }
        try await first.succeed("work-pool", "create", "nightly-pool")
        // An interval counts back from its anchor too, so its next run is 4 to 5 minutes away:
        // none falls due during the test (which would add one at the far end), and, 17 s past
        // a minute, none falls on a whole hour, where the cron schedule's runs are.
        let minute = (Date().timeIntervalSince1970 / 60).rounded(.down) * 60
        let anchor = Date(timeIntervalSince1970: minute + 86_400 + 4 * 60 + 17)
        let formatter = ISO8601DateFormatter()
        try await first.succeed(
            "deployment", "create", "nightly", "--pool", "nightly-pool", "--command", "true", "--interval", "600",
            "--anchor-date", formatter.string(from: anchor))
        let made = try await scheduledRuns(first)
        #expect(made.count == 100, "Prefect's horizon: 100 runs")

        #expect(await first.stop(signal: SIGKILL) == .signal(SIGKILL))
        // Fresh ports: no worker needs the old ones, and a port just freed may go to another test.
        let second = try await DroverServer.start(home: home.url)
        defer { second.terminate() }
        #expect(try await scheduledRuns(second) == made, "the same runs after the restart, none made again")

        // Changing what runs replaces the future runs: the same times, new runs with the new command.
        try await second.succeed("deployment", "update", "nightly", "--command", "echo changed")
        let replaced = try await scheduledRuns(second)
        #expect(Set(replaced.values) == Set(made.values))
        #expect(Set(replaced.keys).isDisjoint(with: made.keys))
        let one = try #require(replaced.keys.first)
        #expect(try await second.output("flow-run", "inspect", one, "-o", "json").contains("echo changed"))

        // A second schedule adds its own runs; pausing and resuming it brings back the same times.
        try await second.succeed("deployment", "schedule", "create", "nightly", "--cron", "0 3 * * *", "--slug", "three")
        let both = try await scheduledRuns(second)
        #expect(both.count == 200)
        try await second.succeed("deployment", "schedule", "pause", "nightly", "three")
        #expect(try await scheduledRuns(second) == replaced)
        try await second.succeed("deployment", "schedule", "resume", "nightly", "three")
        #expect(Set(try await scheduledRuns(second).values) == Set(both.values))

        // Changing it keeps its slug and moves its future runs to the new times.
        try await second.succeed("deployment", "schedule", "update", "nightly", "three", "--cron", "0 4 * * *")
        let moved = try await scheduledRuns(second)
        #expect(moved.count == 200)
        #expect(moved.values.filter { $0.contains("T03:00:00") }.isEmpty)
        #expect(moved.values.filter { $0.contains("T04:00:00") }.count == 100)

        #expect(await second.stop() == .exit(0))
        let third = try await DroverServer.start(home: home.url)
        defer { third.terminate() }
        let kept = try await scheduledRuns(third)
        #expect(
            Set(kept.values) == Set(moved.values),
            "a clean stop keeps them too; lost \(Set(moved.values).subtracting(kept.values).sorted()), new \(Set(kept.values).subtracting(moved.values).sorted())"
        )
        #expect(await third.stop() == .exit(0))
    }
}
