import Foundation

/// An RFC 5545 recurrence rule, expanded exactly as python-dateutil 4.0.0 expands it: the
/// `rrule` of Prefect's `RRuleSchedule`.
///
/// The text is an optional `DTSTART` line and one `RRULE` line (or a bare rule such as
/// `FREQ=DAILY;INTERVAL=2`), separated by new lines or spaces, in any case:
///
///     DTSTART;TZID=Europe/Paris:20260105T090000
///     RRULE:FREQ=WEEKLY;BYDAY=MO,WE,FR;COUNT=10
///
/// DTSTART is `YYYYMMDDTHHMMSS` with `;TZID=Area/City`, `YYYYMMDDTHHMMSSZ` in UTC, a floating
/// `YYYYMMDDTHHMMSS` read in the given time zone, or `YYYYMMDD` (midnight). Without DTSTART the
/// rule starts at the default start, in the given time zone. The rule takes FREQ (YEARLY to
/// MINUTELY), INTERVAL, COUNT or UNTIL, BYMONTH, BYMONTHDAY, BYDAY (`MO`, or with an ordinal
/// `1MO`, `-1FR` for MONTHLY and YEARLY), BYHOUR, BYMINUTE, BYSETPOS and WKST. Anything else is
/// refused with an `.invalidArgument` that says what is accepted.
///
/// Occurrences are wall-clock times in DTSTART's zone, each second taken from DTSTART, turned
/// into instants as dateutil does with a zone-aware DTSTART (fold 0):
/// - a wall time that does not exist (the spring-forward gap) is read with the offset from
///   before the change, so it lands the gap's length later (02:30 in Paris → 03:30 CEST);
/// - a wall time that happens twice (fall back) is its first pass;
/// - so an HOURLY rule gives the same instant twice at spring forward (returned once here) and
///   skips the repeated hour at fall back; a default start in the second pass of a repeated
///   hour starts at the first pass of that wall time.
public struct RecurrenceRule: Sendable, Hashable {
    /// How often the rule repeats: FREQ.
    public enum Frequency: String, Sendable, Hashable, CaseIterable {
        case yearly = "YEARLY"
        case monthly = "MONTHLY"
        case weekly = "WEEKLY"
        case daily = "DAILY"
        case hourly = "HOURLY"
        case minutely = "MINUTELY"
    }

    /// A weekday of BYDAY with an ordinal: the `ordinal`-th such weekday of the month (or of
    /// the year), counted from the end when negative.
    struct OrdinalWeekday: Sendable, Hashable {
        /// 0 for Monday to 6 for Sunday, as dateutil numbers them.
        let weekday: Int
        let ordinal: Int
    }

    /// The last possible occurrence: UNTIL, inclusive.
    enum Until: Sendable, Hashable {
        /// UNTIL in UTC (`…Z`): compared with each occurrence's instant.
        case instant(seconds: Int)
        /// A local UNTIL: compared with each occurrence's wall time in the rule's zone.
        case wallTime(Int)
    }

    /// The rule as it was given.
    public let text: String
    public let frequency: Frequency
    /// INTERVAL: the rule repeats every `interval` periods; at least 1.
    public let interval: Int
    /// COUNT: how many occurrences the rule has, counted from DTSTART; nil when unbounded.
    public let count: Int?
    /// DTSTART, the first possible occurrence, as an instant.
    public let start: Date
    /// The zone whose wall clock the rule follows: DTSTART's TZID, UTC for a DTSTART in UTC,
    /// otherwise the time zone given.
    public let timeZone: TimeZone

    /// DTSTART on the wall clock of `timeZone`, in seconds since 1970-01-01T00:00 on that clock.
    /// Every wall time here is counted that way.
    let startWall: Int
    let until: Until?
    /// Months (1–12) an occurrence may fall in; empty for any. Holds dateutil's default too.
    let months: [Int]
    /// Days of the month (1…31, or -31…-1 from the end); empty for any.
    let monthDays: [Int]
    /// Weekdays without ordinal (0 = Monday); empty for any.
    let weekdays: [Int]
    let ordinalWeekdays: [OrdinalWeekday]
    /// The hours of the day: the times of each day for DAILY and longer rules, a filter (empty
    /// for any) for HOURLY and MINUTELY.
    let hours: [Int]
    /// The minutes: the times of each hour up to HOURLY, a filter (empty for any) for MINUTELY.
    let minutes: [Int]
    /// BYSETPOS: positions (1-based, negative from the end) kept among each period's occurrences.
    let setPositions: [Int]
    /// WKST, 0 = Monday: where a WEEKLY period begins.
    let weekStart: Int

