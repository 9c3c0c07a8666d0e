import DroverCore
import DroverWorker
import Foundation
import Testing

#if canImport(Glibc)
import Glibc
#endif

/// Stopping a run: signals to the process group, SIGTERM then SIGKILL, and no process of
/// the run outliving it.
@Suite struct ChildProcessTerminationTests {
    @Test func terminateEndsAProcessWithSIGTERM() async throws {
        let recorder = EventRecorder()
        let child = try ChildProcess.start(
            ProcessSpec(command: "sleep 30", environment: testPath), onEvent: recorder.handler)
        defer { child.signalGroup(SIGKILL) }
        // A long grace: only SIGTERM can end it within the guard.
        child.terminate(grace: .seconds(60))
        #expect(await recorder.waitForExit() == .signaled(signal: SIGTERM))
        #expect(recorder.exitedExactlyOnceAndLast)
    }

    @Test func terminateKillsAProcessThatIgnoresSIGTERMAfterTheGrace() async throws {
        let recorder = EventRecorder()
        let child = try ChildProcess.start(
            ProcessSpec(command: "trap '' TERM; echo ready; sleep 30", environment: testPath),
            onEvent: recorder.handler)
        defer { child.signalGroup(SIGKILL) }
        // Only once the trap is in place, or SIGTERM could still end the shell.
        try #require(await recorder.waitForLine(on: .stdout) { $0 == "ready" } != nil)
        child.terminate(grace: .milliseconds(200))
        #expect(await recorder.waitForExit() == .signaled(signal: SIGKILL))
        #expect(recorder.exitedExactlyOnceAndLast)
    }

    @Test func terminateLeavesNoGrandchildRunning() async throws {
        let recorder = EventRecorder()
        // The grandchild ignores SIGTERM: only the group's SIGKILL after the shell is reaped
        // ends it. A long grace keeps the SIGKILL deadline out of the picture.
        let child = try ChildProcess.start(
            ProcessSpec(
                command: "sh -c 'trap \"\" TERM; echo $$; exec sleep 30' & wait", environment: testPath),
            onEvent: recorder.handler)
        defer { child.signalGroup(SIGKILL) }
        let line = try #require(await recorder.waitForLine(on: .stdout))
        let grandchild = try #require(Int32(line))
        defer { killIfRunning(pid: grandchild) }

        child.terminate(grace: .seconds(60))
        #expect(await recorder.waitForExit() == .signaled(signal: SIGTERM))
        #expect(await waitUntilExited(pid: grandchild), "the grandchild outlived the terminated run")
    }

    @Test func normalExitLeavesNoGrandchildRunning() async throws {
        let recorder = EventRecorder()
        let child = try ChildProcess.start(
            ProcessSpec(command: "sleep 30 & echo $!", environment: testPath), onEvent: recorder.handler)
        defer { child.signalGroup(SIGKILL) }
        #expect(await recorder.waitForExit() == .exited(code: 0))
        let grandchild = try #require(recorder.texts(.stdout).first.flatMap { Int32($0) })
        defer { killIfRunning(pid: grandchild) }
        #expect(await waitUntilExited(pid: grandchild), "the grandchild outlived the finished run")
    }

    @Test func signalGroupReachesEveryProcessInTheGroup() async throws {
        let recorder = EventRecorder()
        // The outer shell runs its trap only after its foreground child ends: within the
        // guard only if the signal reached that child too. The child says "ready" itself,
        // once it runs with USR1 at its default (a signal to the shell's fork before exec
        // would be taken by the trap instead).
        let child = try ChildProcess.start(
            ProcessSpec(
                command: "trap 'echo got-usr1; exit 5' USR1; sh -c 'echo ready; exec sleep 30'",
                environment: testPath),
            onEvent: recorder.handler)
        defer { child.signalGroup(SIGKILL) }
        try #require(await recorder.waitForLine(on: .stdout) { $0 == "ready" } != nil)
        child.signalGroup(SIGUSR1)
        #expect(await recorder.waitForExit() == .exited(code: 5))
        #expect(recorder.texts(.stdout) == ["ready", "got-usr1"])
    }
}
