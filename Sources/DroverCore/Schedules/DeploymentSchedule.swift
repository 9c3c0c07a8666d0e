import Foundation

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
