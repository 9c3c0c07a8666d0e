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

    public init(id: UUID = UUID(), slug: String, kind: ScheduleKind, active: Bool = true, parameters: [String: JSONValue] = [:]) {
        self.id = id
        self.slug = slug
        self.kind = kind
        self.active = active
        self.parameters = parameters
    }
}
