import Foundation

/// A cron expression, as Prefect's `CronSchedule` accepts it through croniter: five fields,
/// `minute hour day-of-month month day-of-week`, or one of the macros `@yearly`
/// (`@annually`), `@monthly`, `@weekly`, `@daily` (`@midnight`) and `@hourly`.
///
/// Each field is `*`, or a comma-separated list of values (`5`), ranges (`1-5`) and steps
/// (`*/15`, `10-50/20`, `10/20` meaning `10-59/20`). Months may be written `JAN`–`DEC` and
/// weekdays `SUN`–`SAT`, in any case; weekday `7` is Sunday, like `0`; `?` stands for `*`
/// in the two day fields. Whatever croniter accepts in these forms means here what it means
/// there, including its odd corners:
/// - a range that wraps (`22-2`, `FRI-MON`) runs to the end of the field and on from its
///   start, continuing a step as croniter does (`50-10/7` is 50, 57 and 5);
/// - a range written with equal ends (`5-5`, `JAN-JAN`) means the whole field, while a start
///   with a step (`59/15`) past which the step cannot go means just its start;
/// - a day field listing every value without a `*` (`1-31`, `0-6`) still restricts the day
///   when the other day field has no `*`, so the two are joined by `dayOr`.
///
/// croniter's extensions are refused with a message saying so: `L`, `W`, `#`, hashed and
/// random values (`H`, `R`, which Prefect refuses too), and the seconds and year fields.
///
/// `dayOr` is Prefect's `day_or`: when both day-of-month and day-of-week are restricted,
/// a day matches if either does (`true`, the default, like cron) or only if both do
/// (`false`, like fcron: `0 9 8-14 * FRI` is the second Friday of the month).
public struct CronExpression: Sendable, Hashable, CustomStringConvertible {
    /// The expression as it was given.
    public let text: String
    /// Whether a restricted day-of-month and a restricted day-of-week are joined by OR.
    public let dayOr: Bool
    let minute: Field
    let hour: Field
    let dayOfMonth: Field
    let month: Field
    let dayOfWeek: Field

    public var description: String { text }

    /// How many years ahead `next(after:in:)` looks before deciding that no time matches, as
    /// croniter does: enough for February 29th on a Monday (every 28 years or so), and still
    /// a quick nil for February 30th.
    public static let searchYears = 50

    /// Reads a cron expression.
    ///
    /// - Throws: `invalidArgument` naming the field that is wrong and saying what it allows,
    ///   such as "Invalid cron expression '61 * * * *': minute 61 is out of range 0–59."
    public init(_ text: String, dayOr: Bool = true) throws(DroverError) {
        func invalid(_ reason: String) -> DroverError {
            .invalidArgument("Invalid cron expression '\(ResourceName.printable(text))': \(reason)")
        }
        var source = text.trimmingCharacters(in: .whitespacesAndNewlines).lowercased()
        if source.hasPrefix("@") {
            guard let fields = Self.macros[source] else {
                throw invalid(
                    "'\(source)' is not a macro Drover knows; use @yearly, @annually, @monthly, @weekly, "
                        + "@daily, @midnight or @hourly.")
            }
            source = fields
        }
        let tokens = source.split(whereSeparator: \.isCronSpace)
        guard tokens.count == 5 else {
            let fields = "minute hour day-of-month month day-of-week"
            switch tokens.count {
            case 0: throw invalid("it is empty; give 5 fields: \(fields).")
            case 6: throw invalid("a seconds field is not supported; give 5 fields: \(fields).")
            case 7: throw invalid("seconds and year fields are not supported; give 5 fields: \(fields).")
            default: throw invalid("expected 5 fields (\(fields)), got \(tokens.count).")
            }
        }
        self.text = text
        self.dayOr = dayOr
        minute = try Field(tokens[0], kind: .minute, otherDayField: nil, invalid: invalid)
        hour = try Field(tokens[1], kind: .hour, otherDayField: nil, invalid: invalid)
        dayOfMonth = try Field(tokens[2], kind: .dayOfMonth, otherDayField: tokens[4], invalid: invalid)
        month = try Field(tokens[3], kind: .month, otherDayField: nil, invalid: invalid)
        dayOfWeek = try Field(tokens[4], kind: .dayOfWeek, otherDayField: tokens[2], invalid: invalid)
    }

