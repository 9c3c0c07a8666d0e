import Foundation

/// When a run should start, as people type it: a delay (`--start-in 1h30m`) or an instant
/// (`--start-at "2026-11-29 10:00"`).
public enum StartTime {
    /// The longest delay accepted: 10 years of seconds, far beyond any sensible schedule and
    /// far from overflowing.
    public static let maximumDelaySeconds: Int64 = 10 * 366 * 86_400

    private static let delayFormats =
        "Use a whole number of seconds (90) or whole numbers with the units s, m, h and d, "
        + "largest first (30s, 5m, 1h30m, 2d)."

    /// Reads a delay: a whole number of seconds (`90`), or whole numbers each followed by a
    /// unit, `d`, `h`, `m` or `s`, from the largest unit to the smallest, each at most once
    /// (`30s`, `5m`, `1h30m`, `2d 12h`). Spaces between parts and upper-case units are
    /// fine. Fractions (`1.5h`) are refused: write `1h30m`.
    ///
    /// A day is always 86,400 seconds: a delay is elapsed time, not a calendar step, so
    /// daylight saving changes do not stretch or shrink it.
    ///
    /// - Throws: `invalidArgument` for an empty, negative, fractional or too long delay, an
    ///   unknown or repeated unit, or units out of order, saying which forms are accepted.
    public static func parseDelay(_ text: String) throws(DroverError) -> Duration {
        let trimmed = text.trimmingCharacters(in: .whitespaces)
        func invalid(_ reason: String) -> DroverError {
            .invalidArgument("Invalid delay '\(ResourceName.printable(text))': \(reason) \(delayFormats)")
        }
        if trimmed.isEmpty {
            throw .invalidArgument("A delay cannot be empty. \(delayFormats)")
        }
        if trimmed.hasPrefix("-") {
            throw invalid("a delay cannot be negative.")
        }
        let units: [(name: Character, seconds: Int64)] = [("d", 86_400), ("h", 3_600), ("m", 60), ("s", 1)]
        var rest = Substring(trimmed.lowercased())
        var total: Int64 = 0
        var previousUnit: Int?
        while !rest.isEmpty {
            rest = rest.drop(while: { $0 == " " })
            let digits = rest.prefix(while: { $0.isASCII && $0.isNumber })
            guard !digits.isEmpty else {
                throw invalid("expected a number at '\(rest)'.")
            }
            rest = rest.dropFirst(digits.count)
            if rest.first == "." || rest.first == "," {
                throw invalid("use whole numbers for each unit, such as 1h30m rather than 1.5h.")
            }
            guard let number = Int64(digits), number <= maximumDelaySeconds else {
                throw invalid("the longest delay accepted is \(maximumDelaySeconds) seconds (about 10 years).")
            }
            let unitText = rest.drop(while: { $0 == " " }).prefix(while: { $0.isLetter })
            if !unitText.isEmpty {
                rest = rest.drop(while: { $0 == " " }).dropFirst(unitText.count)
            }
            let multiplier: Int64
            if let index = units.firstIndex(where: { String($0.name) == unitText }) {
                if let previousUnit, index <= previousUnit {
                    throw invalid("give each unit at most once, from the largest to the smallest.")
                }
                previousUnit = index
                multiplier = units[index].seconds
            } else if !unitText.isEmpty {
                throw invalid("unknown unit '\(unitText)'.")
            } else if let next = rest.first, next != " " {
                throw invalid("unexpected '\(next)'.")
            } else if previousUnit != nil || !rest.isEmpty {
                throw invalid("the number \(digits) has no unit.")
            } else {
                multiplier = 1
            }
            total += number * multiplier
            guard total <= maximumDelaySeconds else {
                throw invalid("the longest delay accepted is \(maximumDelaySeconds) seconds (about 10 years).")
            }
            if let next = rest.first, next != " ", !(next.isASCII && next.isNumber) {
                throw invalid("unexpected '\(next)'.")
            }
        }
        return .seconds(total)
    }