    /// The rule parts accepted, for error messages.
    static let acceptedParts =
        "FREQ, INTERVAL, COUNT, UNTIL, BYMONTH, BYMONTHDAY, BYDAY, BYHOUR, BYMINUTE, BYSETPOS and WKST"
    static let weekdayNames = ["MO", "TU", "WE", "TH", "FR", "SA", "SU"]

    /// Parses `text`; `defaultStart` is DTSTART when the text has none, and `timeZone` the zone of
    /// a floating DTSTART or of the default one. Throws `.invalidArgument` saying what is wrong
    /// and what is accepted.
    public init(_ text: String, defaultStart: Date, timeZone: TimeZone) throws(DroverError) {
        var startLine: (wall: Int, zone: TimeZone)?
        var ruleText: String?
        for line in text.split(whereSeparator: \.isWhitespace).map(String.init) {
            let colon = line.firstIndex(of: ":")
            let head = colon.map { String(line[..<$0]) } ?? "RRULE"
            let value = colon.map { String(line[line.index(after: $0)...]) } ?? line
            let parameters = head.split(separator: ";", omittingEmptySubsequences: false).map(String.init)
            switch parameters[0].uppercased() {
            case "DTSTART":
                guard startLine == nil else { throw Self.invalid("more than one DTSTART; give at most one") }
                startLine = try Self.parseStart(parameters: parameters.dropFirst(), value: value, timeZone: timeZone)
            case "RRULE":
                guard ruleText == nil else {
                    throw Self.invalid("more than one RRULE; a schedule takes one rule (add another schedule instead)")
                }
                guard parameters.count == 1 else {
                    throw Self.invalid("RRULE takes no parameters ('\(head)'); write RRULE:FREQ=…")
                }
                ruleText = value
            case "EXDATE", "RDATE", "EXRULE":
                throw Self.invalid(
                    "\(parameters[0].uppercased()) is not supported; give one RRULE and an optional DTSTART")
            default:
                throw Self.invalid("'\(line)' is neither a DTSTART line nor a rule; give an optional DTSTART and one RRULE")
            }
        }
        guard let ruleText else {
            throw Self.invalid("no rule in '\(text)'; give one such as FREQ=DAILY;BYHOUR=9, optionally after a DTSTART line")
        }

        let zone = startLine?.zone ?? timeZone
        let wall: Int
        if let startLine {
            wall = startLine.wall
        } else {
            // Years 1 to 9999, as dateutil's.
            guard (-62_135_596_800...253_402_300_799).contains(defaultStart.timeIntervalSince1970) else {
                throw Self.invalid("the default start \(defaultStart) is not in the years 1 to 9999")
            }
            let seconds = Int(defaultStart.timeIntervalSince1970.rounded(.down))
            wall = seconds + timeZone.secondsFromGMT(for: Date(timeIntervalSince1970: Double(seconds)))
        }
        let parts = try Self.parseParts(ruleText)
        self.text = text
        self.timeZone = zone
        self.startWall = wall
        self.start = Date(timeIntervalSince1970: Double(Self.instant(ofWall: wall, in: zone).seconds))

        guard let freqText = parts["FREQ"] else { throw Self.invalid("FREQ is missing; give FREQ=DAILY, for example") }
        guard let frequency = Frequency(rawValue: freqText) else {
            let hint = freqText == "SECONDLY" ? "schedules repeat at most every minute; " : ""
            throw Self.invalid("FREQ=\(freqText) is not supported; \(hint)use YEARLY, MONTHLY, WEEKLY, DAILY, HOURLY or MINUTELY")
        }
        self.frequency = frequency
        self.interval =
            try parts["INTERVAL"].map { value throws(DroverError) in
                try Self.integer(value, part: "INTERVAL", in: 1...1_000_000)
            } ?? 1
        self.count = try parts["COUNT"].map { value throws(DroverError) in
            try Self.integer(value, part: "COUNT", in: 1...Int(Int32.max))
        }
        if let untilText = parts["UNTIL"] {
            guard count == nil else { throw Self.invalid("COUNT and UNTIL cannot both be given (RFC 5545); keep one") }
            guard let parsed = Self.parseDateTime(untilText) else {
                throw Self.invalid(
                    "UNTIL=\(untilText) is not a date-time; use YYYYMMDDTHHMMSSZ (UTC), YYYYMMDDTHHMMSS (local) or YYYYMMDD")
            }
            self.until = parsed.utc ? .instant(seconds: parsed.wall) : .wallTime(parsed.wall)
        } else {
            self.until = nil
        }
        self.weekStart =
            try parts["WKST"].map { value throws(DroverError) in
                guard let day = Self.weekdayNames.firstIndex(of: value) else {
                    throw Self.invalid("WKST=\(value) is not a weekday; use MO, TU, WE, TH, FR, SA or SU")
                }
                return day
            } ?? 0
        var months = try Self.integers(parts["BYMONTH"], part: "BYMONTH", in: 1...12)
        var monthDays = try Self.integers(parts["BYMONTHDAY"], part: "BYMONTHDAY", in: -31...31)
        let hours = try Self.integers(parts["BYHOUR"], part: "BYHOUR", in: 0...23)
        let minutes = try Self.integers(parts["BYMINUTE"], part: "BYMINUTE", in: 0...59)
        self.setPositions = try Self.integers(parts["BYSETPOS"], part: "BYSETPOS", in: -366...366)
        var weekdays: [Int] = []
        var ordinalWeekdays: [OrdinalWeekday] = []
        if let byDay = parts["BYDAY"] {
            for item in byDay.split(separator: ",", omittingEmptySubsequences: false) {
                let (weekday, ordinal) = try Self.parseWeekday(String(item), frequency: frequency)
                if let ordinal {
                    ordinalWeekdays.append(OrdinalWeekday(weekday: weekday, ordinal: ordinal))
                } else if !weekdays.contains(weekday) {
                    weekdays.append(weekday)
                }
            }
            guard weekdays.isEmpty || ordinalWeekdays.isEmpty else {
                throw Self.invalid(
                    "BYDAY=\(byDay) mixes weekdays with and without an ordinal, which python-dateutil (Prefect) "
                        + "reads as both at once and RFC 5545 as either; give only MO,FR or only 1MO,-1FR")
            }
        }

        // dateutil's defaults: a rule without day parts recurs on DTSTART's day of the period.
        let (year, month, day) = Civil.date(fromDays: Civil.floorDiv(wall, 86_400))
        let secondOfDay = Civil.floorMod(wall, 86_400)
        if monthDays.isEmpty && weekdays.isEmpty && ordinalWeekdays.isEmpty {
            switch frequency {
            case .yearly:
                if months.isEmpty { months = [month] }
                monthDays = [day]
            case .monthly: monthDays = [day]
            case .weekly: weekdays = [Civil.weekday(ofDay: Civil.days(year, month, day))]
            case .daily, .hourly, .minutely: break
            }
        }
        self.months = months
        self.monthDays = monthDays
        self.weekdays = weekdays
        self.ordinalWeekdays = ordinalWeekdays
        switch frequency {
        case .yearly, .monthly, .weekly, .daily:
            self.hours = hours.isEmpty ? [secondOfDay / 3600] : hours
            self.minutes = minutes.isEmpty ? [secondOfDay / 60 % 60] : minutes
        case .hourly:
            self.hours = hours
            self.minutes = minutes.isEmpty ? [secondOfDay / 60 % 60] : minutes
        case .minutely:
            self.hours = hours
            self.minutes = minutes
        }
        try checkReachable()
    }

