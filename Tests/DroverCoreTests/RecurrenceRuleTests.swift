import DroverTestSupport
import Foundation
import Testing

@testable import DroverCore

/// RFC 5545 recurrence rules, read and expanded as python-dateutil does for Prefect's
/// `RRuleSchedule`: unit tests, then a differential test against dateutil itself.
@Suite struct RecurrenceRuleTests {
    static let paris = TimeZone(identifier: "Europe/Paris")!
    static let utc = TimeZone(identifier: "UTC")!

    /// 2026-01-01T00:00:00Z, a Thursday.
    let newYear = TestDates.epoch

    func rule(_ text: String, zone: TimeZone = paris) throws -> RecurrenceRule {
        try RecurrenceRule(text, defaultStart: newYear, timeZone: zone)
    }

    /// `dates` as local ISO 8601 times in `zone`, to compare with what people write.
    static func local(_ dates: [Date], in zone: TimeZone = paris) -> [String] {
        let formatter = ISO8601DateFormatter()
        formatter.timeZone = zone
        return dates.map { formatter.string(from: $0) }
    }

    static func instant(_ text: String) -> Date {
        ISO8601DateFormatter().date(from: text)!
    }

    // MARK: - Reading rules

    @Test func aBareRuleStartsAtTheDefaultStartInTheGivenZone() throws {
        let rule = try RecurrenceRule(
            "FREQ=DAILY;INTERVAL=2", defaultStart: Self.instant("2026-01-05T08:30:15Z"), timeZone: Self.paris)
        #expect(rule.frequency == .daily)
        #expect(rule.interval == 2)
        #expect(rule.count == nil)
        #expect(rule.timeZone == Self.paris)
        #expect(rule.start == Self.instant("2026-01-05T08:30:15Z"))
        #expect(
            Self.local(rule.occurrences(after: newYear, limit: 3)) == [
                "2026-01-05T09:30:15+01:00", "2026-01-07T09:30:15+01:00", "2026-01-09T09:30:15+01:00",
            ])
    }

    @Test func aDTSTARTWithTZIDFollowsThatZoneWhateverTheGivenOne() throws {
        let rule = try rule("DTSTART;TZID=America/New_York:20260105T090000\nRRULE:FREQ=WEEKLY;BYDAY=MO,WE,FR;COUNT=4", zone: Self.utc)
        #expect(rule.timeZone.identifier == "America/New_York")
        #expect(rule.count == 4)
        #expect(
            Self.local(rule.occurrences(after: newYear, limit: 10), in: rule.timeZone) == [
                "2026-01-05T09:00:00-05:00", "2026-01-07T09:00:00-05:00", "2026-01-09T09:00:00-05:00",
                "2026-01-12T09:00:00-05:00",
            ])
    }

    @Test func aDTSTARTInUTCFollowsUTC() throws {
        let rule = try rule("DTSTART:20260105T090000Z\nRRULE:FREQ=DAILY")
        #expect(rule.start == Self.instant("2026-01-05T09:00:00Z"))
        // Across the Paris spring-forward, the time stays 09:00 UTC.
        let march = rule.occurrences(after: Self.instant("2026-03-28T00:00:00Z"), limit: 2)
        #expect(Self.local(march, in: Self.utc) == ["2026-03-28T09:00:00Z", "2026-03-29T09:00:00Z"])
    }

    @Test func aFloatingDTSTARTIsReadInTheGivenZone() throws {
        let rule = try rule("DTSTART:20260105T090000\nRRULE:FREQ=DAILY;COUNT=2")
        #expect(rule.timeZone == Self.paris)
        #expect(Self.local(rule.occurrences(after: newYear, limit: 5)) == ["2026-01-05T09:00:00+01:00", "2026-01-06T09:00:00+01:00"])
    }

    @Test func aDateOnlyDTSTARTIsMidnight() throws {
        let rule = try rule("DTSTART;VALUE=DATE:20260105\nRRULE:FREQ=DAILY")
        #expect(Self.local([rule.start]) == ["2026-01-05T00:00:00+01:00"])
    }

    @Test func linesMayBeSeparatedBySpacesInAnyCase() throws {
        let rule = try rule("dtstart;tzid=Europe/Paris:20260105t090000 rrule:freq=weekly;byday=mo,fr;")
        #expect(
            Self.local(rule.occurrences(after: newYear, limit: 3)) == [
                "2026-01-05T09:00:00+01:00", "2026-01-09T09:00:00+01:00", "2026-01-12T09:00:00+01:00",
            ])
    }

    @Test func occurrencesTakeTheirSecondFromDTSTART() throws {
        let rule = try rule("DTSTART:20260105T090007Z\nRRULE:FREQ=HOURLY;BYMINUTE=0,30")
        #expect(
            Self.local(rule.occurrences(after: newYear, limit: 3), in: Self.utc) == [
                "2026-01-05T09:00:07Z", "2026-01-05T09:30:07Z", "2026-01-05T10:00:07Z",
            ])
    }

    /// Each refusal, with what it says is wrong and what is accepted.
    @Test(arguments: [
        ("", "no rule"),
        ("DTSTART:20260105T090000Z", "no rule"),
        ("FREQ=DAILY\nRRULE:FREQ=WEEKLY", "more than one RRULE; a schedule takes one rule"),
        ("DTSTART:20260105T090000Z\nDTSTART:20260106T090000Z\nFREQ=DAILY", "more than one DTSTART"),
        ("RRULE:FREQ=DAILY\nEXDATE:20260106T090000Z", "EXDATE is not supported; give one RRULE and an optional DTSTART"),
        ("RRULE:FREQ=DAILY\nRDATE:20260106T090000Z", "RDATE is not supported"),
        ("RRULE:FREQ=DAILY\nEXRULE:FREQ=WEEKLY", "EXRULE is not supported"),
        ("SUMMARY:standup\nFREQ=DAILY", "neither a DTSTART line nor a rule"),
        ("RRULE;X-NAME=1:FREQ=DAILY", "RRULE takes no parameters"),
        ("DTSTART:2026-01-05\nFREQ=DAILY", "DTSTART '2026-01-05' is not a date-time; use YYYYMMDDTHHMMSS"),
        ("DTSTART:20260231T090000\nFREQ=DAILY", "is not a date-time"),
        ("DTSTART:20260105T250000\nFREQ=DAILY", "is not a date-time"),
        ("DTSTART;TZID=Mars/Olympus:20260105T090000\nFREQ=DAILY", "unknown time zone 'Mars/Olympus'"),
        ("DTSTART;TZID=Europe/Paris:20260105T090000Z\nFREQ=DAILY", "both a TZID and a UTC time"),
        ("DTSTART;FOO=BAR:20260105T090000\nFREQ=DAILY", "DTSTART parameter 'FOO=BAR' is not supported"),
        ("INTERVAL=2", "FREQ is missing"),
        ("FREQ=FORTNIGHTLY", "FREQ=FORTNIGHTLY is not supported; use YEARLY, MONTHLY, WEEKLY, DAILY, HOURLY or MINUTELY"),
        ("FREQ=SECONDLY", "FREQ=SECONDLY is not supported; schedules repeat at most every minute"),
        ("FREQ=DAILY;INTERVAL=0", "INTERVAL=0 is not a whole number from 1 to 1000000"),
        ("FREQ=DAILY;INTERVAL=two", "INTERVAL=TWO is not a whole number"),
        ("FREQ=DAILY;COUNT=0", "COUNT=0 is not a whole number from 1"),
        ("FREQ=DAILY;COUNT=3;UNTIL=20260201T000000Z", "COUNT and UNTIL cannot both be given"),
        ("FREQ=DAILY;UNTIL=tomorrow", "UNTIL=TOMORROW is not a date-time; use YYYYMMDDTHHMMSSZ (UTC)"),
        ("FREQ=DAILY;UNTIL=20260201Z", "is not a date-time"),
        ("FREQ=DAILY;BYMONTH=13", "BYMONTH=13 is not a whole number from 1 to 12"),
        ("FREQ=DAILY;BYMONTHDAY=0", "BYMONTHDAY=0 is not a whole number from -31 to 31, not 0"),
        ("FREQ=DAILY;BYMONTHDAY=32", "BYMONTHDAY=32 is not a whole number"),
        ("FREQ=DAILY;BYHOUR=24", "BYHOUR=24 is not a whole number from 0 to 23"),
        ("FREQ=DAILY;BYMINUTE=60", "BYMINUTE=60 is not a whole number from 0 to 59"),
        ("FREQ=MONTHLY;BYDAY=MO;BYSETPOS=0", "BYSETPOS=0 is not a whole number from -366 to 366, not 0"),
        ("FREQ=WEEKLY;BYDAY=MO,XX", "BYDAY item 'XX' is not a weekday; use MO, TU, WE, TH, FR, SA, SU"),
        ("FREQ=WEEKLY;BYDAY=1MO", "BYDAY item '1MO' has an ordinal, which needs FREQ=MONTHLY or FREQ=YEARLY"),
        ("FREQ=MONTHLY;BYDAY=6MO", "ordinal that is not from 1 to 5"),
        ("FREQ=YEARLY;BYDAY=54MO", "ordinal that is not from 1 to 53"),
        ("FREQ=MONTHLY;BYDAY=MO,1FR", "mixes weekdays with and without an ordinal"),
        ("FREQ=WEEKLY;WKST=XX", "WKST=XX is not a weekday"),
        ("FREQ=DAILY;BYSECOND=30", "BYSECOND is not supported: each occurrence takes its second from DTSTART"),
        ("FREQ=YEARLY;BYYEARDAY=100", "BYYEARDAY is not supported; use FREQ, INTERVAL"),
        ("FREQ=YEARLY;BYWEEKNO=20", "BYWEEKNO is not supported"),
        ("FREQ=YEARLY;BYEASTER=0", "BYEASTER is not supported"),
        ("FREQ=DAILY;TZID=UTC", "unknown rule part 'TZID'; use FREQ, INTERVAL, COUNT, UNTIL"),
        ("FREQ=DAILY;FREQ=WEEKLY", "FREQ is given twice"),
        ("FREQ=DAILY;INTERVAL", "'INTERVAL' is not NAME=VALUE"),
        (
            "DTSTART:20260105T090000Z\nFREQ=HOURLY;INTERVAL=4;BYHOUR=10,12",
            "BYHOUR=10,12 is never reached every 4 hours from DTSTART's hour 9; reachable hours: 1,5,9,13,17,21"
        ),
        ("DTSTART:20260105T090000Z\nFREQ=MINUTELY;INTERVAL=2;BYMINUTE=1", "never reached every 2 minutes from DTSTART's time 9:00"),
    ])
    func refuses(text: String, message: String) {
        let error = #expect(throws: DroverError.self) {
            try RecurrenceRule(text, defaultStart: newYear, timeZone: Self.paris)
        }
        #expect(error?.code == .invalidArgument)
        #expect(error?.message.hasPrefix("Invalid rrule: ") == true)
        #expect(error?.message.contains(message) == true, "\(error?.message ?? "")")
    }

    @Test func aDefaultStartOutsideTheYears1To9999IsRefused() {
        let error = #expect(throws: DroverError.self) {
            try RecurrenceRule("FREQ=DAILY", defaultStart: .distantFuture.addingTimeInterval(1e12), timeZone: Self.paris)
        }
        #expect(error?.message.contains("is not in the years 1 to 9999") == true)
    }

    // MARK: - Known sequences

    @Test func weekdaysAtNineInParis() throws {
        let rule = try rule("DTSTART;TZID=Europe/Paris:20260105T090000\nRRULE:FREQ=WEEKLY;BYDAY=MO,TU,WE,TH,FR")
        #expect(
            Self.local(rule.occurrences(after: Self.instant("2026-03-26T12:00:00Z"), limit: 4)) == [
                "2026-03-27T09:00:00+01:00", "2026-03-30T09:00:00+02:00", "2026-03-31T09:00:00+02:00", "2026-04-01T09:00:00+02:00",
            ])
    }

    @Test func theLastFridayOfEachMonth() throws {
        let rule = try rule("DTSTART;TZID=Europe/Paris:20260101T170000\nRRULE:FREQ=MONTHLY;BYDAY=-1FR")
        #expect(
            Self.local(rule.occurrences(after: newYear, limit: 4)) == [
                "2026-01-30T17:00:00+01:00", "2026-02-27T17:00:00+01:00", "2026-03-27T17:00:00+01:00", "2026-04-24T17:00:00+02:00",
            ])
    }

    @Test func theLastWeekdayOfEachMonthByPosition() throws {
        let rule = try rule("DTSTART;TZID=Europe/Paris:20260101T180000\nRRULE:FREQ=MONTHLY;BYDAY=MO,TU,WE,TH,FR;BYSETPOS=-1")
        // May 2026 ends on a Sunday, so its last weekday is Friday the 29th.
        #expect(
            Self.local(rule.occurrences(after: Self.instant("2026-04-01T00:00:00Z"), limit: 3)) == [
                "2026-04-30T18:00:00+02:00", "2026-05-29T18:00:00+02:00", "2026-06-30T18:00:00+02:00",
            ])
    }

    @Test func everyTwoHoursWithCountCountsFromDTSTART() throws {
        let rule = try rule("DTSTART;TZID=Europe/Paris:20260105T080000\nRRULE:FREQ=HOURLY;INTERVAL=2;COUNT=5")
        #expect(
            Self.local(rule.occurrences(after: newYear, limit: 10)) == [
                "2026-01-05T08:00:00+01:00", "2026-01-05T10:00:00+01:00", "2026-01-05T12:00:00+01:00",
                "2026-01-05T14:00:00+01:00", "2026-01-05T16:00:00+01:00",
            ])
        // Asked from later, the occurrences before still count: three are left.
        #expect(
            Self.local(rule.occurrences(after: Self.instant("2026-01-05T10:00:00Z"), limit: 10)) == [
                "2026-01-05T12:00:00+01:00", "2026-01-05T14:00:00+01:00", "2026-01-05T16:00:00+01:00",
            ])
    }

    @Test func occurrencesAreStrictlyAfterAndUntilIsInclusive() throws {
        let rule = try rule("DTSTART;TZID=Europe/Paris:20260105T090000\nRRULE:FREQ=DAILY;UNTIL=20260108T080000Z")
        #expect(
            Self.local(rule.occurrences(after: Self.instant("2026-01-05T08:00:00Z"), limit: 10)) == [
                "2026-01-06T09:00:00+01:00", "2026-01-07T09:00:00+01:00", "2026-01-08T09:00:00+01:00",
            ])
        let bounded = rule.occurrences(after: newYear, until: Self.instant("2026-01-06T08:00:00Z"), limit: 10)
        #expect(Self.local(bounded) == ["2026-01-05T09:00:00+01:00", "2026-01-06T09:00:00+01:00"])
    }

    @Test func aLocalUntilIsAWallTimeInTheRulesZone() throws {
        let rule = try rule("DTSTART;TZID=Europe/Paris:20260105T090000\nRRULE:FREQ=DAILY;UNTIL=20260107T090000")
        #expect(rule.occurrences(after: newYear, limit: 10).count == 3)
    }

    @Test func aYearlyRuleWithoutDaysRecursOnDTSTARTsDate() throws {
        let rule = try rule("DTSTART;TZID=Europe/Paris:20240229T120000\nRRULE:FREQ=YEARLY")
        #expect(Self.local(rule.occurrences(after: newYear, limit: 2)) == ["2028-02-29T12:00:00+01:00", "2032-02-29T12:00:00+01:00"])
    }

    @Test func theFirstWeeklyPeriodStartsOnDTSTARTsDay() throws {
        // As in dateutil: BYSETPOS=1 picks among the days left in DTSTART's week, here Friday.
        let rule = try rule("DTSTART;TZID=Europe/Paris:20260107T090000\nRRULE:FREQ=WEEKLY;BYDAY=MO,FR;BYSETPOS=1")
        #expect(Self.local(rule.occurrences(after: newYear, limit: 2)) == ["2026-01-09T09:00:00+01:00", "2026-01-12T09:00:00+01:00"])
    }

    @Test func aRuleWithNoOccurrenceGivesNoneAndStops() throws {
        let clock = ContinuousClock()
        let never = ["FREQ=DAILY;BYMONTH=2;BYMONTHDAY=31", "FREQ=YEARLY;BYMONTH=4;BYMONTHDAY=31", "FREQ=MINUTELY;BYMONTH=2;BYMONTHDAY=30"]
        for text in never {
            let rule = try rule(text)
            let started = clock.now
            #expect(rule.occurrences(after: newYear, limit: 10).isEmpty, "\(text)")
            #expect(clock.now - started < .seconds(5), "\(text)")
        }
    }

    // MARK: - Daylight saving time, as dateutil with a zone-aware DTSTART

    @Test func aSkippedWallTimeMovesForwardByTheGap() throws {
        let rule = try rule("DTSTART;TZID=Europe/Paris:20260327T023000\nRRULE:FREQ=DAILY")
        #expect(
            Self.local(rule.occurrences(after: newYear, limit: 4)) == [
                "2026-03-27T02:30:00+01:00", "2026-03-28T02:30:00+01:00", "2026-03-29T03:30:00+02:00", "2026-03-30T02:30:00+02:00",
            ])
    }

    @Test func aRepeatedWallTimeIsItsFirstPass() throws {
        let rule = try rule("DTSTART;TZID=Europe/Paris:20261024T023000\nRRULE:FREQ=DAILY")
        #expect(
            Self.local(rule.occurrences(after: newYear, limit: 3)) == [
                "2026-10-24T02:30:00+02:00", "2026-10-25T02:30:00+02:00", "2026-10-26T02:30:00+01:00",
            ])
    }

    @Test func hourlyRulesFollowTheWallClock() throws {
        let spring = try rule("DTSTART;TZID=Europe/Paris:20260329T000000\nRRULE:FREQ=HOURLY")
        // 02:00 does not exist and lands on 03:00, which comes once.
        #expect(
            Self.local(spring.occurrences(after: newYear, limit: 4)) == [
                "2026-03-29T00:00:00+01:00", "2026-03-29T01:00:00+01:00", "2026-03-29T03:00:00+02:00", "2026-03-29T04:00:00+02:00",
            ])
        let autumn = try rule("DTSTART;TZID=Europe/Paris:20261025T000000\nRRULE:FREQ=HOURLY")
        // 02:00 comes twice on the wall; the rule takes its first pass only.
        #expect(
            Self.local(autumn.occurrences(after: newYear, limit: 4)) == [
                "2026-10-25T00:00:00+02:00", "2026-10-25T01:00:00+02:00", "2026-10-25T02:00:00+02:00", "2026-10-25T03:00:00+01:00",
            ])
    }

    @Test func aSkippedWallTimeLandsAfterTheTimesThatFollowIt() throws {
        // dateutil yields 02:50 (skipped: 03:50 CEST) before 03:10 CEST; in time, 03:10 comes first.
        let rule = try rule("DTSTART;TZID=Europe/Paris:20260329T000000\nRRULE:FREQ=DAILY;BYHOUR=2,3;BYMINUTE=10,50;BYSETPOS=2,3")
        let after = Self.instant("2026-03-29T00:00:00Z")
        #expect(Self.local(rule.occurrences(after: after, limit: 1)) == ["2026-03-29T03:10:00+02:00"])
        #expect(
            Self.local(rule.occurrences(after: after, limit: 3)) == [
                "2026-03-29T03:10:00+02:00", "2026-03-29T03:50:00+02:00", "2026-03-30T02:50:00+02:00",
            ])
    }

    @Test func aDefaultStartInTheSecondPassStartsAtTheFirst() throws {
        // 02:30 CET, the second 02:30 of 2026-10-25: dateutil keeps the wall time, read as its first pass.
        let rule = try RecurrenceRule("FREQ=HOURLY", defaultStart: Self.instant("2026-10-25T01:30:00Z"), timeZone: Self.paris)
        #expect(Self.local([rule.start]) == ["2026-10-25T02:30:00+02:00"])
        #expect(Self.local(rule.occurrences(after: newYear, limit: 2)) == ["2026-10-25T02:30:00+02:00", "2026-10-25T03:30:00+01:00"])
    }

    // MARK: - Differential test against python-dateutil

    /// Thousands of seeded random rules, starts and `after` times, many near daylight-saving
    /// changes, expanded here and by python-dateutil 4.0.0 in one Python process: the next ten
    /// occurrences must be the same instants.
    @Test func matchesPythonDateutil() throws {
        var generator = SeededGenerator(state: 0x5EED_0006)
        let transitions = Dictionary(uniqueKeysWithValues: DateutilCase.zones.map { ($0, DateutilCase.transitions(in: $0)) })
        let cases = (0..<DateutilCase.count).map { _ in DateutilCase.random(using: &generator, transitions: transitions) }
        let output = try ReferencePython.run(DateutilCase.script, input: JSONEncoder().encode(cases))
        let expected = try JSONDecoder().decode([DateutilCase.Outcome].self, from: output)
        try #require(expected.count == cases.count)

        var mismatches = 0
        var errors = 0
        var expanded = 0
        for (item, reference) in zip(cases, expected) {
            let zone = TimeZone(identifier: item.zone)!
            let actual: DateutilCase.Outcome
            var display = zone
            do {
                let rule = try RecurrenceRule(item.text, defaultStart: Date(timeIntervalSince1970: item.defaultStart), timeZone: zone)
                display = rule.timeZone
                let dates = rule.occurrences(
                    after: Date(timeIntervalSince1970: item.after), until: Date(timeIntervalSince1970: item.horizon), limit: 10)
                actual = .init(occurrences: dates.map { Int($0.timeIntervalSince1970) }, error: nil)
            } catch {
                actual = .init(occurrences: nil, error: "\(error)")
            }
            if reference.error != nil { errors += 1 }
            if reference.occurrences?.isEmpty == false { expanded += 1 }
            let same = reference.error != nil ? actual.error != nil : actual.occurrences == reference.occurrences
            guard !same else { continue }
            mismatches += 1
            if mismatches <= 10 {
                func show(_ outcome: DateutilCase.Outcome) -> String {
                    let dates = (outcome.occurrences ?? []).map { Date(timeIntervalSince1970: Double($0)) }
                    return outcome.error ?? Self.local(dates, in: display).joined(separator: " ")
                }
                Issue.record(
                    """
                    \(item.text.replacingOccurrences(of: "\n", with: " ")) in \(item.zone), \
                    default start \(Self.local([Date(timeIntervalSince1970: item.defaultStart)], in: display)[0]), \
                    after \(Self.local([Date(timeIntervalSince1970: item.after)], in: display)[0]), \
                    horizon \(Self.local([Date(timeIntervalSince1970: item.horizon)], in: display)[0]):
                      drover:   \(show(actual))
                      dateutil: \(show(reference))
                    """)
            }
        }
        #expect(mismatches == 0, "\(mismatches) of \(cases.count) cases differ from python-dateutil")
        // Most cases must have occurrences to compare, or the test proves little.
        #expect(errors < cases.count / 20, "dateutil refused \(errors) of \(cases.count) rules")
        #expect(expanded > cases.count * 3 / 4, "only \(expanded) of \(cases.count) rules have occurrences after `after`")
    }
}

