import DroverCore
import Foundation
import Testing

@Suite struct ScheduleHorizonTests {
    private let now = Date(timeIntervalSince1970: 1_780_000_000)

    private func every(_ seconds: TimeInterval, count: Int) -> [Date] {
        (1...count).map { now.addingTimeInterval(Double($0) * seconds) }
    }

    @Test func anHourlyScheduleKeepsAHundredRuns() {
        #expect(ScheduleHorizon().runs(of: every(3600, count: 500), now: now).count == 100)
    }

    @Test func aWeeklyScheduleKeepsAHundredDays() {
        #expect(ScheduleHorizon().runs(of: every(7 * 86_400, count: 50), now: now).count == 14)
    }

    @Test func aYearlyScheduleStillKeepsThree() {
        #expect(ScheduleHorizon().runs(of: every(365 * 86_400, count: 10), now: now).count == 3)
    }

    @Test func aFastScheduleKeepsAnHour() {
        let runs = ScheduleHorizon().runs(of: every(10, count: 1000), now: now)
        #expect(runs.count == 360)
        #expect(runs.last == now.addingTimeInterval(3600))
    }

    @Test func fewerOccurrencesThanTheLimitsAreAllKept() {
        #expect(ScheduleHorizon().runs(of: every(60, count: 2), now: now).count == 2)
        #expect(ScheduleHorizon().runs(of: [], now: now).isEmpty)
    }

    @Test func theLimitsCanBeChanged() {
        let horizon = ScheduleHorizon(maxRuns: 5, maxTime: 86_400, minRuns: 1, minTime: 60)
        #expect(horizon.runs(of: every(3600, count: 50), now: now).count == 5)
        #expect(horizon.runs(of: every(2 * 86_400, count: 50), now: now).count == 1)
        #expect(horizon.ceiling >= 61)
    }
}