    /// Up to `limit` occurrences strictly after `date` and not after `until`, in order and each
    /// instant once: the instants dateutil's `xafter(date)` yields, sorted and without the
    /// repeats of a spring-forward gap.
    ///
    /// The work is bounded. A rule without COUNT is expanded from the period around `date`; one
    /// with COUNT from DTSTART, since COUNT counts from there as in dateutil. Expansion stops
    /// after a 400-year Gregorian cycle of periods (of days, below DAILY) without a single
    /// occurrence — which for YEARLY to DAILY rules means there is none to come — and at the
    /// year 9999, where dateutil stops.
    public func occurrences(after date: Date, until end: Date? = nil, limit: Int) -> [Date] {
        guard limit > 0 else { return [] }
        var expansion = Expansion(rule: self, after: date.timeIntervalSince1970, end: end?.timeIntervalSince1970, limit: limit)
        // Past UNTIL or `end` by more than any change of offset, nothing more can come; nor past
        // the year 9999, where dateutil stops.
        var lastDay = Civil.days(10_000, 1, 1) - 1
        switch until {
        case .instant(let seconds)?: lastDay = min(lastDay, Civil.floorDiv(seconds, 86_400) + 2)
        case .wallTime(let wall)?: lastDay = min(lastDay, Civil.floorDiv(wall, 86_400) + 1)
        case nil: break
        }
        if let end, end.timeIntervalSince1970.magnitude < 1e15 {
            lastDay = min(lastDay, Civil.floorDiv(Int(end.timeIntervalSince1970.rounded(.down)), 86_400) + 2)
        }
        var chunk = count == nil ? firstChunk(near: date) : 0
        var emptyChunks = 0
        while !expansion.finished, emptyChunks < emptyChunkLimit, firstDay(ofChunk: chunk) <= lastDay {
            let walls = wallTimes(inChunk: chunk)
            emptyChunks = walls.isEmpty ? emptyChunks + 1 : 0
            for wall in walls where !expansion.finished {
                expansion.offer(wall)
            }
            chunk += 1
        }
        return expansion.result
    }

