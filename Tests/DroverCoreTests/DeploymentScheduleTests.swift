import DroverCore
import Foundation
import Testing

@Suite struct DeploymentScheduleTests {
    private let paris = TimeZone(identifier: "Europe/Paris")!
    /// Friday 2026-01-09 18:00 in Paris.
    private let fridayEvening = Date(timeIntervalSince1970: 1_767_978_000)

    @Test func eachKindGivesItsTimesInOrder() throws {
        let hourly = ScheduleKind.interval(try IntervalSchedule(seconds: 3600, anchor: fridayEvening, timeZone: paris))
        #expect(
            hourly.occurrences(after: fridayEvening, until: nil, limit: 2).map { $0.timeIntervalSince(fridayEvening) }
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

    @Test func restartingMovesTheMarkBackButRemembersHowFarItGot() throws {
        var schedule = DeploymentSchedule(
            slug: "hourly", kind: .interval(try IntervalSchedule(seconds: 3600, anchor: fridayEvening, timeZone: paris)),
            scheduledThrough: fridayEvening.addingTimeInterval(7200))
        schedule.restart(from: fridayEvening)
        #expect(schedule.scheduledThrough == fridayEvening)
        #expect(schedule.madeThrough == fridayEvening.addingTimeInterval(7200))
        schedule.restart(from: fridayEvening.addingTimeInterval(60))
        #expect(schedule.madeThrough == fridayEvening.addingTimeInterval(7200), "it never moves back")
    }

    @Test func defaultSlugsNameTheKindAndAvoidTakenOnes() throws {
        let cron = ScheduleKind.cron(try CronExpression("0 9 * * 1-5"), timeZone: paris)
        #expect(DeploymentSchedule.defaultSlug(for: cron, taken: []) == "cron-0-9-x-x-1-5")
        let hourly = ScheduleKind.interval(try IntervalSchedule(seconds: 3600, anchor: fridayEvening, timeZone: paris))
        #expect(DeploymentSchedule.defaultSlug(for: hourly, taken: ["interval-3600", "interval-3600-2"]) == "interval-3600-3")
    }

    @Test func everyKindSurvivesItsStoredForm() throws {
        let kinds: [ScheduleKind] = [
            .interval(try IntervalSchedule(seconds: 90_000, anchor: fridayEvening, timeZone: paris)),
            .cron(try CronExpression("0 9 8-14 * FRI", dayOr: false), timeZone: paris),
            .rrule(
                try RecurrenceRule(
                    "DTSTART;TZID=America/New_York:20260105T090000\nRRULE:FREQ=WEEKLY;COUNT=5", defaultStart: fridayEvening, timeZone: paris
                )),
            .cron(try CronExpression("@hourly"), timeZone: try ScheduleKind.timeZone(named: "")),
        ]
        for kind in kinds {
            let back = try ScheduleKind(json: try JSONValue.parse(kind.json.render(), what: "schedule"))
            #expect(
                back.occurrences(after: fridayEvening, until: nil, limit: 5) == kind.occurrences(after: fridayEvening, until: nil, limit: 5)
            )
        }
        #expect(kinds[3].json["timezone"]?.stringValue == "UTC")
        #expect(throws: DroverError.self) { try ScheduleKind.timeZone(named: "Mars/Olympus") }
    }

    @Test func aScheduleIsActiveWithNoOverridesUnlessTold() throws {
        let schedule = DeploymentSchedule(
            slug: "nightly", kind: .cron(try CronExpression("@daily"), timeZone: paris))
        #expect(schedule.active)
        #expect(schedule.parameters.isEmpty)
    }
}
