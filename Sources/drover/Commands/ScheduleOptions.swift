import ArgumentParser
import DroverClient
import DroverCore
import DroverProto
import Foundation
import SwiftProtobuf

/// One schedule as the command line gives it: `--interval`, `--cron` or `--rrule`, with
/// `--timezone`, `--anchor-date` and `--day-and`. Shared by `deployment create` and
/// `deployment schedule create`.
///
/// Only the form is checked here; the server checks the rest (the interval's range, the
/// cron and rrule text, the time zone) and says what is wrong.
struct ScheduleOptions: ParsableArguments {
    @Option(
        help: ArgumentHelp(
            "Run every this many seconds: 3600, an ISO 8601 duration (PT10M, P1D) or H:MM:SS (1:30:00).",
            valueName: "seconds"))
    var interval: String?
    @Option(
        help: ArgumentHelp(
            "Run at the times of this cron expression: five fields, such as '0 9 * * 1-5', or a macro such as @daily.",
            valueName: "expression"))
    var cron: String?
    @Option(
        help: ArgumentHelp(
            "Run as this RFC 5545 rule says, such as 'FREQ=WEEKLY;BYDAY=MO,FR;BYHOUR=9', "
                + "optionally after a DTSTART line.",
            valueName: "rule"))
    var rrule: String?
    @Option(
        help: ArgumentHelp(
            "The schedule's time zone, an IANA name such as Europe/Paris (default: UTC; for --rrule, its DTSTART's TZID).",
            valueName: "zone"))
    var timezone: String?
    @Option(
        help: ArgumentHelp(
            "With --interval: the time the intervals count from, such as 2026-01-01T09:00:00Z, or "
                + "2026-01-01T09:00:00 in --timezone (else local time) (default: now).",
            valueName: "time"))
    var anchorDate: String?
    @Flag(
        help: ArgumentHelp(
            "With --cron: a day must match both the day-of-month and the day-of-week fields "
                + "(default: either, as cron's and Prefect's day_or)."))
    var dayAnd = false

    /// Whether a schedule was given at all.
    var isGiven: Bool { interval != nil || cron != nil || rrule != nil }

    func validate() throws {
        let kinds = [("--interval", interval), ("--cron", cron), ("--rrule", rrule)].filter { $0.1 != nil }.map(\.0)
        if kinds.count > 1 {
            throw ValidationError(
                "Give only one of --interval, --cron or --rrule, not \(kinds.joined(separator: " and ")); "
                    + "add more schedules afterwards with `drover deployment schedule create`.")
        }
        if anchorDate != nil && interval == nil {
            throw ValidationError(
                "--anchor-date goes with --interval only; a cron expression or an rrule sets its own times "
                    + "(an rrule may start with a DTSTART line).")
        }
        if dayAnd && cron == nil {
            throw ValidationError("--day-and goes with --cron only.")
        }
        if timezone != nil && !isGiven {
            throw ValidationError("--timezone needs a schedule: give --interval, --cron or --rrule with it.")
        }
        if let cron, cron.trimmingCharacters(in: .whitespaces).isEmpty {
            throw ValidationError("--cron cannot be empty; give five fields such as '0 9 * * 1-5', or a macro such as @daily.")
        }
        if let rrule, rrule.trimmingCharacters(in: .whitespaces).isEmpty {
            throw ValidationError("--rrule cannot be empty; give a rule such as 'FREQ=DAILY;BYHOUR=9'.")
        }
        _ = try spec()
    }

    /// The schedule for a request, or nil when none was given.
    func spec(now: Date = Date()) throws -> Drover_V1_ScheduleSpec? {
        let zone = timezone ?? ""
        if let interval {
            let seconds: Int
            do {
                seconds = try IntervalSchedule.parseSeconds(interval)
            } catch {
                throw ValidationError(error.message)
            }
            guard let wireSeconds = UInt32(exactly: max(0, seconds)) else {
                throw ValidationError(
                    "Invalid interval '\(interval)': the longest is \(IntervalSchedule.maximumSeconds / 86_400) days.")
            }
            let anchor = try anchorDate.map { try Self.parseAnchor($0, timezone: timezone, now: now) }
            return .with {
                $0.interval = .with {
                    $0.seconds = wireSeconds
                    if let anchor { $0.anchorDate = Google_Protobuf_Timestamp(date: anchor) }
                    $0.timezone = zone
                }
            }
        }
        if let cron {
            return .with {
                $0.cron = .with {
                    $0.cron = cron
                    $0.timezone = zone
                    $0.dayOr = !dayAnd
                }
            }
        }
        if let rrule {
            return .with {
                $0.rrule = .with {
                    $0.rrule = rrule
                    $0.timezone = zone
                }
            }
        }
        return nil
    }

    /// Reads `--anchor-date`: with `Z` or an offset as written, else in `timezone` (local
    /// time when none is given).
    private static func parseAnchor(_ text: String, timezone: String?, now: Date) throws -> Date {
        var zone = TimeZone.current
        if let timezone {
            guard let named = TimeZone(identifier: timezone) else {
                throw ValidationError(
                    "Unknown time zone '\(timezone)' for --timezone; give an IANA name such as Europe/Paris or "
                        + "America/New_York.")
            }
            zone = named
        }
        do {
            return try StartTime.parseDate(text, now: now, timeZone: zone)
        } catch {
            throw ValidationError("--anchor-date: \(error.message)")
        }
    }
}

/// `--catch-up all|latest|none`, in any case.
extension CatchUpPolicy: ExpressibleByArgument {
    public init?(argument: String) { self.init(rawValue: argument.lowercased()) }
}

/// `--collision-strategy ENQUEUE|CANCEL_NEW`, in any case, and `-` for `_`: `cancel-new` is `CANCEL_NEW`.
extension CollisionStrategy: ExpressibleByArgument {
    public init?(argument: String) {
        self.init(rawValue: argument.uppercased().replacingOccurrences(of: "-", with: "_"))
    }
}