    // MARK: - Expansion

    /// Applies UNTIL, DTSTART and COUNT to the wall times in dateutil's order, and keeps the
    /// instants after `after`.
    private struct Expansion {
        let rule: RecurrenceRule
        let after: Double
        let end: Double?
        let limit: Int
        var remaining: Int?
        var found: Set<Int> = []
        var finished = false

        init(rule: RecurrenceRule, after: Double, end: Double?, limit: Int) {
            self.rule = rule
            self.after = after
            self.end = end
            self.limit = limit
            self.remaining = rule.count
        }

        var result: [Date] {
            found.sorted().prefix(limit).map { Date(timeIntervalSince1970: Double($0)) }
        }

        mutating func offer(_ wall: Int) {
            let (instant, exists) = RecurrenceRule.instant(ofWall: wall, in: rule.timeZone)
            let pastUntil: Bool
            switch rule.until {
            case .instant(let seconds)?: pastUntil = instant > seconds
            case .wallTime(let until)?: pastUntil = wall > until
            case nil: pastUntil = false
            }
            // dateutil's order: past UNTIL the rule ends; before DTSTART a time is skipped; then
            // COUNT counts it, and the rule ends when COUNT is spent.
            if pastUntil {
                finished = true
                return
            }
            guard wall >= rule.startWall else { return }
            if let left = remaining {
                guard left > 0 else {
                    finished = true
                    return
                }
                remaining = left - 1
            }
            let time = Double(instant)
            if time > after, end.map({ time <= $0 }) ?? true {
                found.insert(instant)
            }
            // Wall times go up, and so do their instants, except that those in a spring-forward
            // gap land after the next few: only a time that exists bounds all that follow.
            guard exists else { return }
            if let end, time > end {
                finished = true
            } else if found.count >= limit && found.lazy.filter({ $0 <= instant }).count >= limit {
                finished = true
            }
        }
    }

    /// The instant of a wall time in `zone`, as zoneinfo reads it with fold 0: the offset from
    /// before a change when the wall time is skipped (then `exists` is false) or repeated.
    static func instant(ofWall wall: Int, in zone: TimeZone) -> (seconds: Int, exists: Bool) {
        func offset(_ seconds: Int) -> Int { zone.secondsFromGMT(for: Date(timeIntervalSince1970: Double(seconds))) }
        // Offsets a day either side; no zone changes its offset twice within two days.
        let before = offset(wall - 86_400)
        let after = offset(wall + 86_400)
        if offset(wall - before) == before { return (wall - before, true) }
        if offset(wall - after) == after { return (wall - after, true) }
        return (wall - before, false)
    }

    /// Chunks are the units of expansion: periods for YEARLY to DAILY, days below.
    private var emptyChunkLimit: Int {
        // One 400-year cycle of the Gregorian calendar: 146,097 days, 20,871 weeks.
        switch frequency {
        case .yearly: 400
        case .monthly: 4_800
        case .weekly: 20_871
        case .daily, .hourly, .minutely: 146_097
        }
    }

