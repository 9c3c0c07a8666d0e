import DroverTestSupport
import Foundation
import Testing

#if canImport(Glibc)
import Glibc
#endif

/// What a run's process sees and how its end is recorded: exit codes, retries, the
/// `DROVER_*` environment and job variables.
@Suite(.timeLimit(.minutes(2)))
struct FlowRunOutcomeTests {
    @Test func aNonZeroExitFailsTheRunAndRetriesRunItAgain() async throws {
        let home = try TemporaryDirectory()
        let server = try await DroverServer.start(home: home.url)
        defer { server.terminate() }
        try await server.succeed("work-pool", "create", "exits")
        try await server.succeed("deployment", "create", "three", "--pool", "exits", "--command", "exit 3")
        try await server.succeed(
            "deployment", "create", "retried", "--pool", "exits", "--command", "echo attempt $DROVER_FLOW_RUN_ATTEMPT; exit 3",
            "--retries", "1", "--retry-delay", "0")
        let worker = try await DroverWorkerProcess.start(on: server, pool: "exits", name: "w1")
        defer { worker.terminate() }

        let watched = try await server.drover("deployment", "run", "three", "--watch")
        #expect(watched.status == 1, "\(watched)")
        #expect(watched.stdout.contains("is FAILED (Failed)\nExit code: 3\n"), "\(watched)")
        let id = try #require(
            watched.stdout.split(separator: "\n").first { $0.contains("└── UUID: ") }?.split(separator: " ").last.map(String.init))
        let failed = try await server.flowRun(id)
        #expect(failed.state == "FAILED" && failed.exitCode == 3 && failed.attempt == 1, "\(failed)")

        let retried = try await server.drover("deployment", "run", "retried", "--watch")
        #expect(retried.status == 1, "\(retried)")
        let retriedID = try #require(
            retried.stdout.split(separator: "\n").first { $0.contains("└── UUID: ") }?.split(separator: " ").last.map(String.init))
        // --watch waited for the last attempt, not the first failure.
        let run = try await server.flowRun(retriedID)
        #expect(run.state == "FAILED" && run.exitCode == 3, "\(run)")
        #expect(run.attempt == 2, "\(run)")
        #expect(run.stateTypes.filter { $0 == "RUNNING" }.count == 2, "\(run)")
        let logs = try await server.flowRunLogs(retriedID)
        #expect(logs.contains(" - attempt 1\n") && logs.contains(" - attempt 2\n"), "\(logs)")

        #expect(await worker.stop(signal: SIGINT) == .exit(0), "\(worker.stderr)")
        #expect(await server.stop() == .exit(0))
    }

    @Test func theRunSeesItsIdentityParametersAndEnvironment() async throws {
        let home = try TemporaryDirectory()
        let server = try await DroverServer.start(home: home.url)
        defer { server.terminate() }
        try await server.succeed("work-pool", "create", "envs")
        try await server.succeed(
            "deployment", "create", "envy", "--pool", "envs",
            "--command",
            #"echo "id=$DROVER_FLOW_RUN_ID"; echo "name=$DROVER_FLOW_RUN_NAME"; echo "deployment=$DROVER_DEPLOYMENT_NAME"; echo "params=$DROVER_PARAMETERS"; echo "foo=$FOO""#,
            "--param", "a=1", "--param", "b=deployment", "--job-variable", #"env={"FOO":"bar"}"#)
        let worker = try await DroverWorkerProcess.start(on: server, pool: "envs", name: "w1")
        defer { worker.terminate() }

        let id = try await server.runDeployment("envy", "--param", "b=run", "--param", "c=true")
        let run = try await server.awaitFlowRun(id, toBe: "COMPLETED")
        let output = try await stdoutLines(of: id, on: server)
        #expect(output.contains("id=\(id)"), "\(output)")
        #expect(output.contains("name=\(run.name)"), "\(output)")
        #expect(output.contains("deployment=envy"), "\(output)")
        #expect(output.contains("foo=bar"), "\(output)")
        let parameters = try #require(output.first { $0.hasPrefix("params=") }?.dropFirst("params=".count), "\(output)")
        #expect(
            try JSON.canonical(String(parameters)) == #"{"a":1,"b":"run","c":true}"#,
            "the deployment's parameters merged with the run's: \(parameters)")

        // A job variable given to the run wins over the deployment's.
        let overridden = try await server.runDeployment("envy", "--job-variable", #"env={"FOO":"baz"}"#)
        _ = try await server.awaitFlowRun(overridden, toBe: "COMPLETED")
        #expect(try await stdoutLines(of: overridden, on: server).contains("foo=baz"))

        #expect(await worker.stop(signal: SIGINT) == .exit(0), "\(worker.stderr)")
        #expect(await server.stop() == .exit(0))
    }

    /// The text of the run's stdout lines, from `flow-run logs`.
    func stdoutLines(of id: String, on server: DroverServer) async throws -> [String] {
        try await server.flowRunLogs(id).split(separator: "\n").compactMap { line in
            guard line.contains(" | stdout | "), let dash = line.range(of: "' - ") else { return nil }
            return String(line[dash.upperBound...])
        }
    }
}