    private static let macros = [
        "@yearly": "0 0 1 1 *", "@annually": "0 0 1 1 *", "@monthly": "0 0 1 * *", "@weekly": "0 0 * * 0",
        "@daily": "0 0 * * *", "@midnight": "0 0 * * *", "@hourly": "0 * * * *",
    ]

    // MARK: Next times

    /// The first time strictly after `date` that the expression names on the wall clock of
    /// `timeZone`, or nil when none comes within `searchYears`.
    ///
    /// Around daylight-saving changes this gives what croniter 7.0.0 gives when started from
    /// a `zoneinfo` datetime in `timeZone`:
    /// - A wall time that happens twice (the clocks go back) matches twice: a daily `30 2 * * *`
    ///   in Paris runs at 02:30 summer time and again at 02:30 winter time, an hour later.
    /// - A wall time that does not exist (the clocks go forward) runs at the end of the gap,
    ///   03:00 in Paris for `30 2 * * *`, once however many of its times fall in the gap;
    ///   unless the hour field is `*`: then `30 * * * *` has no 02:30 that day and runs next
    ///   at 03:30, as if the missing hour had no times.
    ///
    /// One difference from croniter, on purpose: croniter looks for the second 02:30 only when
    /// its next candidate has another UTC offset than the start. So from 02:40 summer time on
    /// the day the clocks go back, it finds the second 02:30 of `30 2 27 10 *`, but for
    /// `30 2 27 6,10 *`, whose next run after that is in June (summer time again), it skips
    /// that second 02:30 and answers June. A repeated time is the same repeated time whatever
    /// follows it, so here it always matches.
    public func next(after date: Date, in timeZone: TimeZone) -> Date? {
        let now = date.timeIntervalSince1970
        // Years 1 to 9999, beyond any schedule and far from overflowing.
        guard now > -62_000_000_000, now < 253_000_000_000 else { return nil }
        let clock = ZoneClock(timeZone: timeZone)
        let second = Int(now.rounded(.down))
        let ahead = firstAhead(of: second, clock: clock)
        let again = firstRepeatedAgain(after: second, clock: clock)
        return [ahead, again].compactMap { $0 }.min().map { Date(timeIntervalSince1970: TimeInterval($0)) }
    }

    /// The first time after `second` (in epoch seconds) whose wall-clock time comes after the
    /// wall-clock time of `second`.
    private func firstAhead(of second: Int, clock: ZoneClock) -> Int? {
        let firstMinute = (second + clock.offset(at: second)).floorDivided(by: 60) + 1
        var cursor = WallTime(minutesSinceEpoch: firstMinute)
        let lastYear = cursor.year + Self.searchYears
        while let match = nextMatch(atOrAfter: cursor, throughYear: lastYear) {
            switch clock.instants(ofWallSecond: match.minutesSinceEpoch * 60) {
            case .unique(let instant) where instant > second:
                return instant
            case .repeated(let earlier, let later) where later > second:
                return earlier > second ? earlier : later
            case .skipped(let gapEnd) where !hour.isWildcard && gapEnd > second:
                return gapEnd
            default:
                cursor = WallTime(minutesSinceEpoch: match.minutesSinceEpoch + 1)
            }
        }
        return nil
    }

    /// When the clocks go back within the three hours after `second`, the wall-clock times
    /// from the change up to that of `second` come again: the first of them that matches.
    private func firstRepeatedAgain(after second: Int, clock: ZoneClock) -> Int? {
        let window = 3 * 3600
        let offset = clock.offset(at: second)
        let offsetAfter = clock.offset(at: second + window)
        guard offsetAfter < offset else { return nil }
        let change = clock.firstSecond(in: second...(second + window)) { $0 == offsetAfter }
        let from = WallTime(minutesSinceEpoch: (change + offsetAfter).ceilingDivided(by: 60))
        let upTo = (second + offset).floorDivided(by: 60)
        guard let match = nextMatch(atOrAfter: from, throughYear: from.year + 1), match.minutesSinceEpoch <= upTo
        else { return nil }
        let instant = match.minutesSinceEpoch * 60 - offsetAfter
        return instant > second && clock.offset(at: instant) == offsetAfter ? instant : nil
    }

