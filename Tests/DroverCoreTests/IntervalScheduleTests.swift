import DroverCore
import Foundation
import Testing

@Suite struct IntervalScheduleTests {
    private let paris = TimeZone(identifier: "Europe/Paris")!

    /// A wall time in `zone`.
    private func local(_ text: String, _ zone: TimeZone) -> Date {
        let formatter = DateFormatter()
        formatter.locale = Locale(identifier: "en_US_POSIX")
        formatter.timeZone = zone
        formatter.dateFormat = "yyyy-MM-dd HH:mm:ss"
        return formatter.date(from: text)!
    }

    private func wall(_ date: Date, _ zone: TimeZone) -> String {
        let formatter = DateFormatter()
        formatter.locale = Locale(identifier: "en_US_POSIX")
        formatter.timeZone = zone
        formatter.dateFormat = "yyyy-MM-dd HH:mm"
        return formatter.string(from: date)
    }

    @Test func hourlyRunsEveryHourFromTheAnchor() throws {
        let utc = TimeZone(identifier: "UTC")!
        let schedule = try IntervalSchedule(seconds: 3600, anchor: local("2026-01-01 00:15:00", utc), timeZone: utc)
        let next = schedule.occurrences(after: local("2026-06-01 10:15:00", utc), limit: 3)
        #expect(next.map { wall($0, utc) } == ["2026-06-01 11:15", "2026-06-01 12:15", "2026-06-01 13:15"])
    }

    @Test func aDailyScheduleKeepsItsWallTimeAcrossDaylightSaving() throws {
        // Paris springs forward on 2026-03-29 and falls back on 2026-10-25.
        let schedule = try IntervalSchedule(seconds: 86_400, anchor: local("2026-03-01 09:00:00", paris), timeZone: paris)
        let spring = schedule.occurrences(after: local("2026-03-27 12:00:00", paris), limit: 3)
        #expect(spring.map { wall($0, paris) } == ["2026-03-28 09:00", "2026-03-29 09:00", "2026-03-30 09:00"])
        #expect(spring[2].timeIntervalSince(spring[1]) == 23 * 3600 + 3600, "a full day of wall time")
        #expect(spring[1].timeIntervalSince(spring[0]) == 23 * 3600, "the short day")
        let autumn = schedule.occurrences(after: local("2026-10-24 12:00:00", paris), limit: 2)
        #expect(autumn.map { wall($0, paris) } == ["2026-10-25 09:00", "2026-10-26 09:00"])
    }

    @Test func anIntervalUnderADayFollowsElapsedTime() throws {
        let schedule = try IntervalSchedule(
            seconds: 12 * 3600, anchor: local("2026-03-28 08:00:00", paris), timeZone: paris)
        let next = schedule.occurrences(after: local("2026-03-28 09:00:00", paris), limit: 3)
        // Twelve hours of elapsed time each, so the wall time moves with the clock change.
        #expect(next.map { wall($0, paris) } == ["2026-03-28 20:00", "2026-03-29 09:00", "2026-03-29 21:00"])
    }

    @Test func anAnchorInTheFutureCountsBackwards() throws {
        let utc = TimeZone(identifier: "UTC")!
        let schedule = try IntervalSchedule(seconds: 600, anchor: local("2030-01-01 00:00:00", utc), timeZone: utc)
        let next = schedule.occurrences(after: local("2026-05-05 10:03:00", utc), limit: 2)
        #expect(next.map { wall($0, utc) } == ["2026-05-05 10:10", "2026-05-05 10:20"])
    }

    @Test func occurrencesStopAtTheLimitOrTheEnd() throws {
        let utc = TimeZone(identifier: "UTC")!
        let schedule = try IntervalSchedule(seconds: 60, anchor: local("2026-01-01 00:00:00", utc), timeZone: utc)
        let start = local("2026-01-01 00:00:00", utc)
        #expect(schedule.occurrences(after: start, limit: 0).isEmpty)
        #expect(schedule.occurrences(after: start, until: local("2026-01-01 00:03:00", utc), limit: 10).count == 3)
        #expect(schedule.occurrences(after: start, limit: 1) == [local("2026-01-01 00:01:00", utc)], "strictly after")
    }

    @Test(arguments: [
        ("3600", 3600), ("90", 90), ("PT10M", 600), ("P1D", 86_400), ("P1DT12H", 129_600), ("P2W", 1_209_600),
        ("pt1h30m15s", 5415), ("1:30:00", 5400), ("0:00:05", 5),
    ])
    func intervalsAreReadAsPrefectWritesThem(text: String, seconds: Int) throws {
        #expect(try IntervalSchedule.parseSeconds(text) == seconds)
    }

    @Test(arguments: ["", "ten", "P", "PT", "P1H", "PT1D", "1:60:00", "1:5:00", "P1DT", "PT1.5H"])
    func badIntervalsSayWhatIsAccepted(text: String) {
        #expect(throws: DroverError.self) { try IntervalSchedule.parseSeconds(text) }
        do {
            _ = try IntervalSchedule.parseSeconds(text)
        } catch {
            #expect(error.message.contains("ISO 8601"))
        }
    }

    @Test func anIntervalMustBePositiveAndAtMostAYear() {
        for seconds in [0, -5, IntervalSchedule.maximumSeconds + 1] {
            #expect(throws: DroverError.self) {
                try IntervalSchedule(seconds: seconds, anchor: Date(), timeZone: .gmt)
            }
        }
    }
}