    private var startDay: Int { Civil.floorDiv(startWall, 86_400) }

    /// The first day of DTSTART's week, by WKST.
    private var startWeek: Int { startDay - Civil.floorMod(Civil.weekday(ofDay: startDay) - weekStart, 7) }

    /// DTSTART's month counted from year 0.
    private var startMonthIndex: Int {
        let (year, month, _) = Civil.date(fromDays: startDay)
        return year * 12 + month - 1
    }

    private func firstDay(ofChunk chunk: Int) -> Int {
        switch frequency {
        case .yearly: return Civil.days(Civil.date(fromDays: startDay).year + chunk * interval, 1, 1)
        case .monthly:
            let index = startMonthIndex + chunk * interval
            return Civil.days(Civil.floorDiv(index, 12), Civil.floorMod(index, 12) + 1, 1)
        case .weekly: return chunk == 0 ? startDay : startWeek + 7 * interval * chunk
        case .daily: return startDay + chunk * interval
        case .hourly, .minutely: return startDay + chunk
        }
    }

    /// The first chunk that may hold an occurrence after `date`: earlier ones end more than
    /// a day before it, on any clock.
    private func firstChunk(near date: Date) -> Int {
        let seconds = date.timeIntervalSince1970
        guard seconds.magnitude < 1e15 else { return 0 }
        let whole = Int(seconds.rounded(.down))
        let target = Civil.floorDiv(whole + timeZone.secondsFromGMT(for: date), 86_400) - 2
        guard target > startDay else { return 0 }
        switch frequency {
        case .yearly:
            return (Civil.date(fromDays: target).year - Civil.date(fromDays: startDay).year) / interval
        case .monthly:
            let (year, month, _) = Civil.date(fromDays: target)
            return (year * 12 + month - 1 - startMonthIndex) / interval
        case .weekly: return (target - startWeek) / (7 * interval)
        case .daily: return (target - startDay) / interval
        case .hourly, .minutely: return target - startDay
        }
    }

    /// The wall times of a chunk, in order, before UNTIL, DTSTART and COUNT: those of the
    /// chunk-th period from DTSTART's for YEARLY to DAILY (the first WEEKLY period runs from
    /// DTSTART's day to the week's end, as in dateutil), or of its hours or minutes for the
    /// chunk-th day from DTSTART's for HOURLY and MINUTELY.
    func wallTimes(inChunk chunk: Int) -> [Int] {
        let first = firstDay(ofChunk: chunk)
        let second = Civil.floorMod(startWall, 60)
        switch frequency {
        case .yearly, .monthly:
            let (year, firstMonth, _) = Civil.date(fromDays: first)
            let monthRange = frequency == .yearly ? 1...12 : firstMonth...firstMonth
            var days: [Int] = []
            for month in monthRange where months.isEmpty || months.contains(month) {
                let monthStart = Civil.days(year, month, 1)
                for day in 1...Civil.monthLength(year, month) where dayMatches(year, month, day) {
                    days.append(monthStart + day - 1)
                }
            }
            return expand(days: days, times: timesOfDay(second: second))
        case .weekly:
            let end = chunk == 0 ? startWeek + 7 : first + 7
            let days = (first..<end).filter(dayMatches)
            return expand(days: days, times: timesOfDay(second: second))
        case .daily:
            return expand(days: dayMatches(first) ? [first] : [], times: timesOfDay(second: second))
        case .hourly:
            guard dayMatches(first) else { return [] }
            var walls: [Int] = []
            let startHour = startDay * 24 + Civil.floorMod(startWall, 86_400) / 3600
            var hour = Civil.floorMod(startHour - first * 24, interval)
            while hour < 24 {
                if hours.isEmpty || hours.contains(hour) {
                    walls += expand(days: [first], times: minutes.map { hour * 3600 + $0 * 60 + second })
                }
                hour += interval
            }
            return walls
        case .minutely:
            guard dayMatches(first) else { return [] }
            var walls: [Int] = []
            let startMinute = Civil.floorDiv(startWall, 60)
            var minute = Civil.floorMod(startMinute - first * 1440, interval)
            while minute < 1440 {
                if (hours.isEmpty || hours.contains(minute / 60)) && (minutes.isEmpty || minutes.contains(minute % 60)) {
                    walls += expand(days: [first], times: [minute * 60 + second])
                }
                minute += interval
            }
            return walls
        }
    }

