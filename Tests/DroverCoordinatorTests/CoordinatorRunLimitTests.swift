import DroverCore
import DroverProto
import DroverStore
import DroverTestSupport
import Foundation
import Testing

@testable import DroverCoordinator

/// Runs that take concurrency slots from the limit service before they go to a worker:
/// tag limits, limits on every run, slots held by others, and what frees them.
@Suite struct CoordinatorRunLimitTests {
    // MARK: No limits

    @Test func withoutLimitsRunsGoAtOnceAsBefore() throws {
        var h = try CoordinatorHarness()
        h.createPool()
        h.createDeployment(tags: ["db"])
        try h.hello("w1", limit: 1)
        // Sent within the request itself: no round trip to the limit service.
        let run = h.runDeployment()
        #expect(run.stateType == .pending)
        #expect(h.coordinator.slots.waiting.isEmpty)
        #expect(h.coordinator.slots.holding.isEmpty)
        #expect(h.coordinator.takeLimitRequests().isEmpty)
        #expect(assignments(try h.takeOutbox()).map(\.run) == [run.id])
        #expect(h.flowRun(run.id).stateHistory.map(\.name) == ["Scheduled", "Pending"])

        try h.started("w1", run.id, attempt: 1)
        #expect(try h.finished("w1", run.id, attempt: 1, .runCompleted, exitCode: 0).isEmpty)
        #expect(h.flowRun(run.id).stateType == .completed)
        #expect(h.coordinator.takeLimitRequests().isEmpty)
    }

    // MARK: Tag limits

    @Test func aTagLimitOfOneLetsOneRunGoAndTheNextTheMomentItEnds() throws {
        var h = try CoordinatorHarness()
        try h.createLimit("tag:db", slots: 1)
        h.createPool()
        h.createDeployment(tags: ["db"])
        try h.hello("w1", limit: 1)
        try h.hello("w2", limit: 1)
        let first = h.runDeployment()
        let second = h.runDeployment()

        let sent = assignments(try h.takeOutbox())
        #expect(sent.map(\.run) == [first.id])
        #expect(sent.map(\.worker) == ["w1"])
        #expect(h.flowRun(first.id).stateType == .pending)
        let waiting = h.flowRun(second.id)
        #expect(waiting.stateType == .scheduled)
        #expect(waiting.stateName == "AwaitingConcurrencySlot")
        #expect(waiting.stateHistory.last?.message.contains("'tag:db'") == true)
        // w2's credit is kept for it.
        #expect(h.coordinator.slots.waiting == [try uuid(second): "w2"])

        var limit = try h.limit("tag:db")
        #expect(limit.activeSlots == 1)
        #expect(limit.waiting == 1)
        #expect(limit.leases.map(\.holder) == [try holder(first)])

        try h.started("w1", first.id, attempt: 1)
        #expect(h.flowRun(second.id).stateType == .scheduled)
        // The step that ends the first run sends the second.
        let outbox = try h.finished("w1", first.id, attempt: 1, .runCompleted, exitCode: 0)
        let next = assignments(outbox)
        #expect(next.map(\.run) == [second.id])
        #expect(next.map(\.worker) == ["w2"])
        #expect(next.map(\.attempt) == [1])
        let pending = h.flowRun(second.id)
        #expect(pending.stateType == .pending)
        #expect(pending.historyTypes == [.scheduled, .scheduled, .pending])
        #expect(h.flowRun(first.id).stateType == .completed)

        limit = try h.limit("tag:db")
        #expect(limit.activeSlots == 1)
        #expect(limit.waiting == 0)
        #expect(limit.leases.map(\.holder) == [try holder(second)])

        try h.started("w2", second.id, attempt: 1)
        try h.finished("w2", second.id, attempt: 1, .runCompleted, exitCode: 0)
        limit = try h.limit("tag:db")
        #expect(limit.activeSlots == 0)
        #expect(limit.leases.isEmpty)
        #expect(h.coordinator.slots.holding.isEmpty)
    }

