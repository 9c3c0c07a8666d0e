import DroverTestSupport
import Foundation
import Testing

#if canImport(Glibc)
import Glibc
#endif

/// Bad input to the worker, deployment and flow-run commands gets a clear message and
/// exit code 1 (refused) or 2 (usage), and creates nothing.
@Suite(.timeLimit(.minutes(2)))
struct FlowRunBadInputTests {
    @Test func aWorkerForAMissingPoolIsRefusedUnlessItMayCreateIt() async throws {
        let home = try TemporaryDirectory()
        let server = try await DroverServer.start(home: home.url)
        defer { server.terminate() }

        guard case .exited(let exit, let result) = try await DroverWorkerProcess.launch(on: server, pool: "nowhere", name: "w1")
        else {
            Issue.record("a worker for a missing pool was welcomed")
            return
        }
        #expect(exit == .exit(1), "\(result)")
        #expect(
            result.stderr.contains(
                "Work pool 'nowhere' does not exist. Create it with `drover work-pool create nowhere --type process`, "
                    + "or start the worker with --create-pool-if-not-found."),
            "\(result)")
        #expect(try await server.output("work-pool", "ls", "-o", "json") == "[]\n")

        let creating = try await DroverWorkerProcess.start(
            on: server, pool: "nowhere", name: "w1", arguments: ["--create-pool-if-not-found"])
        defer { creating.terminate() }
        #expect(try await server.pool("nowhere")["type"] as? String == "process")
        #expect(await creating.stop(signal: SIGINT) == .exit(0), "\(creating.stderr)")
        #expect(await server.stop() == .exit(0))
    }

    @Test func aSecondWorkerWithTheSameNameIsRefused() async throws {
        let home = try TemporaryDirectory()
        let server = try await DroverServer.start(home: home.url)
        defer { server.terminate() }
        try await server.succeed("work-pool", "create", "pool")
        let first = try await DroverWorkerProcess.start(on: server, pool: "pool", name: "twin")
        defer { first.terminate() }

        guard case .exited(let exit, let result) = try await DroverWorkerProcess.launch(on: server, pool: "pool", name: "twin")
        else {
            Issue.record("a second worker named 'twin' was welcomed")
            return
        }
        #expect(exit == .exit(1), "\(result)")
        #expect(
            result.stderr.contains("A worker named 'twin' is already connected to work pool 'pool' (pid \(first.pid) on "),
            "\(result)")
        #expect(result.stderr.contains("Stop it, or start this one with another --name."), "\(result)")
        // The first one serves on.
        let workers = try await server.workers(pool: "pool")
        #expect(workers.count == 1 && workers.first?["status"] as? String == "ONLINE", "\(workers)")
        #expect(workers.first?["pid"] as? Int == Int(first.pid), "\(workers)")

        #expect(await first.stop(signal: SIGINT) == .exit(0), "\(first.stderr)")
        #expect(await server.stop() == .exit(0))
    }

    @Test func badDeploymentAndFlowRunCommandsAreRefusedAndCreateNothing() async throws {
        let home = try TemporaryDirectory()
        let server = try await DroverServer.start(home: home.url)
        defer { server.terminate() }
        try await server.succeed("work-pool", "create", "pool")
        try await server.succeed("deployment", "create", "taken", "--pool", "pool", "--command", "true")
        let deploymentsBefore = try await server.output("deployment", "ls", "-o", "json")

        let refusals: [(arguments: [String], status: Int32, message: String)] = [
            (["deployment", "create", "d", "--pool", "nowhere", "--command", "true"], 1, "Work pool 'nowhere' does not exist."),
            (
                ["deployment", "create", "taken", "--pool", "pool", "--command", "true"], 1,
                "Deployment 'taken' already exists. Use `drover deployment update` to change it."
            ),
            (["deployment", "create", "d", "--pool", "pool", "--command", ""], 1, "A deployment needs a command to run: give --command."),
            (
                ["deployment", "create", "d", "--pool", "pool", "--command", "true", "--param", "foo"], 2,
                "Expected KEY=VALUE for --param, got 'foo'."
            ),
            (
                ["deployment", "create", "d", "--pool", "pool", "--command", "true", "--job-variable", "bogus=1"], 1,
                "Unknown job variable 'bogus' for this work pool. Known variables: command, env, labels, name, stream_output, working_dir."
            ),
            (
                ["deployment", "create", "d", "--pool", "pool", "--queue", "nowhere", "--command", "true"], 1,
                "No work queue named 'nowhere' found in work pool 'pool'."
            ),
            (["deployment", "run", "missing"], 1, "Deployment 'missing' not found."),
            (["deployment", "run", "taken", "--param", "nokey"], 2, "Expected KEY=VALUE for --param, got 'nokey'."),
            (["flow-run", "inspect", "not-a-uuid"], 1, "'not-a-uuid' is not a flow run id (a UUID)."),
            (["flow-run", "cancel", "not-a-uuid"], 1, "'not-a-uuid' is not a flow run id (a UUID)."),
            (["flow-run", "logs", "not-a-uuid"], 1, "'not-a-uuid' is not a flow run id (a UUID)."),
            (
                ["flow-run", "inspect", "01a2250f-b2c3-7496-9d36-32c37fd1c60f"], 1,
                "Flow run '01a2250f-b2c3-7496-9d36-32c37fd1c60f' not found."
            ),
        ]
        for refusal in refusals {
            let result = try await server.drover(refusal.arguments)
            #expect(result.status == refusal.status, "\(result)")
            #expect(result.stderr.contains(refusal.message), "expected \(refusal.message)\n\(result)")
        }
        #expect(try await server.output("deployment", "ls", "-o", "json") == deploymentsBefore, "no deployment was created or changed")
        #expect(try await server.output("flow-run", "ls", "-o", "json") == "[]\n", "no flow run was created")
        #expect(await server.stop() == .exit(0))
    }

    @Test func aCompletedRunCannotBeCancelled() async throws {
        let home = try TemporaryDirectory()
        let server = try await DroverServer.start(home: home.url)
        defer { server.terminate() }
        try await server.succeed("work-pool", "create", "pool")
        try await server.succeed("deployment", "create", "done", "--pool", "pool", "--command", "true")
        let worker = try await DroverWorkerProcess.start(on: server, pool: "pool", name: "w1")
        defer { worker.terminate() }
        let id = try await server.runDeployment("done")
        let run = try await server.awaitFlowRun(id, toBe: "COMPLETED")

        let cancel = try await server.drover("flow-run", "cancel", id)
        #expect(cancel.status == 1, "\(cancel)")
        #expect(cancel.stderr.contains("Flow run '\(run.name)' is already COMPLETED; nothing to cancel."), "\(cancel)")
        #expect(try await server.flowRun(id).stateTypes == run.stateTypes, "the run did not change")

        #expect(await worker.stop(signal: SIGINT) == .exit(0), "\(worker.stderr)")
        #expect(await server.stop() == .exit(0))
    }
}
