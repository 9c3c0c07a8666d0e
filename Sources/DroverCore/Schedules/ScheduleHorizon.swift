import Foundation

/// How far ahead the scheduler creates a schedule's runs: Prefect's four limits.
///
/// Runs are created while they are within both caps — at most `maxRuns` runs, none more than
/// `maxTime` ahead — and, past the caps, while fewer than `minRuns` exist or they do not yet
/// reach `minTime` ahead. So an hourly schedule keeps 100 runs (about four days), a weekly
/// one 14 (100 days), a yearly one 3, and one every 10 seconds an hour's worth (360).
public struct ScheduleHorizon: Sendable, Hashable {
    public var maxRuns: Int
    public var maxTime: TimeInterval
    public var minRuns: Int
    public var minTime: TimeInterval

    /// Prefect's defaults: 100 runs, 100 days, 3 runs, 1 hour.
    public init(maxRuns: Int = 100, maxTime: TimeInterval = 100 * 86_400, minRuns: Int = 3, minTime: TimeInterval = 3600) {
        self.maxRuns = maxRuns
        self.maxTime = maxTime
        self.minRuns = minRuns
        self.minTime = minTime
    }

    /// The most runs any schedule can need: enough for `minTime` at one run a second.
    public var ceiling: Int { max(maxRuns, minRuns, Int(minTime.rounded(.up)) + 1) }

    /// Of `upcoming` (a schedule's next occurrences after `now`, in order), the ones that
    /// should exist now.
    public func runs(of upcoming: [Date], now: Date) -> [Date] {
        var kept: [Date] = []
        for time in upcoming {
            let count = kept.count + 1
            let withinCaps = count <= maxRuns && time <= now.addingTimeInterval(maxTime)
            let belowMinimum = count <= minRuns || time <= now.addingTimeInterval(minTime)
            guard withinCaps || belowMinimum else { break }
            kept.append(time)
        }
        return kept
    }
}