    @Test func aLimitOnAllRunsAdmitsOneRunAtATimeAcrossPoolsInOrder() throws {
        var h = try CoordinatorHarness()
        try h.createLimit("server-wide", slots: 1, appliesToAllRuns: true)
        h.createPool("a")
        h.createPool("b")
        h.createDeployment("deploy-a", pool: "a")
        h.createDeployment("deploy-b", pool: "b")
        try h.hello("wa", pool: "a", limit: 2)
        try h.hello("wb", pool: "b", limit: 2)
        let runs = [
            h.runDeployment("deploy-a"), h.runDeployment("deploy-b"), h.runDeployment("deploy-b"),
            h.runDeployment("deploy-a"),
        ]
        let ids = runs.map(\.id)

        func inFlight(_ h: inout CoordinatorHarness) -> [String] {
            ids.filter { [.pending, .running].contains(h.flowRun($0).stateType) }
        }

        var order: [String] = []
        var outbox = try h.takeOutbox()
        for _ in ids {
            let sent = assignments(outbox)
            #expect(sent.count == 1)
            guard let next = sent.first else { break }
            order.append(next.run)
            #expect(inFlight(&h) == [next.run])
            #expect(try h.limit("server-wide").activeSlots == 1)
            #expect(try h.started(next.worker, next.run, attempt: 1).isEmpty)
            #expect(inFlight(&h) == [next.run])
            outbox = try h.finished(next.worker, next.run, attempt: 1, .runCompleted, exitCode: 0)
        }
        #expect(assignments(outbox).isEmpty)
        #expect(order == ids)
        #expect(ids.map { h.flowRun($0).stateType } == [.completed, .completed, .completed, .completed])
        let limit = try h.limit("server-wide")
        #expect(limit.activeSlots == 0)
        #expect(limit.waiting == 0)
    }

    // MARK: Others' slots

    @Test func aSlotHeldByAnotherClientBlocksARunUntilItIsReleased() throws {
        var h = try CoordinatorHarness()
        try h.createLimit("tag:db", slots: 1)
        let held = try h.limitCall(
            .acquire(
                .with {
                    $0.limits = ["tag:db"]; $0.slots = 1; $0.holder = "backup"; $0.leaseTtlMs = 60_000
                }),
            client: "script")
        guard case .granted? = held.first?.reply.result else {
            Issue.record("the script did not get its slot: \(String(describing: held.first?.reply))")
            return
        }
        h.createPool()
        h.createDeployment(tags: ["db"])
        try h.hello("w1", limit: 1)
        let run = h.runDeployment()
        #expect(assignments(try h.takeOutbox()).isEmpty)
        #expect(h.flowRun(run.id).stateName == "AwaitingConcurrencySlot")
        #expect(try h.limit("tag:db").waiting == 1)

        // Time alone changes nothing while the script's lease lasts.
        try h.heartbeat("w1")
        #expect(assignments(try h.advance(by: 5)).isEmpty)
        #expect(h.flowRun(run.id).stateType == .scheduled)

        try h.limitCall(.release(.with { $0.holders = ["backup"] }), client: "script")
        let sent = assignments(try h.takeOutbox())
        #expect(sent.map(\.run) == [run.id])
        #expect(sent.map(\.worker) == ["w1"])
        #expect(h.flowRun(run.id).stateType == .pending)
        #expect(try h.limit("tag:db").leases.map(\.holder) == [try holder(run)])
    }

    // MARK: Leaving the line

    enum Withdrawal: String, CaseIterable, Sendable {
        case cancel, delete
    }