    /// Up to `limit` times strictly after `start` and not after `end`, in order: `next(after:in:)`
    /// repeated.
    public func occurrences(after start: Date, until end: Date, in timeZone: TimeZone, limit: Int) -> [Date] {
        var result: [Date] = []
        var cursor = start
        while result.count < limit, let next = next(after: cursor, in: timeZone), next <= end {
            result.append(next)
            cursor = next
        }
        return result
    }

    /// The first wall-clock time at or after `start` that the fields match, found field by
    /// field: a month that does not match skips to the next one that does, and so on down to
    /// the minute.
    private func nextMatch(atOrAfter start: WallTime, throughYear lastYear: Int) -> WallTime? {
        var time = start
        while time.year <= lastYear {
            guard month.contains(time.month) else {
                if let next = month.first(atOrAfter: time.month + 1) {
                    time = WallTime(year: time.year, month: next, day: 1, hour: 0, minute: 0)
                } else {
                    let first = month.first(atOrAfter: 1) ?? 1
                    time = WallTime(year: time.year + 1, month: first, day: 1, hour: 0, minute: 0)
                }
                continue
            }
            guard dayMatches(time) else {
                time = time.startOfNextDay
                continue
            }
            guard hour.contains(time.hour) else {
                if let next = hour.first(atOrAfter: time.hour + 1) {
                    time.hour = next
                    time.minute = 0
                } else {
                    time = time.startOfNextDay
                }
                continue
            }
            guard minute.contains(time.minute) else {
                if let next = minute.first(atOrAfter: time.minute + 1) {
                    time.minute = next
                } else {
                    time = WallTime(minutesSinceEpoch: (time.minutesSinceEpoch.floorDivided(by: 60) + 1) * 60)
                }
                continue
            }
            return time
        }
        return nil
    }

    private func dayMatches(_ time: WallTime) -> Bool {
        let byDayOfMonth = dayOfMonth.contains(time.day)
        let byDayOfWeek = dayOfWeek.contains(time.weekday)
        if dayOr && !dayOfMonth.isWildcard && !dayOfWeek.isWildcard {
            return byDayOfMonth || byDayOfWeek
        }
        return byDayOfMonth && byDayOfWeek
    }
}

// MARK: - Fields

extension CronExpression {
    /// The values one field allows.
    struct Field: Sendable, Hashable {
        /// Bit `n` is set when the field allows the value `n`.
        let values: UInt64
        /// Whether the field counts as `*`: it matters for `dayOr`, and for a time that a
        /// spring-forward gap skips.
        let isWildcard: Bool

        func contains(_ value: Int) -> Bool { values & (1 << UInt64(value)) != 0 }

        /// The smallest allowed value at or after `value`.
        func first(atOrAfter value: Int) -> Int? {
            guard value < 64 else { return nil }
            let rest = (values >> UInt64(value)) << UInt64(value)
            return rest == 0 ? nil : rest.trailingZeroBitCount
        }

        enum Kind {
            case minute, hour, dayOfMonth, month, dayOfWeek

            var name: String {
                switch self {
                case .minute: "minute"
                case .hour: "hour"
                case .dayOfMonth: "day-of-month"
                case .month: "month"
                case .dayOfWeek: "day-of-week"
                }
            }

            var bounds: ClosedRange<Int> {
                switch self {
                case .minute: 0...59
                case .hour: 0...23
                case .dayOfMonth: 1...31
                case .month: 1...12
                case .dayOfWeek: 0...6
                }
            }

            var allowed: String {
                switch self {
                case .minute: "0–59"
                case .hour: "0–23"
                case .dayOfMonth: "1–31"
                case .month: "1–12 or JAN–DEC"
                case .dayOfWeek: "0–7 (0 and 7 are Sunday) or SUN–SAT"
                }
            }

            var names: [String] {
                switch self {
                case .month: ["jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec"]
                case .dayOfWeek: ["sun", "mon", "tue", "wed", "thu", "fri", "sat"]
                default: []
                }
            }
        }

