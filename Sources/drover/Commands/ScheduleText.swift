import ArgumentParser
import DroverClient
import DroverCore
import DroverProto
import Foundation
import SwiftProtobuf

/// Schedules in words, for tables and messages.
enum ScheduleText {
    /// "every 3600 s from 2026-01-01T09:00:00+01:00 (Europe/Paris)", "cron '0 9 * * 1-5'
    /// (Europe/Paris)", "rrule 'FREQ=DAILY' (UTC)".
    static func describe(_ schedule: Drover_V1_DeploymentSchedule) -> String {
        switch schedule.kind {
        case .interval(let interval):
            let zone = interval.timezone.isEmpty ? "UTC" : interval.timezone
            let anchor = interval.hasAnchorDate ? " from \(local(interval.anchorDate, zone: zone))" : ""
            return "every \(interval.seconds) s\(anchor) (\(zone))"
        case .cron(let cron):
            let days = cron.hasDayOr && !cron.dayOr ? ", day of month and of week" : ""
            return "cron '\(cron.cron)' (\(cron.timezone.isEmpty ? "UTC" : cron.timezone)\(days))"
        case .rrule(let rule):
            let text = rule.rrule.replacingOccurrences(of: "\n", with: " ")
            return "rrule '\(text)'" + (rule.timezone.isEmpty ? "" : " (\(rule.timezone))")
        case nil:
            return "unknown"
        }
    }

    /// What `deployment create` says of a schedule: "every 3600 seconds (interval-3600)",
    /// "cron '0 9 * * 1-5' in Europe/Paris (cron-0-9-x-x-1-5)".
    static func summary(_ schedule: Drover_V1_DeploymentSchedule) -> String {
        func zone(_ name: String) -> String { ["", "UTC", "GMT", "Etc/UTC"].contains(name) ? "" : " in \(name)" }
        let what: String
        switch schedule.kind {
        case .interval(let interval):
            what = "every \(interval.seconds) second\(interval.seconds == 1 ? "" : "s")\(zone(interval.timezone))"
        case .cron(let cron):
            let days = cron.hasDayOr && !cron.dayOr ? ", on days matching both day fields" : ""
            what = "cron '\(cron.cron)'\(zone(cron.timezone))\(days)"
        case .rrule(let rule):
            what = "rrule '\(rule.rrule.replacingOccurrences(of: "\n", with: " "))'\(zone(rule.timezone))"
        case nil:
            what = "unknown"
        }
        return "\(what) (\(schedule.slug))" + (schedule.active ? "" : ", paused")
    }

    /// The lines under a created or changed schedule: what it is, whether it is active, its next run.
    static func details(_ schedule: Drover_V1_DeploymentSchedule) -> String {
        """
        └── Schedule: \(describe(schedule))
        └── Active: \(Formatting.bool(schedule.active))
        └── Next run: \(nextRun(schedule))
        """
    }

    /// The schedule's next run, or why there is none.
    static func nextRun(_ schedule: Drover_V1_DeploymentSchedule) -> String {
        guard schedule.active else { return "None (paused)" }
        return schedule.nextRuns.first.map(Formatting.timestamp) ?? "None"
    }

    /// `timestamp` as ISO 8601 with the offset of `zone` (UTC when unknown).
    private static func local(_ timestamp: Google_Protobuf_Timestamp, zone: String) -> String {
        let formatter = ISO8601DateFormatter()
        formatter.formatOptions = [.withInternetDateTime]
        formatter.timeZone = TimeZone(identifier: zone) ?? TimeZone(identifier: "UTC")!
        return formatter.string(from: timestamp.date)
    }
}
