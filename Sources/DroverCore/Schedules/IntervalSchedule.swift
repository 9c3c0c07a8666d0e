import Foundation

/// Runs every `seconds` from an anchor, in a time zone: Prefect's `IntervalSchedule`.
///
/// As in Prefect, the interval splits into whole days and the seconds left over. The days
/// are added on the calendar of `timeZone`, so a daily (or weekly…) schedule keeps its wall
/// time across daylight-saving changes; the seconds are added as elapsed time, so an
/// interval under a day follows UTC. Occurrence `k` is the anchor plus `k` times each part,
/// for any integer `k`: an anchor in the future counts backwards too. A wall time that does
/// not exist (a spring-forward gap) moves forward by the gap, as Foundation's calendar does.
public struct IntervalSchedule: Sendable, Hashable {
    /// The interval in whole seconds, at least 1.
    public let seconds: Int
    public let anchor: Date
    public let timeZone: TimeZone

    /// The longest interval accepted: one year of days.
    public static let maximumSeconds = 366 * 86_400

    public init(seconds: Int, anchor: Date, timeZone: TimeZone) throws(DroverError) {
        guard (1...Self.maximumSeconds).contains(seconds) else {
            throw .invalidArgument(
                "An interval must be from 1 second to \(Self.maximumSeconds / 86_400) days; got \(seconds) seconds.")
        }
        self.seconds = seconds
        self.anchor = anchor
        self.timeZone = timeZone
    }

    /// Occurrence `k`: the anchor plus `k` intervals.
    public func occurrence(_ k: Int) -> Date {
        let days = seconds / 86_400
        let rest = seconds % 86_400
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = timeZone
        let shifted = days == 0 ? anchor : calendar.date(byAdding: .day, value: k * days, to: anchor) ?? anchor
        return shifted.addingTimeInterval(Double(k * rest))
    }

    /// Up to `limit` occurrences strictly after `date` and not after `until`, in order.
    public func occurrences(after date: Date, until: Date? = nil, limit: Int) -> [Date] {
        guard limit > 0 else { return [] }
        // An estimate, then a few steps: calendar days drift from elapsed time by at most
        // the zone's daylight-saving offset.
        let estimate = (date.timeIntervalSince(anchor) / Double(seconds)).rounded(.down)
        guard estimate.magnitude < 1e12 else { return [] }
        var k = Int(estimate)
        for _ in 0..<64 where occurrence(k) > date { k -= 1 }
        for _ in 0..<64 where occurrence(k) <= date { k += 1 }
        var result: [Date] = []
        while result.count < limit {
            let next = occurrence(k)
            if let until, next > until { break }
            if next > date { result.append(next) }
            k += 1
        }
        return result
    }

    /// Reads an interval as people write it: seconds (`3600`), an ISO 8601 duration
    /// (`PT10M`, `P1D`, `P1DT12H`), or `H:MM:SS` (`1:30:00`); as Prefect accepts them.
    public static func parseSeconds(_ text: String) throws(DroverError) -> Int {
        let trimmed = text.trimmingCharacters(in: .whitespaces)
        let invalid = DroverError.invalidArgument(
            "Invalid interval '\(text)': give seconds (3600), an ISO 8601 duration (PT10M, P1D) or H:MM:SS (1:30:00).")
        if let whole = Int(trimmed) { return whole }
        if let value = Double(trimmed), value == value.rounded(), value.magnitude < 1e12 { return Int(value) }
        if trimmed.contains(":") {
            let parts = trimmed.split(separator: ":", omittingEmptySubsequences: false)
            guard parts.count == 3, let hours = Int(parts[0]), let minutes = Int(parts[1]), let secs = Int(parts[2]),
                hours >= 0, (0..<60).contains(minutes), (0..<60).contains(secs), parts[1].count == 2, parts[2].count == 2
            else { throw invalid }
            return hours * 3600 + minutes * 60 + secs
        }
        guard trimmed.uppercased().hasPrefix("P") else { throw invalid }
        var total = 0
        var number = ""
        var inTime = false
        var seenUnit = false
        var timeUnits = 0
        for character in trimmed.uppercased().dropFirst() {
            switch character {
            case "0"..."9": number.append(character)
            case "T":
                guard !inTime, number.isEmpty else { throw invalid }
                inTime = true
            case "W", "D", "H", "M", "S":
                guard let value = Int(number) else { throw invalid }
                let unit: Int
                switch (character, inTime) {
                case ("W", false): unit = 7 * 86_400
                case ("D", false): unit = 86_400
                case ("H", true): unit = 3600
                case ("M", true): unit = 60
                case ("S", true): unit = 1
                default: throw invalid
                }
                total += value * unit
                number = ""
                seenUnit = true
                if inTime { timeUnits += 1 }
            default: throw invalid
            }
        }
        guard seenUnit, number.isEmpty, !inTime || timeUnits > 0 else { throw invalid }
        return total
    }
}