        /// Reads one field, lower-cased. `otherDayField` is the other day field's text, for
        /// croniter's rule on when a day field listing every value counts as `*`.
        init(
            _ token: Substring, kind: Kind, otherDayField: Substring?, invalid: (String) -> DroverError
        ) throws(DroverError) {
            let all = (kind.bounds.lowerBound...kind.bounds.upperBound).reduce(UInt64(0)) { $0 | 1 << UInt64($1) }
            if token == "?" {
                guard kind == .dayOfMonth || kind == .dayOfWeek else {
                    throw invalid("'?' is only allowed in day-of-month and day-of-week, not in \(kind.name).")
                }
                self.init(values: all, isWildcard: true)
                return
            }
            var values: UInt64 = 0
            var hasStar = false
            for element in token.split(separator: ",", omittingEmptySubsequences: false) {
                if element == "*" {
                    hasStar = true
                    continue
                }
                for value in try Self.values(of: element, kind: kind, invalid: invalid) {
                    values |= 1 << UInt64(value)
                }
            }
            if hasStar {
                self.init(values: all, isWildcard: true)
            } else if values == all {
                // croniter: listing every day counts as `*` only if the other day field has one.
                self.init(values: all, isWildcard: otherDayField.map { $0.contains("*") } ?? true)
            } else {
                self.init(values: values, isWildcard: false)
            }
        }

        private init(values: UInt64, isWildcard: Bool) {
            self.values = values
            self.isWildcard = isWildcard
        }

        /// The values of one list element: `5`, `1-5`, `*/15`, `1-30/2`, `10/5`, `MON-FRI`.
        private static func values(
            of element: Substring, kind: Kind, invalid: (String) -> DroverError
        ) throws(DroverError) -> [Int] {
            let bounds = kind.bounds
            let shown = "\(kind.name) '\(element)'"
            try refuseExtensions(element, kind: kind, invalid: invalid)
            if element == "?" {
                throw invalid("'?' must stand alone in its field, not in a list.")
            }
            // `*/n` is `min-max/n`; `a/n` is `a-max/n`.
            var text = String(element)
            if text.hasPrefix("*/") {
                text = "\(bounds.lowerBound)-\(bounds.upperBound)/" + text.dropFirst(2)
            }
            var startWithStep = false
            var range = Self.rangeParts(text)
            if range == nil, let slash = element.lastIndex(of: "/"), slash != element.startIndex,
                element.index(after: slash) != element.endIndex
            {
                let step = element[element.index(after: slash)...]
                range = Self.rangeParts(element[..<slash] + "-\(bounds.upperBound)/" + step)
                startWithStep = range != nil
            }

            guard let range else {
                if text.hasPrefix("-") {
                    throw invalid("\(shown) is negative; \(kind.name) allows \(kind.allowed).")
                }
                let value = try Self.value(Substring(text), kind: kind, element: element, invalid: invalid)
                guard bounds.contains(value) else {
                    throw invalid("\(kind.name) \(element) is out of range \(kind.allowed).")
                }
                return [value]
            }

            var low = try Self.value(range.low, kind: kind, element: element, invalid: invalid)
            var high = try Self.value(range.high, kind: kind, element: element, invalid: invalid)
            // Steps past the width of any field all mean the same; cap them to stay far from overflow.
            let step = range.step.map { Int($0).map { min($0, 1000) } ?? 1000 } ?? 1
            guard step > 0 else {
                throw invalid("\(shown) has a step of 0; a step must be at least 1.")
            }
            guard max(low, high) <= bounds.upperBound, min(low, high) >= bounds.lowerBound else {
                let culprit = max(low, high) > bounds.upperBound ? max(low, high) : min(low, high)
                throw invalid("in \(shown), \(culprit) is out of range \(kind.allowed).")
            }
            if low == high {
                if startWithStep { return [low] }
                // croniter: a range with equal ends, written as one, is the whole field.
                (low, high) = (bounds.lowerBound, bounds.upperBound)
            }
            if low <= high {
                return Array(stride(from: low, through: high, by: step))
            }
            // A range that wraps: to the end of the field, then on from its start, the step
            // continued as croniter continues it.
            var values = Array(stride(from: low, through: bounds.upperBound, by: step))
            var skip = 0
            if let last = values.last {
                let alreadySkipped = bounds.upperBound - last
                if last - bounds.lowerBound + step > bounds.count && alreadySkipped < step {
                    skip = step - alreadySkipped
                }
            }
            values += stride(from: bounds.lowerBound + skip, through: high, by: step)
            return values
        }