    /// The times of each day, in seconds, for DAILY and longer rules.
    private func timesOfDay(second: Int) -> [Int] {
        hours.flatMap { hour in minutes.map { hour * 3600 + $0 * 60 + second } }.sorted()
    }

    /// The wall times of a period, `days` by `times`, kept by BYSETPOS when given.
    private func expand(days: [Int], times: [Int]) -> [Int] {
        guard !setPositions.isEmpty else {
            return days.flatMap { day in times.map { day * 86_400 + $0 } }
        }
        let total = days.count * times.count
        let picked = Set(setPositions.map { $0 > 0 ? $0 - 1 : total + $0 }.filter { (0..<total).contains($0) })
        return picked.sorted().map { days[$0 / times.count] * 86_400 + times[$0 % times.count] }
    }

    private func dayMatches(_ day: Int) -> Bool {
        let (year, month, monthDay) = Civil.date(fromDays: day)
        return dayMatches(year, month, monthDay)
    }

    /// Whether a day passes BYMONTH, BYDAY and BYMONTHDAY.
    private func dayMatches(_ year: Int, _ month: Int, _ day: Int) -> Bool {
        if !months.isEmpty && !months.contains(month) { return false }
        let weekday = Civil.weekday(ofDay: Civil.days(year, month, day))
        if !weekdays.isEmpty && !weekdays.contains(weekday) { return false }
        let monthLength = Civil.monthLength(year, month)
        if !ordinalWeekdays.isEmpty {
            // The n-th weekday of the month, or of the year for a YEARLY rule without BYMONTH.
            let (index, length) =
                frequency == .yearly && months.isEmpty
                ? (Civil.days(year, month, day) - Civil.days(year, 1, 1), Civil.days(year + 1, 1, 1) - Civil.days(year, 1, 1))
                : (day - 1, monthLength)
            let fromStart = index / 7 + 1
            let fromEnd = -((length - 1 - index) / 7 + 1)
            guard ordinalWeekdays.contains(where: { $0.weekday == weekday && ($0.ordinal == fromStart || $0.ordinal == fromEnd) })
            else { return false }
        }
        if !monthDays.isEmpty && !monthDays.contains(day) && !monthDays.contains(day - monthLength - 1) { return false }
        return true
    }

    /// dateutil refuses HOURLY and MINUTELY rules whose BYHOUR or BYMINUTE the interval never
    /// reaches from DTSTART.
    private func checkReachable() throws(DroverError) {
        let secondOfDay = Civil.floorMod(startWall, 86_400)
        switch frequency {
        case .hourly where !hours.isEmpty:
            let step = Self.gcd(interval, 24)
            let reachable = (0..<24).filter { Civil.floorMod($0 - secondOfDay / 3600, step) == 0 }
            guard hours.contains(where: reachable.contains) else {
                throw Self.invalid(
                    "BYHOUR=\(hours.map(String.init).joined(separator: ",")) is never reached every \(interval) hours "
                        + "from DTSTART's hour \(secondOfDay / 3600); reachable hours: "
                        + reachable.map(String.init).joined(separator: ","))
            }
        case .minutely where !hours.isEmpty || !minutes.isEmpty:
            let step = Self.gcd(interval, 1440)
            let startMinute = secondOfDay / 60
            let reachable = (0..<1440).contains {
                Civil.floorMod($0 - startMinute, step) == 0 && (hours.isEmpty || hours.contains($0 / 60))
                    && (minutes.isEmpty || minutes.contains($0 % 60))
            }
            guard reachable else {
                throw Self.invalid(
                    "BYHOUR and BYMINUTE are never reached every \(interval) minutes from DTSTART's time "
                        + "\(startMinute / 60):\(startMinute % 60 < 10 ? "0" : "")\(startMinute % 60)")
            }
        default: break
        }
    }

    private static func gcd(_ a: Int, _ b: Int) -> Int { b == 0 ? a : gcd(b, a % b) }

    // MARK: - Parsing

    static func invalid(_ detail: String) -> DroverError { .invalidArgument("Invalid rrule: \(detail).") }