    /// Reads an instant, in one of these forms:
    ///
    /// - ISO 8601 with `Z` or an offset: `2026-11-29T10:00:00Z`,
    ///   `2026-11-29T10:00:00.250+01:00` (also `+0100` and `+01`);
    /// - a local date and time, read in `timeZone`: `2026-11-29 10:00`,
    ///   `2026-11-29T10:00:30` (seconds and a fraction of them optional);
    /// - `now`, which returns `now`.
    ///
    /// A local time that occurs twice (when clocks go back) is the first of the two; one
    /// that never occurs (when clocks go forward) is refused.
    ///
    /// - Throws: `invalidArgument` naming the accepted forms, or the field out of range.
    public static func parseDate(_ text: String, now: Date, timeZone: TimeZone) throws(DroverError) -> Date {
        let trimmed = text.trimmingCharacters(in: .whitespaces)
        if trimmed.lowercased() == "now" { return now }
        let shown = ResourceName.printable(text)
        guard let stamp = Stamp(parsing: trimmed) else {
            throw .invalidArgument(
                "Could not read '\(shown)' as a date and time. Use ISO 8601 with Z or an offset "
                    + "(2026-11-29T10:00:00Z, 2026-11-29T10:00:00+01:00), a local date and time in "
                    + "\(timeZone.identifier) (2026-11-29 10:00, 2026-11-29T10:00:30), or 'now'.")
        }
        if let problem = stamp.outOfRange {
            throw .invalidArgument("Invalid date and time '\(shown)': \(problem)")
        }
        if let offset = stamp.offsetSeconds {
            return stamp.date(minusSeconds: offset)
        }
        // The offsets in force around the wall time; a candidate is right when the zone
        // really uses that offset at the instant it gives.
        let wall = Date(timeIntervalSince1970: Double(stamp.wallSeconds))
        let offsets = Set([-86_400.0, 0, 86_400].map { timeZone.secondsFromGMT(for: wall.addingTimeInterval($0)) })
        let instants = offsets.map { (offset: $0, instant: stamp.date(minusSeconds: $0)) }
            .filter { timeZone.secondsFromGMT(for: $0.instant) == $0.offset }
            .map(\.instant)
        guard let earliest = instants.min() else {
            throw .invalidArgument(
                "'\(shown)' does not exist in \(timeZone.identifier): the clocks skip that time "
                    + "(as when daylight saving time starts). Give a later time, or an offset such as "
                    + "2026-11-29T10:00:00+01:00.")
        }
        return earliest
    }

    /// The fields of a written date and time, before they are checked.
    private struct Stamp {
        var year = 0, month = 0, day = 0, hour = 0, minute = 0, second = 0
        var fraction = 0.0
        var offsetSeconds: Int?

        /// Reads `YYYY-MM-DD[T ]HH:MM[:SS[.fff]][Z|±HH[:MM]]`, or nil.
        init?(parsing text: String) {
            var rest = Substring(text)
            func number(_ width: Int) -> Int? {
                let digits = rest.prefix(width)
                guard digits.count == width, digits.allSatisfy({ $0.isASCII && $0.isNumber }) else { return nil }
                rest = rest.dropFirst(width)
                return Int(digits)
            }
            func skip(_ options: Set<Character>) -> Bool {
                guard let first = rest.first, options.contains(first) else { return false }
                rest = rest.dropFirst()
                return true
            }
            guard let year = number(4), skip(["-"]), let month = number(2), skip(["-"]), let day = number(2),
                skip(["T", "t", " "]), let hour = number(2), skip([":"]), let minute = number(2)
            else { return nil }
            (self.year, self.month, self.day, self.hour, self.minute) = (year, month, day, hour, minute)
            if skip([":"]) {
                guard let second = number(2) else { return nil }
                self.second = second
                if skip([".", ","]) {
                    let digits = rest.prefix(while: { $0.isASCII && $0.isNumber })
                    guard !digits.isEmpty, let fraction = Double("0." + digits) else { return nil }
                    self.fraction = fraction
                    rest = rest.dropFirst(digits.count)
                }
            }
            if skip(["Z", "z"]) {
                offsetSeconds = 0
            } else if let sign = rest.first, sign == "+" || sign == "-" {
                rest = rest.dropFirst()
                guard let hours = number(2), hours <= 23 else { return nil }
                var minutes = 0
                if !rest.isEmpty {
                    _ = skip([":"])
                    guard let value = number(2), value <= 59 else { return nil }
                    minutes = value
                }
                offsetSeconds = (sign == "-" ? -1 : 1) * (hours * 3_600 + minutes * 60)
            }
            guard rest.isEmpty else { return nil }
        }

        /// What is out of range, as the end of a sentence, or nil when every field is valid.
        var outOfRange: String? {
            let isLeap = year % 4 == 0 && (year % 100 != 0 || year % 400 == 0)
            let monthLengths = [31, isLeap ? 29 : 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31]
            if year < 1 { return "the year must be 0001 or later." }
            if !(1...12).contains(month) { return "the month must be 01 to 12." }
            if !(1...monthLengths[month - 1]).contains(day) {
                return "that month has days 01 to \(monthLengths[month - 1])."
            }
            if hour > 23 { return "the hour must be 00 to 23." }
            if minute > 59 { return "the minutes must be 00 to 59." }
            if second > 59 { return "the seconds must be 00 to 59." }
            return nil
        }

        /// The written date and time as seconds since 1970 as if it were UTC.
        var wallSeconds: Int {
            // Days from the civil date (Howard Hinnant's algorithm, proleptic Gregorian).
            let shiftedYear = month <= 2 ? year - 1 : year
            let era = (shiftedYear >= 0 ? shiftedYear : shiftedYear - 399) / 400
            let yearOfEra = shiftedYear - era * 400
            let dayOfYear = (153 * (month > 2 ? month - 3 : month + 9) + 2) / 5 + day - 1
            let dayOfEra = yearOfEra * 365 + yearOfEra / 4 - yearOfEra / 100 + dayOfYear
            let days = era * 146_097 + dayOfEra - 719_468
            return days * 86_400 + hour * 3_600 + minute * 60 + second
        }

        /// The instant of the written time at a zone `offset` seconds ahead of UTC.
        func date(minusSeconds offset: Int) -> Date {
            Date(timeIntervalSince1970: Double(wallSeconds - offset) + fraction)
        }
    }
}
