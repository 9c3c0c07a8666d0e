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

/// One of a deployment's schedules: Prefect's `DeploymentSchedule`.
///
/// Its `slug` is unique within the deployment and never changes, so the runs it made are
/// known across restarts and redeploys: one run per (deployment, slug, scheduled time).
public struct DeploymentSchedule: Sendable, Hashable, Identifiable {
    public let id: UUID
    public let slug: String
    public var kind: ScheduleKind
    public var active: Bool
    /// Overrides of the deployment's parameters for this schedule's runs.
    public var parameters: [String: JSONValue]
    /// The scheduler's mark: runs exist (or were skipped) for every time up to this one.
    /// Saved with the runs it made, so a restart neither makes them again nor misses any.
    public var scheduledThrough: Date?
    /// The latest mark it ever had; unlike the mark, it never moves back. A time after the
    /// mark but not after this one may already have a run (a run cancelled by hand, say),
    /// so the scheduler asks the store before it makes one there.
    public var madeThrough: Date?

    public init(
        id: UUID = UUID(), slug: String, kind: ScheduleKind, active: Bool = true, parameters: [String: JSONValue] = [:],
        scheduledThrough: Date? = nil, madeThrough: Date? = nil
    ) {
        self.id = id
        self.slug = slug
        self.kind = kind
        self.active = active
        self.parameters = parameters
        self.scheduledThrough = scheduledThrough
        self.madeThrough = madeThrough
    }

    /// Moves the mark back to `now`, so the schedule makes its runs from there again (after
    /// it resumed, or its future runs were withdrawn), remembering how far it had got.
    public mutating func restart(from now: Date) {
        if let mark = scheduledThrough { madeThrough = max(madeThrough ?? mark, mark) }
        scheduledThrough = now
    }

    /// A slug for a new schedule of `kind` that none of `taken` has: "interval-3600",
    /// "cron-0-9-x-x-1-5", "rrule", then "-2", "-3", … on a clash.
    public static func defaultSlug(for kind: ScheduleKind, taken: Set<String>) -> String {
        let base: String
        switch kind {
        case .interval(let schedule): base = "interval-\(schedule.seconds)"
        case .cron(let expression, _):
            let words = expression.text.lowercased().map { character -> Character in
                character.isLetter || character.isNumber ? character : character == "*" ? "x" : "-"
            }
            let joined = String(words).split(separator: "-").joined(separator: "-")
            base = "cron-" + String(joined.prefix(40))
        case .rrule: base = "rrule"
        }
        var slug = base
        var suffix = 2
        while taken.contains(slug) {
            slug = "\(base)-\(suffix)"
            suffix += 1
        }
        return slug
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