    /// The DTSTART line: its wall time and the zone of that wall clock.
    private static func parseStart(
        parameters: ArraySlice<String>, value: String, timeZone: TimeZone
    ) throws(DroverError) -> (wall: Int, zone: TimeZone) {
        var zone: TimeZone?
        for parameter in parameters {
            let upper = parameter.uppercased()
            if upper.hasPrefix("TZID=") {
                let name = String(parameter.dropFirst(5))
                guard let named = TimeZone(identifier: name) else {
                    throw invalid("unknown time zone '\(name)' in DTSTART; use an IANA name such as Europe/Paris")
                }
                zone = named
            } else if upper != "VALUE=DATE-TIME" && upper != "VALUE=DATE" {
                throw invalid("DTSTART parameter '\(parameter)' is not supported; use DTSTART;TZID=Area/City:YYYYMMDDTHHMMSS")
            }
        }
        guard let parsed = parseDateTime(value.uppercased()) else {
            throw invalid(
                "DTSTART '\(value)' is not a date-time; use YYYYMMDDTHHMMSS (with TZID or floating), "
                    + "YYYYMMDDTHHMMSSZ (UTC) or YYYYMMDD")
        }
        if parsed.utc {
            guard zone == nil else { throw invalid("DTSTART has both a TZID and a UTC time (Z); give one") }
            return (parsed.wall, TimeZone(secondsFromGMT: 0)!)
        }
        return (parsed.wall, zone ?? timeZone)
    }

    /// `YYYYMMDD`, `YYYYMMDDTHHMMSS` or `YYYYMMDDTHHMMSSZ`, as seconds since 1970 on its clock.
    static func parseDateTime(_ text: String) -> (wall: Int, utc: Bool)? {
        var digits = Substring(text)
        let utc = digits.hasSuffix("Z")
        if utc { digits = digits.dropLast() }
        let date = digits.prefix(8)
        let time = digits.dropFirst(8)
        guard date.count == 8, date.allSatisfy(\.isASCII), date.allSatisfy(\.isNumber),
            time.isEmpty
                ? !utc : (time.count == 7 && time.first == "T" && time.dropFirst().allSatisfy { $0.isASCII && $0.isNumber }),
            let year = Int(date.prefix(4)), let month = Int(date.dropFirst(4).prefix(2)), let day = Int(date.suffix(2)),
            (1...9999).contains(year), (1...12).contains(month), (1...Civil.monthLength(year, month)).contains(day)
        else { return nil }
        var secondOfDay = 0
        if !time.isEmpty {
            let clock = time.dropFirst()
            guard let hour = Int(clock.prefix(2)), let minute = Int(clock.dropFirst(2).prefix(2)),
                let second = Int(clock.suffix(2)),
                hour < 24, minute < 60, second < 60
            else { return nil }
            secondOfDay = hour * 3600 + minute * 60 + second
        }
        return (Civil.days(year, month, day) * 86_400 + secondOfDay, utc)
    }

    /// The rule's `NAME=VALUE` parts, names and values upper-cased, each name once.
    private static func parseParts(_ rule: String) throws(DroverError) -> [String: String] {
        var parts: [String: String] = [:]
        for part in rule.split(separator: ";") {
            let pair = part.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
            guard pair.count == 2, !pair[1].isEmpty else {
                throw invalid("'\(part)' is not NAME=VALUE; a rule reads FREQ=WEEKLY;BYDAY=MO")
            }
            let name = pair[0].uppercased()
            switch name {
            case "FREQ", "INTERVAL", "COUNT", "UNTIL", "BYMONTH", "BYMONTHDAY", "BYDAY", "BYHOUR", "BYMINUTE", "BYSETPOS", "WKST":
                break
            case "BYSECOND":
                throw invalid("BYSECOND is not supported: each occurrence takes its second from DTSTART")
            case "BYYEARDAY", "BYWEEKNO", "BYEASTER", "BYWEEKDAY":
                throw invalid("\(name) is not supported; use \(acceptedParts)")
            default:
                throw invalid("unknown rule part '\(name)'; use \(acceptedParts)")
            }
            guard parts[name] == nil else { throw invalid("\(name) is given twice; give it once") }
            parts[name] = pair[1].uppercased()
        }
        return parts
    }

