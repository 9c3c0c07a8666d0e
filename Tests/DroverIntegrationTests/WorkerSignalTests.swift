import DroverTestSupport
import Foundation
import Testing

#if canImport(Glibc)
import Glibc
#endif

/// `drover worker start` and stop signals: the first SIGINT drains (no new runs, running
/// ones finish, exit 0), even for a worker that began with SIGINT ignored; a second one
/// terminates the running runs, which end CANCELLED.
@Suite(.timeLimit(.minutes(2)))
struct WorkerSignalTests {
    /// A server with pool `drain` and deployments `gated` (runs until the file `gate` appears
    /// in `home`, 30 s at most), `long` (`sleep 30`) and `quick` (`true`).
    func serverWithDeployments(home: TemporaryDirectory) async throws -> DroverServer {
        let server = try await DroverServer.start(home: home.url)
        do {
            try await server.succeed("work-pool", "create", "drain")
            let gate = home.url.appendingPathComponent("gate").path
            try await server.succeed(
                "deployment", "create", "gated", "--pool", "drain", "--command",
                "for i in $(seq 600); do [ -e '\(gate)' ] && exit 0; sleep 0.05; done; exit 1")
            try await server.succeed("deployment", "create", "long", "--pool", "drain", "--command", "sleep 30")
            try await server.succeed("deployment", "create", "quick", "--pool", "drain", "--command", "true")
        } catch {
            server.terminate()
            throw error
        }
        return server
    }

    @Test func spawningThroughATrapStartsTheWorkerWithSIGINTIgnored() async throws {
        // The same shell line the worker is launched through, showing its signal mask.
        let child = try ChildProcess(
            executable: URL(fileURLWithPath: "/bin/sh"),
            arguments: ["-c", #"trap "" INT; exec "$0" "$@""#, "/bin/grep", "^SigIgn:", "/proc/self/status"],
            environment: DroverBinary.baseEnvironment())
        defer { child.killAndReap() }
        #expect(await onOwnThread { child.waitForExit(seconds: 10) })
        await onOwnThread { child.finishReading() }
        let field = child.stdout.split(separator: "\t").last?.trimmingCharacters(in: .whitespacesAndNewlines) ?? ""
        let mask = try #require(UInt64(field, radix: 16), "\(child.stdout)")
        #expect(mask & (1 << (UInt64(SIGINT) - 1)) != 0, "SIGINT should be ignored: \(child.stdout)")
    }

    @Test(arguments: [false, true])
    func firstSIGINTDrainsTheWorker(startedWithSIGINTIgnored: Bool) async throws {
        let home = try TemporaryDirectory()
        let server = try await serverWithDeployments(home: home)
        defer { server.terminate() }
        let worker = try await DroverWorkerProcess.start(
            on: server, pool: "drain", name: "w1", arguments: ["--limit", "1"], ignoringSIGINT: startedWithSIGINTIgnored)
        defer { worker.terminate() }

        let running = try await server.runDeployment("gated")
        _ = try await server.awaitFlowRun(running, toBe: "RUNNING")
        worker.send(SIGINT)
        try #require(await worker.awaitLine(containing: "Received a stop signal: taking no new flow runs, waiting for 1 running."))

        // Submitted after the signal: the draining worker does not take it.
        let later = try await server.runDeployment("quick")
        #expect(try await server.flowRun(later).state == "SCHEDULED")
        // Only now may the running run end.
        #expect(FileManager.default.createFile(atPath: home.url.appendingPathComponent("gate").path, contents: nil))

        let finished = try await server.awaitFlowRun(running, toBe: "COMPLETED")
        #expect(finished.exitCode == 0)
        #expect(await worker.awaitExit() == .exit(0), "\(worker.stderr)")
        #expect(worker.stdout.contains("Worker 'w1' stopped!\n"), "\(worker.stdout)")

        // The worker is gone and never touched the later run.
        let untouched = try await server.flowRun(later)
        #expect(untouched.state == "SCHEDULED", "\(untouched)")
        #expect(untouched.stateTypes == ["SCHEDULED"], "\(untouched)")
        #expect(!worker.stdout.contains(later), "\(worker.stdout)")
        #expect(await server.stop() == .exit(0))
    }

    @Test func secondSIGINTTerminatesTheRunningRun() async throws {
        let home = try TemporaryDirectory()
        let server = try await serverWithDeployments(home: home)
        defer { server.terminate() }
        let worker = try await DroverWorkerProcess.start(on: server, pool: "drain", name: "w1", arguments: ["--limit", "1"])
        defer { worker.terminate() }

        let id = try await server.runDeployment("long")
        let running = try await server.awaitFlowRun(id, toBe: "RUNNING")
        let group = try #require(running.startedPID, "\(running)")
        defer { ProcessGroup.kill(group) }

        worker.send(SIGINT)
        try #require(await worker.awaitLine(containing: "Received a stop signal"))
        worker.send(SIGINT)
        try #require(await worker.awaitLine(containing: "Received a second stop signal: terminating 1 running flow runs."))

        let cancelled = try await server.awaitFlowRun(id, toBe: "CANCELLED")
        #expect(
            cancelled.history.last?.message.hasPrefix("Terminated: the worker was stopped with a second signal.") == true, "\(cancelled)")
        let exit = await worker.awaitExit()
        #expect(exit == .exit(0), "\(worker.stdout)\n\(worker.stderr)")
        #expect(worker.stdout.contains("Worker 'w1' stopped!\n"), "\(worker.stdout)")
        #expect(await ProcessGroup.awaitEmpty(group, seconds: 10), "the run's `sleep 30` outlived the worker")
        #expect(await server.stop() == .exit(0))
    }
}
