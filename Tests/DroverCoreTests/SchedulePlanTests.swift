import DroverCore
import DroverTestSupport
import Foundation
import Testing

@Suite struct SchedulePlanTests {
    private let utc = TimeZone(identifier: "UTC")!

    private func every(_ seconds: Int) throws -> ScheduleKind {
        .interval(try IntervalSchedule(seconds: seconds, anchor: TestDates.epoch, timeZone: utc))
    }

    @Test func aNewScheduleStartsFromNowAndFillsTheHorizon() throws {
        let plan = SchedulePlan(
            kind: try every(3600), scheduledThrough: nil, now: TestDates.at(10), horizon: ScheduleHorizon(), catchUp: .all)
        #expect(plan.missed.isEmpty)
        #expect(plan.upcoming.count == 100)
        #expect(plan.upcoming.first == TestDates.at(3600))
        #expect(plan.scheduledThrough == TestDates.at(100 * 3600))
    }

    @Test func planningAgainFromTheMarkMakesNothingTwice() throws {
        let kind = try every(3600)
        let first = SchedulePlan(kind: kind, scheduledThrough: nil, now: TestDates.at(0), horizon: ScheduleHorizon(), catchUp: .all)
        let same = SchedulePlan(
            kind: kind, scheduledThrough: first.scheduledThrough, now: TestDates.at(60), horizon: ScheduleHorizon(), catchUp: .all)
        #expect(same.times.isEmpty)
        #expect(same.scheduledThrough == first.scheduledThrough)
        let later = SchedulePlan(
            kind: kind, scheduledThrough: first.scheduledThrough, now: TestDates.at(2 * 3600 + 1), horizon: ScheduleHorizon(),
            catchUp: .all)
        #expect(later.times == [TestDates.at(101 * 3600), TestDates.at(102 * 3600)])
    }

    @Test(arguments: [(CatchUpPolicy.all, [600.0, 1200, 1800]), (.latest, [1800]), (.none, [])])
    func timesMissedSinceTheMarkFollowThePolicy(policy: CatchUpPolicy, expected: [Double]) throws {
        let plan = SchedulePlan(
            kind: try every(600), scheduledThrough: TestDates.at(0), now: TestDates.at(2000), horizon: ScheduleHorizon(),
            catchUp: policy)
        #expect(plan.missed == expected.map(TestDates.at))
        #expect(plan.skipped == 3 - expected.count)
        #expect(plan.upcoming.first == TestDates.at(2400))
    }

    @Test func catchingUpAllIsBoundedByTheHorizon() throws {
        let plan = SchedulePlan(
            kind: try every(60), scheduledThrough: TestDates.at(0), now: TestDates.at(86_400), horizon: ScheduleHorizon(),
            catchUp: .all)
        #expect(plan.missed.count == 100)
        #expect(plan.skipped == 1440 - 100)
    }

    @Test func latestFindsTheNewestMissedTimeAfterALongOutageOfAFastSchedule() throws {
        let now = TestDates.at(3 * 86_400 + 0.5)
        let plan = SchedulePlan(
            kind: try every(1), scheduledThrough: TestDates.at(0), now: now, horizon: ScheduleHorizon(), catchUp: .latest)
        #expect(plan.missed == [TestDates.at(3 * 86_400)])
        #expect(plan.skipped == SchedulePlan.countLimit - 1, "counted as far as the limit")
        let daily = SchedulePlan(
            kind: try every(86_400), scheduledThrough: TestDates.at(0), now: now, horizon: ScheduleHorizon(), catchUp: .latest)
        #expect(daily.missed == [TestDates.at(3 * 86_400)])
        let none = SchedulePlan(
            kind: try every(86_400 * 7), scheduledThrough: TestDates.at(0), now: now, horizon: ScheduleHorizon(),
            catchUp: .latest)
        #expect(none.missed.isEmpty, "nothing fell due")
    }

