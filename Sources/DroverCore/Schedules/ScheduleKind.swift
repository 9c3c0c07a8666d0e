import Foundation

/// When a deployment runs on its own: an interval, a cron expression or an RFC 5545 rule.
public enum ScheduleKind: Sendable, Hashable {
    case interval(IntervalSchedule)
    case cron(CronExpression, timeZone: TimeZone)
    case rrule(RecurrenceRule)

    /// Up to `limit` times strictly after `date` and not after `until`, in order.
    public func occurrences(after date: Date, until: Date?, limit: Int) -> [Date] {
        switch self {
        case .interval(let schedule): schedule.occurrences(after: date, until: until, limit: limit)
        case .cron(let expression, let zone):
            expression.occurrences(after: date, until: until ?? .distantFuture, in: zone, limit: limit)
        case .rrule(let rule): rule.occurrences(after: date, until: until, limit: limit)
        }
    }
}

extension ScheduleKind {
    /// The time zone named `name` (IANA), UTC for "", or throws saying what to give.
    public static func timeZone(named name: String) throws(DroverError) -> TimeZone {
        guard !name.isEmpty else { return TimeZone(identifier: "UTC")! }
        guard let zone = TimeZone(identifier: name) else {
            throw .invalidArgument(
                "Unknown time zone '\(ResourceName.printable(name))'; give an IANA name such as Europe/Paris or America/New_York.")
        }
        return zone
    }

    /// The IANA name of `zone`, with UTC called UTC (Foundation on Linux calls it GMT).
    public static func name(of zone: TimeZone) -> String {
        zone.identifier == "GMT" ? "UTC" : zone.identifier
    }

    /// The schedule as a JSON object, for storage: `ScheduleKind(json:)` reads it back.
    public var json: JSONValue {
        switch self {
        case .interval(let schedule):
            [
                "interval": .number(Double(schedule.seconds)), "anchor_date": .number(schedule.anchor.timeIntervalSince1970),
                "timezone": .string(Self.name(of: schedule.timeZone)),
            ]
        case .cron(let expression, let zone):
            ["cron": .string(expression.text), "day_or": .bool(expression.dayOr), "timezone": .string(Self.name(of: zone))]
        case .rrule(let rule):
            [
                "rrule": .string(rule.text), "default_start": .number(rule.start.timeIntervalSince1970),
                "timezone": .string(Self.name(of: rule.timeZone)),
            ]
        }
    }

    public init(json: JSONValue) throws(DroverError) {
        let zone = try Self.timeZone(named: json["timezone"]?.stringValue ?? "")
        if case .number(let seconds)? = json["interval"], case .number(let anchor)? = json["anchor_date"] {
            self = .interval(try IntervalSchedule(seconds: Int(seconds), anchor: Date(timeIntervalSince1970: anchor), timeZone: zone))
        } else if let text = json["cron"]?.stringValue {
            let dayOr = if case .bool(let value)? = json["day_or"] { value } else { true }
            self = .cron(try CronExpression(text, dayOr: dayOr), timeZone: zone)
        } else if let text = json["rrule"]?.stringValue, case .number(let start)? = json["default_start"] {
            self = .rrule(try RecurrenceRule(text, defaultStart: Date(timeIntervalSince1970: start), timeZone: zone))
        } else {
            throw DroverError(.internal, "A stored schedule is neither an interval, a cron expression nor an rrule.")
        }
    }
}