/// One random case of the differential test: a rule both sides read, a time to look after, and a
/// horizon that bounds the work on both sides (a noon UTC, days away from any clock change, so
/// both sides bound the same way).
struct DateutilCase: Codable {
    /// The zone given with the rule.
    var zone: String
    var defaultStart: Double
    var startLine: String?
    /// The RRULE value without UNTIL.
    var rule: String
    /// UNTIL, given to dateutil apart: with a zone-aware DTSTART it only takes UTC in the text.
    var until: String?
    var after: Double
    var horizon: Double

    var text: String {
        (startLine.map { $0 + "\n" } ?? "") + "RRULE:" + rule + (until.map { ";UNTIL=" + $0 } ?? "")
    }

    /// What one side found: up to ten instants in epoch seconds, or an error.
    struct Outcome: Codable, Equatable {
        var occurrences: [Int]?
        var error: String?
    }

    static let count = 4_000
    static let zones = [
        "Europe/Paris", "America/New_York", "Australia/Sydney", "UTC", "Asia/Kolkata", "America/Sao_Paulo", "Australia/Lord_Howe",
    ]
    static let weekdays = ["MO", "TU", "WE", "TH", "FR", "SA", "SU"]
    static let frequencies = ["YEARLY", "MONTHLY", "MONTHLY", "WEEKLY", "WEEKLY", "DAILY", "DAILY", "HOURLY", "HOURLY", "MINUTELY"]

