import Foundation

/// What the scheduler does for one schedule at one moment: which runs to make, and how far
/// its mark moves.
///
/// The mark (`DeploymentSchedule.scheduledThrough`) says that every time up to it has its
/// run, or was skipped on purpose. A plan makes runs only for times after the mark and moves
/// the mark past them, and the two are saved together, so planning again — after a restart,
/// or a second later — never makes a run twice. Times between the mark and now were missed
/// (the server was down longer than the runs made ahead reached); the catch-up policy says
/// which of them still get a run.
public struct SchedulePlan: Sendable, Hashable {
    /// Missed times that get a run, oldest first; they are due at once.
    public var missed: [Date]
    /// Upcoming times that get a run, in order.
    public var upcoming: [Date]
    /// How many missed times were skipped, as far as was counted (at most `countLimit`).
    public var skipped: Int
    /// The new mark.
    public var scheduledThrough: Date

    /// Every time that gets a run, in order.
    public var times: [Date] { missed + upcoming }

    /// The most missed times counted to find the newest or to skip them.
    public static let countLimit = 100_000

    /// Plans `kind` at `now`. A schedule without a mark starts from now: nothing before it is missed.
    public init(
        kind: ScheduleKind, scheduledThrough mark: Date?, now: Date, horizon: ScheduleHorizon, catchUp: CatchUpPolicy
    ) {
        let mark = mark ?? now
        var missed: [Date] = []
        var skipped = 0
        if mark < now {
            // Older than the horizon's reach is never caught up: it bounds the work of a long outage.
            let start = max(mark, now.addingTimeInterval(-horizon.maxTime))
            let times = kind.occurrences(after: start, until: now, limit: Self.countLimit)
            switch catchUp {
            case .all:
                missed = Array(times.prefix(horizon.maxRuns))
                skipped = times.count - missed.count
            case .latest:
                missed = Self.latest(of: kind, after: start, until: now).map { [$0] } ?? []
                skipped = max(0, times.count - 1)
            case .none:
                skipped = times.count
            }
        }
        let ahead = horizon.runs(of: kind.occurrences(after: now, until: nil, limit: horizon.ceiling), now: now)
        self.missed = missed
        self.upcoming = ahead.filter { $0 > mark }
        self.skipped = skipped
        self.scheduledThrough = max(mark, now, ahead.last ?? now)
    }
}

extension SchedulePlan {
    /// The last time of `kind` after `start` and not after `end`, looked for in windows that
    /// grow back from `end`, so a schedule every second after a long outage costs no more
    /// than one every day.
    static func latest(of kind: ScheduleKind, after start: Date, until end: Date) -> Date? {
        for window: TimeInterval in [60, 3600, 86_400, .infinity] {
            let from = window.isFinite ? max(start, end.addingTimeInterval(-window)) : start
            if let last = kind.occurrences(after: from, until: end, limit: countLimit).last { return last }
            if from == start { return nil }
        }
        return nil
    }
}
