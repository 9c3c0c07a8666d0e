import DroverTestSupport
import Foundation
import Testing

#if canImport(Glibc)
import Glibc
#endif

/// The scenario that found the restart storm (issue 12), against the real binaries: two
/// pools with a limit of 1, one worker each with `--limit 1`, 12 short runs submitted as
/// fast as the CLI goes, and the server killed with SIGKILL while they run and started
/// again at once on the same home and ports.
///
/// Before the session protocol became a state machine, every "say Hello again" drew a new
/// Hello and every Welcome a replay of old reports, each drawing more: thousands of
/// "worker connected" lines, a run at attempt 1,249, and two processes at once on a worker
/// with `--limit 1`. Now every run completes once, under attempt 1, each worker says Hello
/// once to the new server, and no pool ever runs two processes at once (read from what the
/// runs' own processes wrote).
@Suite(.timeLimit(.minutes(3)))
struct RestartStormTests {
    @Test func aServerKilledWithShortRunsInFlightRestartsCalmly() async throws {
        let home = try TemporaryDirectory()
        let journal = home.file("journal")
        let first = try await DroverServer.start(home: home.url)
        defer { first.terminate() }
        // Each run's process writes its start and end, so the test knows what really ran when.
        let command =
            #"echo "$DROVER_DEPLOYMENT_NAME $DROVER_FLOW_RUN_ID $DROVER_FLOW_RUN_ATTEMPT start $(date +%s%N)" >> "#
            + "'\(journal.path)'; sleep 0.3; "
            + #"echo "$DROVER_DEPLOYMENT_NAME $DROVER_FLOW_RUN_ID $DROVER_FLOW_RUN_ATTEMPT end $(date +%s%N)" >> "#
            + "'\(journal.path)'"
        for user in ["userC", "userD"] {
            try await first.succeed("work-pool", "create", "\(user)-pool", "--type", "process")
            try await first.succeed("work-pool", "set-concurrency-limit", "\(user)-pool", "1")
            try await first.succeed("deployment", "create", "\(user)-job", "--pool", "\(user)-pool", "--command", command)
        }
        let workers = [
            try await DroverWorkerProcess.start(on: first, pool: "userC-pool", name: "userC-worker", arguments: ["--limit", "1"]),
            try await DroverWorkerProcess.start(on: first, pool: "userD-pool", name: "userD-worker", arguments: ["--limit", "1"]),
        ]
        defer { for worker in workers { worker.terminate() } }

        var ids: [String] = []
        for _ in 0..<6 {
            ids.append(try await first.runDeployment("userC-job"))
            ids.append(try await first.runDeployment("userD-job"))
        }
        // Kill it with runs in flight: once the third run of a pool is under way, the first
        // two have ended and their reports are on their way or just applied.
        _ = try await first.awaitFlowRun(ids[4], "started") { $0.state == "RUNNING" || $0.isTerminal }
        #expect(await first.stop(signal: SIGKILL) == .signal(SIGKILL))

        let second = try await DroverServer.start(
            home: home.url,
            arguments: ["--control-port", "\(first.port)", "--dispatch-port", "\(first.dispatchPort)", "--limits-port", "0"])
        defer { second.terminate() }

        for id in ids {
            let run = try await second.awaitTerminal(id)
            #expect(run.state == "COMPLETED" && run.attempt == 1, "\(run)")
        }
        let connected = second.stderr.components(separatedBy: "worker connected").count - 1
        #expect(connected >= 2 && connected < 10, "each worker said Hello about once: \(connected) times")
        #expect(!second.stderr.contains("stale report"), "\(second.stderr)")

        // What the processes wrote: each attempt started once, and a pool never ran two at once.
        let lines = try String(contentsOf: journal, encoding: .utf8).split(separator: "\n").map { $0.split(separator: " ") }
        var starts: [String: [(start: Int, end: Int)]] = [:]
        var open: [String: Int] = [:]
        for line in lines where line.count == 5 {
            let key = "\(line[1])#\(line[2])"
            if line[3] == "start" {
                #expect(open[key] == nil, "\(key) started again while it ran")
                open[key] = Int(line[4])
            } else if let began = open.removeValue(forKey: key) {
                starts[String(line[0]), default: []].append((began, Int(line[4]) ?? began))
            }
        }
        #expect(Set(lines.filter { $0.count == 5 && $0[3] == "start" }.map { "\($0[1])#\($0[2])" }).count == 12)
        #expect(lines.filter { $0.count == 5 && $0[3] == "start" }.count == 12, "12 processes in all: \(lines)")
        for (deployment, intervals) in starts {
            let sorted = intervals.sorted { $0.start < $1.start }
            for (earlier, later) in zip(sorted, sorted.dropFirst()) {
                #expect(later.start >= earlier.end, "two runs of \(deployment) at once: \(sorted)")
            }
        }

        // And the server answers as usual.
        let list = try await second.drover("work-pool", "ls")
        #expect(list.status == 0, "\(list)")
        for worker in workers { #expect(await worker.stop(signal: SIGINT) == .exit(0), "\(worker.stderr)") }
        #expect(await second.stop() == .exit(0))
    }
}
