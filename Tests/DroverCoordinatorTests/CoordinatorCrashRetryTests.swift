import DroverCore
import DroverProto
import DroverTestSupport
import Foundation
import Testing

@testable import DroverCoordinator

/// A run whose worker was lost after it started: retried at once as the next attempt while
/// it has retries left (the lost attempt fenced), unless its deployment says never.
@Suite struct CoordinatorCrashRetryTests {
    /// w1 starts the run and goes silent; w2 is there to take it.
    func lostRun(retries: UInt32, retryCrashed: Bool = true) throws -> (CoordinatorHarness, Drover_V1_FlowRun, [Outgoing]) {
        var h = try CoordinatorHarness()
        h.createPool()
        h.createDeployment(retries: retries, retryDelaySeconds: 600, retryCrashed: retryCrashed)
        try h.hello("w1", limit: 1)
        let run = h.runDeployment()
        #expect(assignments(try h.takeOutbox()).map(\.worker) == ["w1"])
        try h.started("w1", run.id, attempt: 1)
        try h.hello("w2", limit: 1)
        try h.advance(by: 5)
        try h.heartbeat("w2")
        let lost = try h.advance(by: 1)
        return (h, run, lost)
    }

    @Test func aLostRunWithRetriesLeftGoesToAnotherWorkerAtOnceAsTheNextAttempt() throws {
        var (h, run, lost) = try lostRun(retries: 2)
        #expect(assignments(lost).map { "\($0.worker)#\($0.attempt)" } == ["w2#2"], "no retry delay for a lost worker")
        let retried = h.flowRun(run.id)
        #expect(retried.historyTypes == [.scheduled, .pending, .running, .scheduled, .pending], "\(retried)")
        #expect(retried.stateHistory[3].name == "AwaitingRetry")
        #expect(retried.stateHistory[3].message.contains("Retry 1 of 2 at once"), "\(retried.stateHistory[3].message)")

        // The lost attempt is fenced: w1, back, cannot finish it.
        try h.hello(
            "w1", limit: 1,
            activeRuns: [
                .with {
                    $0.runID = run.id; $0.attempt = 1; $0.started = true
                }
            ])
        try h.finished("w1", run.id, attempt: 1, .runCompleted, exitCode: 0)
        #expect(h.flowRun(run.id).stateType == .pending)
        try h.started("w2", run.id, attempt: 2)
        try h.finished("w2", run.id, attempt: 2, .runCompleted, exitCode: 0)
        let done = h.flowRun(run.id)
        #expect(done.stateType == .completed && done.attempt == 2 && done.workerName == "w2")
    }

    @Test func aLostRetryCountsAgainstTheRetriesLikeAFailure() throws {
        var (h, run, _) = try lostRun(retries: 1)
        try h.started("w2", run.id, attempt: 2)
        // w2 is lost too: the one retry is spent.
        try h.hello("w3", limit: 1)
        try h.advance(by: 5)
        try h.heartbeat("w3")
        let lost = try h.advance(by: 1)
        #expect(assignments(lost).isEmpty)
        let crashed = h.flowRun(run.id)
        #expect(crashed.stateType == .crashed, "\(crashed)")
    }

    @Test func withoutRetriesOrWithRetryCrashedOffALostRunCrashes() throws {
        for (retries, retryCrashed) in [(UInt32(0), true), (UInt32(3), false)] {
            var (h, run, lost) = try lostRun(retries: retries, retryCrashed: retryCrashed)
            #expect(assignments(lost).isEmpty)
            let crashed = h.flowRun(run.id)
            #expect(crashed.stateType == .crashed, "retries \(retries), retry crashed \(retryCrashed): \(crashed)")
        }
    }
}