    @Test(arguments: Withdrawal.allCases)
    func aWaitingRunThatIsCancelledOrDeletedWithdrawsItsRequestAndFreesItsWorker(_ withdrawal: Withdrawal) throws {
        var h = try CoordinatorHarness()
        try h.createLimit("tag:db", slots: 1)
        try holdSlot(of: "tag:db", in: &h)
        h.createPool()
        h.createDeployment("tagged", tags: ["db"])
        h.createDeployment("plain")
        try h.hello("w1", limit: 1)
        let waiting = h.runDeployment("tagged")
        #expect(assignments(try h.takeOutbox()).isEmpty)
        #expect(try h.limit("tag:db").waiting == 1)
        // w1's only credit is kept for the waiting run.
        let plain = h.runDeployment("plain")
        #expect(plain.stateType == .scheduled)
        #expect(assignments(try h.takeOutbox()).isEmpty)

        switch withdrawal {
        case .cancel:
            #expect(h.ok(.cancelFlowRun(.with { $0.id = waiting.id })).flowRun.stateType == .cancelled)
            #expect(h.flowRun(waiting.id).historyTypes == [.scheduled, .scheduled, .cancelled])
        case .delete:
            h.ok(.deleteFlowRun(.with { $0.id = waiting.id }))
            #expect(h.call(.getFlowRun(.with { $0.id = waiting.id })).errorCode == .notFound)
        }
        let sent = assignments(try h.takeOutbox())
        #expect(sent.map(\.run) == [plain.id])
        #expect(sent.map(\.worker) == ["w1"])
        #expect(h.coordinator.slots.waiting.isEmpty)
        let limit = try h.limit("tag:db")
        #expect(limit.waiting == 0)
        #expect(limit.leases.map(\.holder) == ["script"])

        // The slot freed later goes to no one.
        try h.limitCall(.release(.with { $0.holders = ["script"] }), client: "script")
        #expect(assignments(try h.takeOutbox()).isEmpty)
        #expect(try h.limit("tag:db").activeSlots == 0)
    }

    // MARK: Lost workers

    @Test func aWaitingRunWhoseWorkerIsLostGoesBackInLineWithoutItsRequest() throws {
        var h = try CoordinatorHarness()
        try h.createLimit("tag:db", slots: 1)
        try holdSlot(of: "tag:db", in: &h)
        h.createPool()
        h.createDeployment(tags: ["db"])
        try h.hello("w1", limit: 1)
        let run = h.runDeployment()
        #expect(assignments(try h.takeOutbox()).isEmpty)
        #expect(h.coordinator.slots.waiting == [try uuid(run): "w1"])

        // w1 last spoke at 0: three heartbeat intervals (3 × 2 s) later it is lost.
        #expect(assignments(try h.advance(by: 6)).isEmpty)
        #expect(!h.coordinator.isConnected("w1"))
        #expect(h.flowRun(run.id).stateType == .scheduled)
        #expect(h.coordinator.slots.waiting.isEmpty)
        #expect(try h.limit("tag:db").waiting == 0)

        // A new worker takes it in line again, and it goes when the slot is free.
        #expect(assignments(try h.hello("w2", limit: 1)).isEmpty)
        #expect(h.coordinator.slots.waiting == [try uuid(run): "w2"])
        #expect(try h.limit("tag:db").waiting == 1)
        try h.limitCall(.release(.with { $0.holders = ["script"] }), client: "script")
        let sent = assignments(try h.takeOutbox())
        #expect(sent.map(\.run) == [run.id])
        #expect(sent.map(\.worker) == ["w2"])
        #expect(sent.map(\.attempt) == [1])
    }

