import DroverCore
import DroverTestSupport
import Foundation
import Testing

@Suite struct StartTimeTests {
    // MARK: Delays

    @Test(
        arguments: [
            ("30s", 30), ("5m", 300), ("1h30m", 5_400), ("2d", 172_800), ("90", 90), ("0", 0), ("0s", 0),
            ("1d2h3m4s", 93_784), ("1h 30m", 5_400), ("90 s", 90), (" 5M ", 300), ("2D12H", 216_000),
            ("120m", 7_200),
        ] as [(String, Int64)])
    func readsDelays(text: String, seconds: Int64) throws {
        #expect(try StartTime.parseDelay(text) == .seconds(seconds))
    }

    @Test func aDayIsAlways86400Seconds() throws {
        let day = try StartTime.parseDelay("1d")
        #expect(day == .seconds(86_400))
        #expect(try StartTime.parseDelay("24h") == day)
        #expect(try StartTime.parseDelay("1440m") == day)
        #expect(try StartTime.parseDelay("86400") == day)
        // Across the spring change in Paris, a day later is 13:00 on the wall clock, not 12:00.
        let paris = try #require(TimeZone(identifier: "Europe/Paris"))
        let before = try StartTime.parseDate("2026-03-28 12:00", now: TestDates.epoch, timeZone: paris)
        let after = try StartTime.parseDate("2026-03-29 13:00", now: TestDates.epoch, timeZone: paris)
        #expect(before.addingTimeInterval(TimeInterval(day.components.seconds)) == after)
    }

    @Test func theLongestDelayIsAccepted() throws {
        let longest = "\(StartTime.maximumDelaySeconds)"
        #expect(try StartTime.parseDelay(longest) == .seconds(StartTime.maximumDelaySeconds))
        #expect(throws: DroverError.self) { try StartTime.parseDelay("\(StartTime.maximumDelaySeconds + 1)") }
        #expect(throws: DroverError.self) { try StartTime.parseDelay("3661d") }
        #expect(throws: DroverError.self) { try StartTime.parseDelay("99999999999999999999999s") }
    }