    /// Clock changes of `zone` from 2019 to 2032.
    static func transitions(in name: String) -> [Date] {
        let zone = TimeZone(identifier: name)!
        var found: [Date] = []
        var cursor = Date(timeIntervalSince1970: 1_546_300_800)  // 2019-01-01
        while let next = zone.nextDaylightSavingTimeTransition(after: cursor), next.timeIntervalSince1970 < 1_956_528_000 {
            found.append(next)
            cursor = next
        }
        return found
    }

    /// `date` as `YYYYMMDDTHHMMSS` on the wall clock of `zone`.
    static func wall(_ date: Date, in zone: TimeZone) -> String {
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = zone
        let c = calendar.dateComponents([.year, .month, .day, .hour, .minute, .second], from: date)
        func two(_ value: Int?) -> String { String(format: "%02d", value ?? 0) }
        return String(format: "%04d", c.year ?? 0) + two(c.month) + two(c.day) + "T" + two(c.hour) + two(c.minute) + two(c.second)
    }

    /// Seconds of the periods the rule is asked about, after its start, by frequency.
    static func span(of frequency: String) -> Double {
        switch frequency {
        case "YEARLY": 30 * 365 * 86_400
        case "MONTHLY": 8 * 365 * 86_400
        case "WEEKLY": 4 * 365 * 86_400
        case "DAILY": 2 * 365 * 86_400
        case "HOURLY": 30 * 86_400
        default: 12 * 3600
        }
    }

