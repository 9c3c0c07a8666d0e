import DroverCore
import Foundation
import Testing

@Suite struct DeploymentScheduleTests {
    private let paris = TimeZone(identifier: "Europe/Paris")!
    /// Friday 2026-01-09 18:00 in Paris.
    private let fridayEvening = Date(timeIntervalSince1970: 1_767_978_000)

    @Test func eachKindGivesItsTimesInOrder() throws {
        let hourly = ScheduleKind.interval(try IntervalSchedule(seconds: 3600, anchor: fridayEvening, timeZone: paris))
        #expect(hourly.occurrences(after: fridayEvening, until: nil, limit: 2).map { $0.timeIntervalSince(fridayEvening) }
            == [3600, 7200])

        let weekdays = ScheduleKind.cron(try CronExpression("0 9 * * 1-5"), timeZone: paris)
        let monday = try #require(weekdays.occurrences(after: fridayEvening, until: nil, limit: 1).first)
        #expect(monday.timeIntervalSince(fridayEvening) == 2 * 86_400 + 15 * 3600, "Monday 09:00 in Paris")

        let rule = ScheduleKind.rrule(
            try RecurrenceRule("FREQ=WEEKLY;BYDAY=MO;BYHOUR=9;BYMINUTE=0", defaultStart: fridayEvening, timeZone: paris))
        #expect(rule.occurrences(after: fridayEvening, until: nil, limit: 1) == [monday])
    }

    @Test func untilBoundsEveryKind() throws {
        let end = fridayEvening.addingTimeInterval(3 * 3600)
        let kinds: [ScheduleKind] = [
            .interval(try IntervalSchedule(seconds: 3600, anchor: fridayEvening, timeZone: paris)),
            .cron(try CronExpression("0 * * * *"), timeZone: paris),
            .rrule(try RecurrenceRule("FREQ=HOURLY", defaultStart: fridayEvening, timeZone: paris)),
        ]
        for kind in kinds {
            #expect(kind.occurrences(after: fridayEvening, until: end, limit: 10).count == 3, "\(kind)")
        }
    }

    @Test func aScheduleIsActiveWithNoOverridesUnlessTold() throws {
        let schedule = DeploymentSchedule(
            slug: "nightly", kind: .cron(try CronExpression("@daily"), timeZone: paris))
        #expect(schedule.active)
        #expect(schedule.parameters.isEmpty)
    }
}