    @Test(arguments: [
        ("", "A delay cannot be empty."),
        ("   ", "A delay cannot be empty."),
        ("-5m", "Invalid delay '-5m': a delay cannot be negative."),
        ("1.5h", "Invalid delay '1.5h': use whole numbers for each unit, such as 1h30m rather than 1.5h."),
        ("5x", "Invalid delay '5x': unknown unit 'x'."),
        ("5min", "Invalid delay '5min': unknown unit 'min'."),
        ("30m1h", "Invalid delay '30m1h': give each unit at most once, from the largest to the smallest."),
        ("1h1h", "Invalid delay '1h1h': give each unit at most once, from the largest to the smallest."),
        ("1h30", "Invalid delay '1h30': the number 30 has no unit."),
        ("90 30", "Invalid delay '90 30': the number 90 has no unit."),
        ("abc", "Invalid delay 'abc': expected a number at 'abc'."),
        ("5m!", "Invalid delay '5m!': unexpected '!'."),
        ("+5m", "Invalid delay '+5m': expected a number at '+5m'."),
    ])
    func refusesBadDelays(text: String, message: String) throws {
        let error = try #require(throws: DroverError.self) { try StartTime.parseDelay(text) }
        #expect(error.code == .invalidArgument)
        #expect(
            error.message == message + " Use a whole number of seconds (90) or whole numbers with the units "
                + "s, m, h and d, largest first (30s, 5m, 1h30m, 2d).")
    }

    // MARK: Dates

    private let utc = TimeZone(identifier: "UTC")!
    /// 2026-11-29T10:00:00Z.
    private let tenUTC = Date(timeIntervalSince1970: 1_795_946_400)

    private func date(_ text: String, in timeZone: TimeZone? = nil) throws -> Date {
        try StartTime.parseDate(text, now: TestDates.epoch, timeZone: timeZone ?? utc)
    }

    @Test(arguments: [
        ("2026-11-29T10:00:00Z", 0.0), ("2026-11-29t10:00:00z", 0), ("2026-11-29T10:00Z", 0),
        ("2026-11-29T10:00:00+01:00", -3_600), ("2026-11-29T10:00:00+0100", -3_600),
        ("2026-11-29T10:00:00+01", -3_600),
        ("2026-11-29T10:00:00-05:30", 19_800), ("2026-11-29T10:00:00.250Z", 0.25),
        ("2026-11-29T10:00:00,5+00:00", 0.5), ("2026-11-29 10:00:00Z", 0),
    ])
    func readsISO8601WithAnOffsetWhateverTheTimeZone(text: String, shift: Double) throws {
        let tokyo = try #require(TimeZone(identifier: "Asia/Tokyo"))
        #expect(try date(text, in: tokyo) == tenUTC.addingTimeInterval(shift))
        #expect(try date(text) == tenUTC.addingTimeInterval(shift))
    }

    @Test func readsKnownInstants() throws {
        #expect(try date("1970-01-01T00:00:00Z") == Date(timeIntervalSince1970: 0))
        #expect(try date("1969-12-31T23:59:59Z") == Date(timeIntervalSince1970: -1))
        #expect(try date("2000-02-29T00:00:00Z") == Date(timeIntervalSince1970: 951_782_400))
        #expect(try date("2026-01-01T00:00:00Z") == TestDates.epoch)
        #expect(try date("2024-12-31T23:59:59Z") == Date(timeIntervalSince1970: 1_735_689_599))
    }

    @Test(arguments: ["2026-11-29 10:00", "2026-11-29T10:00", "2026-11-29 10:00:00", "2026-11-29T10:00:00"])
    func readsLocalTimesInTheGivenTimeZone(text: String) throws {
        #expect(try date(text) == tenUTC)
        #expect(try date(text, in: TimeZone(secondsFromGMT: 3_600)) == tenUTC.addingTimeInterval(-3_600))
        #expect(try date(text, in: TimeZone(secondsFromGMT: -8 * 3_600)) == tenUTC.addingTimeInterval(8 * 3_600))
        #expect(try date(text, in: TimeZone(identifier: "Europe/Paris")) == tenUTC.addingTimeInterval(-3_600))
    }

    @Test func localTimesFollowDaylightSavingTime() throws {
        let paris = try #require(TimeZone(identifier: "Europe/Paris"))
        let newYork = try #require(TimeZone(identifier: "America/New_York"))
        #expect(try date("2026-07-01 10:00", in: paris) == date("2026-07-01T08:00:00Z"))
        #expect(try date("2026-01-15 10:00", in: paris) == date("2026-01-15T09:00:00Z"))
        #expect(try date("2026-07-01 10:00:30.5", in: newYork) == date("2026-07-01T14:00:30.5Z"))
    }

    @Test func aRepeatedLocalTimeIsTheFirstOfTheTwo() throws {
        // Paris goes from 03:00 summer time back to 02:00 on 2026-10-25.
        let paris = try #require(TimeZone(identifier: "Europe/Paris"))
        #expect(try date("2026-10-25 02:30", in: paris) == date("2026-10-25T02:30:00+02:00"))
    }

    @Test func refusesALocalTimeTheClocksSkip() throws {
        // Paris goes from 02:00 winter time to 03:00 on 2026-03-29.
        let paris = try #require(TimeZone(identifier: "Europe/Paris"))
        let error = try #require(throws: DroverError.self) { try date("2026-03-29 02:30", in: paris) }
        #expect(error.code == .invalidArgument)
        #expect(error.message.hasPrefix("'2026-03-29 02:30' does not exist in Europe/Paris: the clocks skip that time"))
        #expect(try date("2026-03-29 03:00", in: paris) == date("2026-03-29T01:00:00Z"))
        #expect(try date("2026-03-29 01:59", in: paris) == date("2026-03-29T00:59:00Z"))
    }

    @Test func nowIsNow() throws {
        let now = TestDates.at(1_234.5)
        #expect(try StartTime.parseDate("now", now: now, timeZone: utc) == now)
        #expect(try StartTime.parseDate(" NOW ", now: now, timeZone: utc) == now)
    }

    @Test(arguments: [
        "", "tomorrow", "2026-11-29", "2026/11/29 10:00", "29-11-2026 10:00", "2026-11-29 10",
        "2026-11-29 10:00 PM",
        "2026-11-29T10:00:00+25:00", "2026-11-29T10:00:00+01:", "2026-11-29T10:00:00.Z", "26-11-29 10:00",
        "2026-11-29T10:00:00Z extra", "2026-11-29  10:00",
    ])
    func refusesUnreadableDatesNamingTheAcceptedFormats(text: String) throws {
        let paris = try #require(TimeZone(identifier: "Europe/Paris"))
        let error = try #require(throws: DroverError.self) { try date(text, in: paris) }
        #expect(
            error
                == .invalidArgument(
                    "Could not read '\(text)' as a date and time. Use ISO 8601 with Z or an offset "
                        + "(2026-11-29T10:00:00Z, 2026-11-29T10:00:00+01:00), a local date and time in Europe/Paris "
                        + "(2026-11-29 10:00, 2026-11-29T10:00:30), or 'now'."))
    }

    @Test(arguments: [
        ("2026-02-29 10:00", "that month has days 01 to 28."),
        ("2026-04-31 10:00", "that month has days 01 to 30."),
        ("2026-11-00 10:00", "that month has days 01 to 30."),
        ("2026-13-01 10:00", "the month must be 01 to 12."),
        ("2026-00-01 10:00", "the month must be 01 to 12."),
        ("2026-11-29 24:00", "the hour must be 00 to 23."),
        ("2026-11-29 10:60", "the minutes must be 00 to 59."),
        ("2026-11-29T10:00:60Z", "the seconds must be 00 to 59."),
        ("0000-01-01 10:00", "the year must be 0001 or later."),
    ])
    func refusesFieldsOutOfRange(text: String, reason: String) throws {
        let error = try #require(throws: DroverError.self) { try date(text) }
        #expect(error == .invalidArgument("Invalid date and time '\(text)': \(reason)"))
    }

    @Test func acceptsLeapDays() throws {
        #expect(try date("2024-02-29 12:00") == date("2024-02-29T12:00:00Z"))
        #expect(try date("2000-02-29T00:00:00Z") == Date(timeIntervalSince1970: 951_782_400))
        #expect(throws: DroverError.self) { try date("1900-02-29 12:00") }
    }
}
