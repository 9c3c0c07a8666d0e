import DroverTestSupport
import Foundation
import Testing

#if canImport(Glibc)
import Glibc
#endif

/// `drover flow-run cancel`: a RUNNING run goes CANCELLING, its process group gets SIGTERM
/// and the run ends CANCELLED with nothing left running; a SCHEDULED run is cancelled at
/// once; a finished run cannot be cancelled.
@Suite(.timeLimit(.minutes(2)))
struct FlowRunCancellationTests {
    @Test func cancellingARunningSleepEndsItWithinTheGracePeriod() async throws {
        let home = try TemporaryDirectory()
        let server = try await DroverServer.start(home: home.url)
        defer { server.terminate() }
        try await server.succeed("work-pool", "create", "cancellable")
        try await server.succeed("deployment", "create", "long", "--pool", "cancellable", "--command", "sleep 30")
        let worker = try await DroverWorkerProcess.start(on: server, pool: "cancellable", name: "w1")
        defer { worker.terminate() }

        let id = try await server.runDeployment("long")
        let running = try await server.awaitFlowRun(id, toBe: "RUNNING")
        let group = try #require(running.startedPID, "\(running)")
        defer { ProcessGroup.kill(group) }
        #expect(!ProcessGroup.livingMembers(of: group).isEmpty, "the run's `sleep 30` should be running")

        let cancel = try await server.drover("flow-run", "cancel", id)
        #expect(cancel.status == 0, "\(cancel)")
        #expect(
            cancel.stdout == "Flow run '\(id)' was successfully scheduled for cancellation with status: CANCELLING\n",
            "\(cancel)")

        let cancelled = try await server.awaitFlowRun(id, toBe: "CANCELLED")
        #expect(cancelled.stateTypes == ["SCHEDULED", "PENDING", "RUNNING", "CANCELLING", "CANCELLED"], "\(cancelled)")
        // SIGTERM ended it: the SIGKILL at the end of the grace period was not needed.
        #expect(cancelled.history.last?.message == "Cancelled on request. (ended by signal \(SIGTERM))", "\(cancelled)")
        #expect(await ProcessGroup.awaitEmpty(group, seconds: 10), "the run's processes outlived its cancellation")

        // A finished run cannot be cancelled again.
        let again = try await server.drover("flow-run", "cancel", id)
        #expect(again.status == 1 && again.stderr.contains("is already CANCELLED; nothing to cancel."), "\(again)")

        #expect(await worker.stop(signal: SIGINT) == .exit(0), "\(worker.stderr)")
        #expect(await server.stop() == .exit(0))
    }

    @Test func cancellingAScheduledRunCancelsItAtOnce() async throws {
        let home = try TemporaryDirectory()
        let server = try await DroverServer.start(home: home.url)
        defer { server.terminate() }
        try await server.succeed("work-pool", "create", "idle")
        try await server.succeed("deployment", "create", "never", "--pool", "idle", "--command", "true")

        let id = try await server.runDeployment("never")
        let cancel = try await server.drover("flow-run", "cancel", id)
        #expect(cancel.status == 0 && cancel.stdout.hasSuffix("with status: CANCELLED\n"), "\(cancel)")
        #expect(try await server.flowRun(id).stateTypes == ["SCHEDULED", "CANCELLED"])
        #expect(await server.stop() == .exit(0))
    }
}