    @Test func latestKeepsTheNewestLateRunOfEachSchedule() {
        let ids = (0..<5).map { _ in UUID() }
        let late: [(id: UUID, slug: String, time: Date)] = [
            (ids[0], "a", TestDates.at(1)), (ids[1], "a", TestDates.at(3)), (ids[2], "a", TestDates.at(2)),
            (ids[3], "b", TestDates.at(1)), (ids[4], "b", TestDates.at(0)),
        ]
        #expect(Set(CatchUpPolicy.latest.runsToCancel(late: late)) == [ids[0], ids[2], ids[4]])
        #expect(Set(CatchUpPolicy.none.runsToCancel(late: late)) == Set(ids))
        #expect(CatchUpPolicy.all.runsToCancel(late: late).isEmpty)
    }
}

@Suite struct DeploymentConcurrencyTests {
    private let deployment = UUID()

    @Test func runsBeyondTheLimitWaitAndGoOldestFirstAsSlotsFree() {
        var book = DeploymentConcurrency()
        let runs = (0..<4).map { _ in UUID() }
        #expect(book.admit(runs[0], of: deployment, due: TestDates.at(0), limit: 1, strategy: .enqueue) == .admit)
        #expect(book.admit(runs[2], of: deployment, due: TestDates.at(2), limit: 1, strategy: .enqueue) == .wait)
        #expect(book.admit(runs[1], of: deployment, due: TestDates.at(1), limit: 1, strategy: .enqueue) == .wait)
        #expect(book.waitingRuns(deployment) == [runs[1], runs[2]])

        #expect(book.leave(runs[0]) { _ in 1 } == [runs[1]])
        // The slot is kept for the run let go: a newer run cannot take it.
        #expect(book.admit(runs[3], of: deployment, due: TestDates.at(3), limit: 1, strategy: .enqueue) == .wait)
        #expect(book.admit(runs[1], of: deployment, due: TestDates.at(1), limit: 1, strategy: .enqueue) == .admit)
        #expect(book.inFlight(deployment) == 1)
        #expect(book.waitingRuns(deployment) == [runs[2], runs[3]])
    }

    @Test func cancelNewRefusesAndRaisingTheLimitLetsWaitersGo() {
        var book = DeploymentConcurrency()
        let runs = (0..<3).map { _ in UUID() }
        #expect(book.admit(runs[0], of: deployment, due: TestDates.at(0), limit: 1, strategy: .cancelNew) == .admit)
        #expect(book.admit(runs[1], of: deployment, due: TestDates.at(1), limit: 1, strategy: .cancelNew) == .cancel(inFlight: 1))
        #expect(book.admit(runs[1], of: deployment, due: TestDates.at(1), limit: 1, strategy: .enqueue) == .wait)
        #expect(book.admit(runs[2], of: deployment, due: TestDates.at(2), limit: 1, strategy: .enqueue) == .wait)
        #expect(book.release(deployment, limit: nil) == [runs[1], runs[2]])
    }

    @Test func aWaitingRunThatLeavesGivesUpItsPlace() {
        var book = DeploymentConcurrency()
        let runs = (0..<3).map { _ in UUID() }
        _ = book.admit(runs[0], of: deployment, due: TestDates.at(0), limit: 1, strategy: .enqueue)
        _ = book.admit(runs[1], of: deployment, due: TestDates.at(1), limit: 1, strategy: .enqueue)
        _ = book.admit(runs[2], of: deployment, due: TestDates.at(2), limit: 1, strategy: .enqueue)
        #expect(book.leave(runs[1]) { _ in 1 }.isEmpty, "a waiting run frees no slot")
        #expect(book.leave(runs[0]) { _ in 1 } == [runs[2]])
        // A run restored after a restart holds its slot whatever the limit.
        book.restore(runs[1], of: deployment)
        #expect(book.inFlight(deployment) == 1)
    }
}