    private static func integer(_ text: String, part: String, in range: ClosedRange<Int>) throws(DroverError) -> Int {
        let digits = text.hasPrefix("+") ? String(text.dropFirst()) : text
        guard let value = Int(digits), range.contains(value), !(range.lowerBound < 0 && value == 0) else {
            let zero = range.lowerBound < 0 ? ", not 0" : ""
            throw invalid("\(part)=\(text) is not a whole number from \(range.lowerBound) to \(range.upperBound)\(zero)")
        }
        return value
    }

    /// A comma-separated list, sorted and without repeats.
    private static func integers(_ text: String?, part: String, in range: ClosedRange<Int>) throws(DroverError) -> [Int] {
        guard let text else { return [] }
        var values: Set<Int> = []
        for item in text.split(separator: ",", omittingEmptySubsequences: false) {
            values.insert(try integer(String(item), part: part, in: range))
        }
        return values.sorted()
    }

    /// One BYDAY item: `MO`, or with an ordinal, `1MO`, `+2TU`, `-1FR`.
    private static func parseWeekday(_ item: String, frequency: Frequency) throws(DroverError) -> (Int, Int?) {
        let name = String(item.suffix(2))
        guard let weekday = weekdayNames.firstIndex(of: name) else {
            throw invalid(
                "BYDAY item '\(item)' is not a weekday; use MO, TU, WE, TH, FR, SA, SU, with an ordinal such as 1MO or -1FR")
        }
        let prefix = String(item.dropLast(2))
        guard !prefix.isEmpty else { return (weekday, nil) }
        let limit = frequency == .yearly ? 53 : 5
        guard frequency == .monthly || frequency == .yearly else {
            throw invalid("BYDAY item '\(item)' has an ordinal, which needs FREQ=MONTHLY or FREQ=YEARLY; use \(name)")
        }
        let digits = prefix.hasPrefix("+") ? String(prefix.dropFirst()) : prefix
        guard let ordinal = Int(digits), ordinal != 0, (-limit...limit).contains(ordinal) else {
            throw invalid("BYDAY item '\(item)' has an ordinal that is not from 1 to \(limit) or -\(limit) to -1")
        }
        return (weekday, ordinal)
    }
}

/// Proleptic Gregorian dates as day numbers since 1970-01-01 (H. Hinnant's algorithms).
private enum Civil {
    static func floorDiv(_ a: Int, _ b: Int) -> Int { (a - floorMod(a, b)) / b }
    static func floorMod(_ a: Int, _ b: Int) -> Int { ((a % b) + b) % b }

    static func days(_ year: Int, _ month: Int, _ day: Int) -> Int {
        let y = month <= 2 ? year - 1 : year
        let era = floorDiv(y, 400)
        let yearOfEra = y - era * 400
        let dayOfYear = (153 * (month > 2 ? month - 3 : month + 9) + 2) / 5 + day - 1
        let dayOfEra = yearOfEra * 365 + yearOfEra / 4 - yearOfEra / 100 + dayOfYear
        return era * 146_097 + dayOfEra - 719_468
    }

    static func date(fromDays days: Int) -> (year: Int, month: Int, day: Int) {
        let z = days + 719_468
        let era = floorDiv(z, 146_097)
        let dayOfEra = z - era * 146_097
        let yearOfEra = (dayOfEra - dayOfEra / 1460 + dayOfEra / 36_524 - dayOfEra / 146_096) / 365
        let dayOfYear = dayOfEra - (365 * yearOfEra + yearOfEra / 4 - yearOfEra / 100)
        let shiftedMonth = (5 * dayOfYear + 2) / 153
        let day = dayOfYear - (153 * shiftedMonth + 2) / 5 + 1
        let month = shiftedMonth < 10 ? shiftedMonth + 3 : shiftedMonth - 9
        return (yearOfEra + era * 400 + (month <= 2 ? 1 : 0), month, day)
    }

    /// 0 for Monday to 6 for Sunday; 1970-01-01 was a Thursday.
    static func weekday(ofDay days: Int) -> Int { floorMod(days + 3, 7) }

    static func monthLength(_ year: Int, _ month: Int) -> Int {
        switch month {
        case 2: (year % 4 == 0 && year % 100 != 0) || year % 400 == 0 ? 29 : 28
        case 4, 6, 9, 11: 30
        default: 31
        }
    }
}