    static func random(using g: inout SeededGenerator, transitions: [String: [Date]]) -> DateutilCase {
        func chance(_ p: Double) -> Bool { Double.random(in: 0..<1, using: &g) < p }
        func pick<T>(_ items: [T]) -> T { items.randomElement(using: &g)! }
        func some<T: Comparable & Hashable>(_ items: [T], _ most: Int) -> [T] {
            Set((0..<Int.random(in: 1...most, using: &g)).map { _ in pick(items) }).sorted()
        }
        /// `values` and the `extra` ones given, sorted, once each, as an RRULE list.
        func list(_ values: [Int], adding extra: Int?...) -> String {
            Set(values + extra.compactMap { $0 }).sorted().map(String.init).joined(separator: ",")
        }
        /// Within 90 minutes of a clock change of `zone` between `from` and `to`, by quarter
        /// hours, or with chance `1 - near` (or when there is none) anywhere from `from` to `to`.
        func time(in zone: String, near: Double, from: Double = 1_577_836_800, to: Double = 1_924_905_600) -> Double {
            let changes = (transitions[zone] ?? []).map(\.timeIntervalSince1970).filter { $0 > from && $0 < to }
            if !changes.isEmpty, chance(near) {
                return pick(changes) + Double(Int.random(in: -6...6, using: &g) * 900)
            }
            return (Double.random(in: from...to, using: &g) / 60).rounded(.down) * 60
        }

        let frequency = pick(frequencies)
        let span = span(of: frequency)
        // Zones with clock changes come up twice as often.
        let zone = pick(zones + zones.filter { !(transitions[$0] ?? []).isEmpty })
        let form = Int.random(in: 0..<20, using: &g)
        let ruleZone = (13..<16).contains(form) ? "UTC" : (7..<13).contains(form) && chance(0.25) ? pick(zones) : zone
        let zoneOfRule = TimeZone(identifier: ruleZone)!
        // Most cases aim at a clock change of the rule's zone: DTSTART whole weeks before it, at
        // about its time of day and on its weekday, or hours before it for MINUTELY; and `after`
        // just before it.
        let changes = (transitions[ruleZone] ?? []).map(\.timeIntervalSince1970).filter { $0 > 1_577_836_800 + span }
        let focus = !changes.isEmpty && chance(0.85) ? pick(changes) : nil
        var start: Double
        if let focus {
            let week = 604_800.0
            let lead =
                frequency == "MINUTELY"
                ? Double.random(in: 0...span * 0.8, using: &g) : Double(Int.random(in: 0...Int(span * 0.8 / week), using: &g)) * week
            start = ((focus - lead) / 60).rounded(.down) * 60 + Double(Int.random(in: -6...6, using: &g) * 900)
        } else {
            start = time(in: ruleZone, near: 0)
        }
        if chance(0.2) { start += Double(Int.random(in: 1...59, using: &g)) }
        var startLine: String?
        switch form {
        case 0..<7: break
        case 7..<13:
            startLine = "DTSTART;TZID=\(ruleZone):" + wall(Date(timeIntervalSince1970: start), in: zoneOfRule)
        case 13..<16:
            startLine = "DTSTART:" + wall(Date(timeIntervalSince1970: start), in: TimeZone(identifier: "UTC")!) + "Z"
        default:
            startLine = "DTSTART:" + wall(Date(timeIntervalSince1970: start), in: TimeZone(identifier: zone)!)
        }
        let defaultStart = chance(0.2) ? start + 0.5 : start

        let monthly = frequency == "MONTHLY" || frequency == "YEARLY"
        var parts = ["FREQ=" + frequency]
        if chance(0.5) { parts.append("INTERVAL=\(Int.random(in: 1...5, using: &g))") }
        // Often the day parts take in the focused clock change: its month, day, weekday and the
        // hour it skips or repeats.
        var aim: DateComponents?
        if let focus, chance(0.8) {
            let changing = Date(timeIntervalSince1970: focus)
            let offset = min(zoneOfRule.secondsFromGMT(for: changing - 1), zoneOfRule.secondsFromGMT(for: changing + 1))
            var calendar = Calendar(identifier: .gregorian)
            calendar.timeZone = TimeZone(secondsFromGMT: offset)!
            aim = calendar.dateComponents([.month, .day, .weekday, .hour, .weekdayOrdinal], from: changing)
        }
        var hasMonths = false
        if chance(0.25) {
            // Rules below DAILY are asked about days, not years: keep DTSTART's month among them.
            let subDaily = frequency == "HOURLY" || frequency == "MINUTELY"
            let startDate = Date(timeIntervalSince1970: start)
            let startMonth = subDaily ? Calendar(identifier: .gregorian).dateComponents(in: zoneOfRule, from: startDate).month : nil
            parts.append("BYMONTH=" + list(some(Array(1...12), 4), adding: startMonth, aim?.month))
            hasMonths = true
        }
        if chance(0.25) {
            parts.append("BYMONTHDAY=" + list(some(Array(1...28) + [29, 30, 31, -1, -2, -3, -7, -15], 3), adding: aim?.day))
        }
        if chance(0.35) {
            // Calendar numbers weekdays from Sunday = 1.
            let aimedDay = (aim?.weekday).map { weekdays[($0 + 5) % 7] }
            if monthly && chance(0.5) {
                let range = frequency == "YEARLY" && !hasMonths && chance(0.5) ? 52 : 4
                var ordinals = some(Array(-range...range).filter { $0 != 0 }, 2).map { "\($0)" + pick(weekdays) }
                if let aimedDay, let ordinal = aim?.weekdayOrdinal, range == 4, ordinal <= 4 {
                    ordinals.append("\(ordinal)" + aimedDay)
                }
                parts.append("BYDAY=" + ordinals.joined(separator: ","))
            } else {
                parts.append("BYDAY=" + Set(some(weekdays, 4) + (aimedDay.map { [$0] } ?? [])).sorted().joined(separator: ","))
            }
        }
        if chance(0.3) {
            parts.append("BYHOUR=" + list(some(chance(0.5) ? [0, 1, 2, 3] : Array(0...23), 3), adding: aim?.hour))
        }
        if chance(0.25) { parts.append("BYMINUTE=" + list(some(chance(0.7) ? [0, 15, 30, 45] : Array(0...59), 3))) }
        // Positions beyond a period's few occurrences would leave dateutil searching periods one by
        // one for ever: below WEEKLY, only the first or last.
        if ["YEARLY", "MONTHLY", "WEEKLY"].contains(frequency) ? chance(0.15) : chance(0.08) {
            parts.append("BYSETPOS=" + list(some(monthly || frequency == "WEEKLY" ? [1, 2, 3, -1, -2, -3] : [1, -1], 2)))
        }
        if chance(0.15) { parts.append("WKST=" + pick(weekdays)) }
        let counted = chance(0.2)
        if counted { parts.append("COUNT=\(Int.random(in: 1...40, using: &g))") }

        var after: Double
        switch Int.random(in: 0..<10, using: &g) {
        case 0: after = start - Double(Int.random(in: 0...86_400, using: &g))
        case 1: after = start
        case _ where counted:
            // Soon enough that some of the COUNT are left.
            after = start + Double.random(in: 0...span / 50, using: &g).rounded(.down)
        default:
            if let focus, chance(0.8) {
                after = focus - Double(Int.random(in: 0...8, using: &g) * 900)
            } else {
                after = start + Double.random(in: 0...span, using: &g).rounded(.down)
            }
        }
        if chance(0.3) { after = (after / 3600).rounded(.down) * 3600 }

        // UNTIL mostly after `after`, often near a clock change; in UTC or on the rule's clock.
        var until: String?
        if !counted && chance(0.25) {
            let end =
                chance(0.8)
                ? time(in: ruleZone, near: 0.5, from: after, to: after + span / 4)
                : time(in: ruleZone, near: 0.5, from: start - span / 10, to: max(start, after))
            let endDate = Date(timeIntervalSince1970: end.rounded(.down))
            until = chance(0.5) ? wall(endDate, in: TimeZone(identifier: "UTC")!) + "Z" : wall(endDate, in: zoneOfRule)
        }

        // Noon UTC a span or so later, moved off any day near a clock change of either zone.
        var horizon = ((after + span) / 86_400).rounded(.down) * 86_400 + 43_200
        let nearby = (transitions[zone] ?? []) + (transitions[ruleZone] ?? [])
        while nearby.contains(where: { abs($0.timeIntervalSince1970 - horizon) < 2 * 86_400 }) { horizon += 3 * 86_400 }
        return DateutilCase(
            zone: zone, defaultStart: defaultStart, startLine: startLine, rule: parts.joined(separator: ";"), until: until,
            after: after, horizon: horizon)
    }