    @Test func aRunningRunWhoseWorkerIsLostCrashesAndFreesItsSlot() throws {
        var h = try CoordinatorHarness()
        try h.createLimit("tag:db", slots: 1)
        h.createPool()
        h.createDeployment(tags: ["db"])
        try h.hello("w1", limit: 1)
        try h.hello("w2", limit: 1)
        let running = h.runDeployment()
        let waiting = h.runDeployment()
        #expect(assignments(try h.takeOutbox()).map(\.run) == [running.id])
        try h.started("w1", running.id, attempt: 1)

        try h.advance(by: 5)
        try h.heartbeat("w2")
        let lost = try h.advance(by: 1)
        #expect(!h.coordinator.isConnected("w1"))
        let crashed = h.flowRun(running.id)
        #expect(crashed.stateType == .crashed)
        #expect(crashed.hasEndTime)
        let sent = assignments(lost)
        #expect(sent.map(\.run) == [waiting.id])
        #expect(sent.map(\.worker) == ["w2"])
        #expect(h.flowRun(waiting.id).stateType == .pending)
        let limit = try h.limit("tag:db")
        #expect(limit.activeSlots == 1)
        #expect(limit.leases.map(\.holder) == [try holder(waiting)])
    }

    // MARK: Retries

    @Test func aFailedRunAwaitingRetryGivesUpItsSlot() throws {
        var h = try CoordinatorHarness()
        try h.createLimit("tag:db", slots: 1)
        h.createPool()
        h.createDeployment("retrying", retries: 1, retryDelaySeconds: 4, tags: ["db"])
        h.createDeployment("other", tags: ["db"])
        try h.hello("w1", limit: 1)
        try h.hello("w2", limit: 1)
        let retrying = h.runDeployment("retrying")
        let other = h.runDeployment("other")
        #expect(assignments(try h.takeOutbox()).map(\.run) == [retrying.id])
        try h.started("w1", retrying.id, attempt: 1)

        h.clock.advance(by: 1)
        let failed = try h.finished("w1", retrying.id, attempt: 1, .runFailed, exitCode: 1)
        let sent = assignments(failed)
        #expect(sent.map(\.run) == [other.id])
        #expect(sent.map(\.worker) == ["w2"])
        #expect(h.flowRun(retrying.id).stateName == "AwaitingRetry")
        #expect(try h.limit("tag:db").leases.map(\.holder) == [try holder(other)])

        // Due again, the retry waits for the slot like any run, on the free worker.
        try h.heartbeat("w1")
        try h.heartbeat("w2")
        #expect(assignments(try h.advance(by: 4)).isEmpty)
        let retry = h.flowRun(retrying.id)
        #expect(retry.stateType == .scheduled)
        #expect(retry.stateName == "AwaitingConcurrencySlot")
        #expect(h.coordinator.slots.waiting == [try uuid(retrying): "w1"])

        try h.started("w2", other.id, attempt: 1)
        let done = try h.finished("w2", other.id, attempt: 1, .runCompleted, exitCode: 0)
        let again = assignments(done)
        #expect(again.map(\.run) == [retrying.id])
        #expect(again.map(\.worker) == ["w1"])
        #expect(again.map(\.attempt) == [2])
    }

    // MARK: Restart

    @Test func afterARestartARunningRunKeepsItsSlotUnderTheSameHolder() throws {
        var before = try CoordinatorHarness()
        try before.createLimit("tag:db", slots: 1)
        before.createPool()
        before.createDeployment(tags: ["db"])
        try before.hello("w1", limit: 2)
        let running = before.runDeployment()
        #expect(assignments(try before.takeOutbox()).map(\.run) == [running.id])
        try before.started("w1", running.id, attempt: 1)
        let lease = try #require(try before.limit("tag:db").leases.first)
        #expect(lease.holder == (try holder(running)))

        var h = try before.restarted()
        #expect(try h.takeOutbox().isEmpty)
        #expect(h.coordinator.slots.holding == [try uuid(running)])
        var limit = try h.limit("tag:db")
        #expect(limit.activeSlots == 1)
        #expect(limit.leases.map(\.id) == [lease.id])
        #expect(limit.leases.map(\.holder) == [lease.holder])

        // A new run waits behind it, though its worker has credit to spare.
        let second = h.runDeployment()
        h.clock.advance(by: 1)
        let welcomed = try h.hello(
            "w1", limit: 2,
            activeRuns: [
                .with {
                    $0.runID = running.id; $0.attempt = 1; $0.started = true
                }
            ])
        #expect(kinds(welcomed) == ["w1:welcome"])
        #expect(h.flowRun(second.id).stateName == "AwaitingConcurrencySlot")
        limit = try h.limit("tag:db")
        #expect(limit.leases.map(\.id) == [lease.id])
        #expect(limit.waiting == 1)

        let outbox = try h.finished("w1", running.id, attempt: 1, .runCompleted, exitCode: 0)
        #expect(assignments(outbox).map(\.run) == [second.id])
        #expect(try h.limit("tag:db").leases.map(\.holder) == [try holder(second)])
    }