        /// `low-high` or `low-high/step`, as croniter's `^([^-]+)-([^-/]+)(/(\d+))?$` splits it.
        private static func rangeParts(_ text: String) -> (low: Substring, high: Substring, step: Substring?)? {
            guard let dash = text.firstIndex(of: "-"), dash != text.startIndex else { return nil }
            let low = text[..<dash]
            let rest = text[text.index(after: dash)...]
            guard !rest.contains("-") else { return nil }
            if let slash = rest.firstIndex(of: "/") {
                let high = rest[..<slash]
                let step = rest[rest.index(after: slash)...]
                guard !high.isEmpty, !step.isEmpty, step.allSatisfy(\.isASCIIDigit) else { return nil }
                return (low, high, step)
            }
            return rest.isEmpty ? nil : (low, rest, nil)
        }

        /// A number or, in month and day-of-week, a name; day-of-week 7 is Sunday, 0.
        private static func value(
            _ text: Substring, kind: Kind, element: Substring, invalid: (String) -> DroverError
        ) throws(DroverError) -> Int {
            if let index = kind.names.firstIndex(of: String(text)) {
                return kind == .month ? index + 1 : index
            }
            guard !text.isEmpty, text.allSatisfy(\.isASCIIDigit) else {
                let what = kind.names.isEmpty ? "a number" : "a number or a name"
                throw invalid(
                    "\(kind.name) '\(element)' is not \(what), a range (a-b) or a step (*/n, a-b/n, a/n); "
                        + "\(kind.name) allows \(kind.allowed).")
            }
            guard let value = Int(text) else {
                throw invalid("\(kind.name) \(text) is out of range \(kind.allowed).")
            }
            return kind == .dayOfWeek && value == 7 ? 0 : value
        }

        /// croniter's extensions, refused by name.
        private static func refuseExtensions(
            _ element: Substring, kind: Kind, invalid: (String) -> DroverError
        ) throws(DroverError) {
            // No month or weekday name starts with h or r.
            if element.first == "h" || element.first == "r" {
                throw invalid("hashed (H) and random (R) values are not supported.")
            }
            if element.contains("#") {
                throw invalid("'#' (the nth weekday of the month) is not supported.")
            }
            // No weekday name has an l; day-of-month has no names at all.
            if (kind == .dayOfWeek || kind == .dayOfMonth) && element.contains("l") {
                throw invalid("'L' (the last day or weekday of the month) is not supported.")
            }
            if kind == .dayOfMonth && element.contains("w") {
                throw invalid("'W' (the weekday nearest a day) is not supported.")
            }
        }
    }
}

// MARK: - Wall-clock times

extension CronExpression {
    /// A minute on a wall clock, with no time zone: the proleptic Gregorian calendar.
    struct WallTime: Hashable {
        var year: Int
        var month: Int
        var day: Int
        var hour: Int
        var minute: Int

        init(year: Int, month: Int, day: Int, hour: Int, minute: Int) {
            self.year = year
            self.month = month
            self.day = day
            self.hour = hour
            self.minute = minute
        }

        /// The wall time `minutes` after 1970-01-01 00:00.
        init(minutesSinceEpoch minutes: Int) {
            let days = minutes.floorDivided(by: 1440)
            let inDay = minutes - days * 1440
            // Howard Hinnant's civil_from_days.
            let z = days + 719_468
            let era = z.floorDivided(by: 146_097)
            let dayOfEra = z - era * 146_097
            let yearOfEra = (dayOfEra - dayOfEra / 1460 + dayOfEra / 36_524 - dayOfEra / 146_096) / 365
            let dayOfYear = dayOfEra - (365 * yearOfEra + yearOfEra / 4 - yearOfEra / 100)
            let shiftedMonth = (5 * dayOfYear + 2) / 153
            day = dayOfYear - (153 * shiftedMonth + 2) / 5 + 1
            month = shiftedMonth < 10 ? shiftedMonth + 3 : shiftedMonth - 9
            year = yearOfEra + era * 400 + (month <= 2 ? 1 : 0)
            hour = inDay / 60
            minute = inDay % 60
        }