    /// Reads the cases as JSON on stdin and answers, for each, the instants of its next ten
    /// occurrences after `after` and not after `horizon`, each once and in order; or its error.
    static let script = #"""
        import datetime as calendar, json, sys, types, warnings
        from datetime import datetime, timezone
        from zoneinfo import ZoneInfo
        import dateutil.rrule
        from dateutil.rrule import rrulestr

        warnings.simplefilter("ignore")
        # dateutil checks UNTIL only at an occurrence, so a rule with none left runs on to the year
        # 9999: stop it at the horizon's year instead (its MAXYEAR), which changes nothing before.
        bounded = types.SimpleNamespace(**{name: getattr(calendar, name) for name in dir(calendar) if not name.startswith("_")})
        dateutil.rrule.datetime = bounded

        def expand(case):
            zone = ZoneInfo(case["zone"])
            default = datetime.fromtimestamp(case["defaultStart"], zone)
            lines = ([case["startLine"]] if case.get("startLine") else []) + ["RRULE:" + case["rule"]]
            rule = rrulestr("\n".join(lines), dtstart=default, tzids=ZoneInfo)
            if rule._dtstart.tzinfo is None:  # a floating DTSTART: in the given zone
                rule = rule.replace(dtstart=rule._dtstart.replace(tzinfo=zone))
            horizon = datetime.fromtimestamp(case["horizon"], timezone.utc)
            bounded.MAXYEAR = horizon.year + 1
            until = horizon
            text = case.get("until")
            if text:
                if text.endswith("Z"):
                    until = datetime.strptime(text, "%Y%m%dT%H%M%SZ").replace(tzinfo=timezone.utc)
                else:  # a local UNTIL: a wall time in the rule's zone
                    until = datetime.strptime(text, "%Y%m%dT%H%M%S").replace(tzinfo=rule._dtstart.tzinfo)
                until = min(until, horizon)
            rule = rule.replace(until=until)
            found = set()
            for occurrence in rule.xafter(datetime.fromtimestamp(case["after"], timezone.utc)):
                instant = int(occurrence.timestamp())
                found.add(instant)
                # Instants go back at most by a spring-forward gap (an hour here): three hours past
                # the tenth, no earlier one can follow.
                if len(found) >= 10 and instant > sorted(found)[9] + 3 * 3600:
                    break
            return sorted(found)[:10]

        outcomes = []
        for case in json.load(sys.stdin):
            try:
                outcomes.append({"occurrences": expand(case)})
            except Exception as error:
                outcomes.append({"error": f"{type(error).__name__}: {error}"})
        json.dump(outcomes, sys.stdout)
        """#
}