    /// A limit created while a run is in flight does not make the restarted coordinator take
    /// a second lease for it: the run renews the lease it has.
    @Test func afterARestartARunRenewsItsLeaseEvenIfItsTagsGainedALimit() throws {
        var before = try CoordinatorHarness()
        try before.createLimit("tag:db", slots: 1)
        before.createPool()
        before.createDeployment(tags: ["db", "api"])
        try before.hello("w1", limit: 2)
        let running = before.runDeployment()
        #expect(assignments(try before.takeOutbox()).map(\.run) == [running.id])
        try before.started("w1", running.id, attempt: 1)
        try before.createLimit("tag:api", slots: 1)

        var h = try before.restarted()
        #expect(try h.takeOutbox().isEmpty)
        let db = try h.limit("tag:db")
        #expect(db.activeSlots == 1)
        #expect(db.leases.map(\.holder) == [try holder(running)])
        #expect(db.waiting == 0)
        #expect(try h.limit("tag:api").waiting == 0)
    }

    // MARK: Leases

    @Test func aRunningRunsLeaseIsRenewedPastItsTTL() throws {
        var h = try CoordinatorHarness()
        try h.createLimit("tag:db", slots: 1)
        h.createPool()
        h.createDeployment(tags: ["db"])
        try h.hello("w1", limit: 1)
        let run = h.runDeployment()
        #expect(assignments(try h.takeOutbox()).map(\.run) == [run.id])
        try h.started("w1", run.id, attempt: 1)
        let lease = try #require(try h.limit("tag:db").leases.first)
        #expect(lease.expires.date == TestDates.at(30))
        // The coordinator wakes to renew, even with nothing else to do.
        #expect(h.coordinator.nextDeadline().map { $0 <= TestDates.at(10) } == true)

        // Twice the TTL, in steps of 5 s, with the worker heartbeating.
        for _ in 0..<12 {
            try h.heartbeat("w1")
            #expect(try h.advance(by: 5).isEmpty)
            #expect(h.flowRun(run.id).stateType == .running)
            let leases = try h.limit("tag:db").leases
            #expect(leases.map(\.id) == [lease.id])
            #expect(leases.first.map { $0.expires.date > h.clock.now } == true)
        }
        #expect(h.clock.now == TestDates.at(60))

        // Its slot is still taken.
        let denied = try h.limitCall(
            .acquire(
                .with {
                    $0.limits = ["tag:db"]; $0.slots = 1; $0.holder = "script"
                }), client: "script")
        guard case .denied? = denied.first?.reply.result else {
            Issue.record("another client got the running run's slot: \(String(describing: denied.first?.reply))")
            return
        }
    }

    @Test func aLeaseTheServiceLostIsTakenAgainAtTheNextRenewal() throws {
        var h = try CoordinatorHarness()
        try h.createLimit("tag:db", slots: 1)
        h.createPool()
        h.createDeployment(tags: ["db"])
        try h.hello("w1", limit: 1)
        let run = h.runDeployment()
        #expect(assignments(try h.takeOutbox()).map(\.run) == [run.id])
        try h.started("w1", run.id, attempt: 1)

        // The coordinator is stalled past the TTL: the limit service lets the lease go.
        h.clock.advance(by: 31)
        #expect(try h.tickLimits().isEmpty)
        #expect(try h.limit("tag:db").leases.isEmpty)

        try h.heartbeat("w1")
        try h.advance(by: 0)
        let leases = try h.limit("tag:db").leases
        #expect(leases.map(\.holder) == [try holder(run)])
        #expect(h.flowRun(run.id).stateType == .running)
    }