        /// Days since 1970-01-01: Howard Hinnant's days_from_civil.
        var daysSinceEpoch: Int {
            let y = month <= 2 ? year - 1 : year
            let era = y.floorDivided(by: 400)
            let yearOfEra = y - era * 400
            let dayOfYear = (153 * (month > 2 ? month - 3 : month + 9) + 2) / 5 + day - 1
            let dayOfEra = yearOfEra * 365 + yearOfEra / 4 - yearOfEra / 100 + dayOfYear
            return era * 146_097 + dayOfEra - 719_468
        }

        var minutesSinceEpoch: Int { daysSinceEpoch * 1440 + hour * 60 + minute }

        /// 0 for Sunday to 6 for Saturday.
        var weekday: Int { (daysSinceEpoch + 4).floorModulo(7) }

        var startOfNextDay: WallTime { WallTime(minutesSinceEpoch: (daysSinceEpoch + 1) * 1440) }
    }

    /// UTC offsets of a time zone, in whole seconds.
    struct ZoneClock {
        let timeZone: TimeZone

        func offset(at second: Int) -> Int {
            timeZone.secondsFromGMT(for: Date(timeIntervalSince1970: TimeInterval(second)))
        }

        /// What a wall-clock time (in seconds since 1970-01-01 00:00 on the wall clock) names.
        enum Instants {
            /// One instant, in seconds since the epoch.
            case unique(Int)
            /// The clocks go back: the time comes twice.
            case repeated(Int, Int)
            /// The clocks go forward over it: it never comes. The instant is the first
            /// whole wall-clock minute after the gap, croniter's replacement.
            case skipped(gapEnd: Int)
        }

        func instants(ofWallSecond wall: Int) -> Instants {
            // Offsets stay within a day of UTC, and offset changes are months apart.
            let before = offset(at: wall - 86_400)
            let after = offset(at: wall + 86_400)
            if before == after { return .unique(wall - before) }
            let candidates = Set([wall - before, wall - after]).filter { offset(at: $0) == wall - $0 }.sorted()
            if candidates.count == 2 { return .repeated(candidates[0], candidates[1]) }
            if let only = candidates.first { return .unique(only) }
            // In the gap: find the change, then the first whole minute on the clock after it.
            let low = min(wall - before, wall - after)
            let high = max(wall - before, wall - after)
            let offsetAfter = offset(at: high)
            let change = firstSecond(in: low...high) { $0 == offsetAfter }
            return .skipped(gapEnd: (change + offsetAfter).ceilingDivided(by: 60) * 60 - offsetAfter)
        }

        /// The first second in `range` whose offset satisfies `isAfterChange`, which is false
        /// at the start of the range and true at its end.
        func firstSecond(in range: ClosedRange<Int>, where isAfterChange: (Int) -> Bool) -> Int {
            var low = range.lowerBound
            var high = range.upperBound
            while high - low > 1 {
                let middle = low + (high - low) / 2
                if isAfterChange(offset(at: middle)) { high = middle } else { low = middle }
            }
            return high
        }
    }
}

extension Character {
    /// The white space that separates cron fields: ASCII only, as croniter splits them.
    fileprivate var isCronSpace: Bool {
        unicodeScalars.allSatisfy { [" ", "\t", "\n", "\r", "\u{0B}", "\u{0C}"].contains($0) }
    }

    fileprivate var isASCIIDigit: Bool { isASCII && isNumber }
}

extension Int {
    fileprivate func floorDivided(by divisor: Int) -> Int {
        let quotient = self / divisor
        return self % divisor < 0 ? quotient - 1 : quotient
    }

    fileprivate func ceilingDivided(by divisor: Int) -> Int {
        -(-self).floorDivided(by: divisor)
    }

    fileprivate func floorModulo(_ divisor: Int) -> Int {
        self - floorDivided(by: divisor) * divisor
    }
}