    // MARK: Limits that change

    @Test func aLimitCreatedWhileARunWaitsIsAskedForWithoutStrandingASlot() throws {
        var h = try CoordinatorHarness()
        try h.createLimit("tag:db", slots: 1)
        try holdSlot(of: "tag:db", in: &h)
        h.createPool()
        h.createDeployment(tags: ["db", "api"])
        try h.hello("w1", limit: 1)
        let run = h.runDeployment()
        #expect(assignments(try h.takeOutbox()).isEmpty)
        try h.createLimit("tag:api", slots: 1)

        // The next refresh asks for both limits, in place of the first request rather than beside it.
        for _ in 0..<2 {
            try h.heartbeat("w1")
            #expect(try h.advance(by: 5).isEmpty)
        }
        #expect(try h.limit("tag:db").waiting == 1)
        #expect(try h.limit("tag:api").waiting == 1)

        // Before the fix the first request was granted here, its lease went unused until
        // it expired, and the run went only 30 s later.
        try h.limitCall(.release(.with { $0.holders = ["script"] }), client: "script")
        let sent = assignments(try h.takeOutbox())
        #expect(sent.map(\.run) == [run.id])
        let db = try h.limit("tag:db")
        #expect(db.leases.map(\.holder) == [try holder(run)])
        #expect(db.leases.map { Set($0.limits) } == [["tag:db", "tag:api"]])
        #expect(db.waiting == 0)
        #expect(try h.limit("tag:api").activeSlots == 1)
    }

    @Test func aWorkerSayingHelloAgainWhileARunWaitsForItKeepsItsSessionAndTheRun() throws {
        var h = try CoordinatorHarness()
        try h.createLimit("tag:db", slots: 1)
        try holdSlot(of: "tag:db", in: &h)
        h.createPool()
        h.createDeployment(tags: ["db"])
        try h.hello("w1", limit: 1)
        let run = h.runDeployment()
        #expect(assignments(try h.takeOutbox()).isEmpty)

        // w1 recreates its socket and says Hello again on the same routing id. It does not
        // report the run kept for it (never sent), so that run goes back in line; w1 keeps
        // the session it has just opened.
        h.clock.advance(by: 1)
        #expect(kinds(try h.hello("w1", limit: 1)) == ["w1:welcome"])
        #expect(h.coordinator.isConnected("w1"))
        #expect(kinds(try h.heartbeat("w1")) == ["w1:ack"])
        try h.limitCall(.release(.with { $0.holders = ["script"] }), client: "script")
        #expect(assignments(try h.takeOutbox()).map(\.run) == [run.id])
    }

    // MARK: Helpers

    /// Takes the one slot of `limit` as a script would, for 60 s, under the holder "script".
    private func holdSlot(of limit: String, in h: inout CoordinatorHarness) throws {
        let held = try h.limitCall(
            .acquire(
                .with {
                    $0.limits = [limit]; $0.slots = 1; $0.holder = "script"; $0.leaseTtlMs = 60_000
                }),
            client: "script")
        guard case .granted? = held.first?.reply.result else {
            Issue.record("the script did not get its slot: \(String(describing: held.first?.reply))")
            return
        }
    }

    private func uuid(_ run: Drover_V1_FlowRun) throws -> UUID {
        try #require(UUID(uuidString: run.id))
    }

    /// The holder name of the lease the coordinator takes for `run`.
    private func holder(_ run: Drover_V1_FlowRun) throws -> String {
        Lease.holder(ofRun: try uuid(run))
    }
}
