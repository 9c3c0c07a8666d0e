import DroverCore
import DroverProto
import Foundation
import SwiftProtobuf

/// Text forms the limit commands share.
enum LimitText {
    /// How long ago, as Prefect says it: "a few seconds ago", "1 minute ago", "3 hours ago".
    static func ago(_ timestamp: Google_Protobuf_Timestamp, now: Date = Date()) -> String {
        let seconds = max(0, Int(now.timeIntervalSince(timestamp.date)))
        func count(_ value: Int, _ unit: String) -> String { "\(value) \(unit)\(value == 1 ? "" : "s") ago" }
        switch seconds {
        case ..<10: return "a few seconds ago"
        case ..<60: return count(seconds, "second")
        case ..<3600: return count(seconds / 60, "minute")
        case ..<86_400: return count(seconds / 3600, "hour")
        case ..<(30 * 86_400): return count(seconds / 86_400, "day")
        case ..<(365 * 86_400): return count(seconds / (30 * 86_400), "month")
        default: return count(seconds / (365 * 86_400), "year")
        }
    }

    /// A slot decay as Python prints a float: "0.0", "2.0", "0.5".
    static func decay(_ value: Double) -> String {
        value == value.rounded() && abs(value) < 1e15 ? String(format: "%.1f", value) : "\(value)"
    }

    /// Who holds a lease: the flow run's id when a coordinator took it for one, else the holder.
    static func holder(_ lease: Drover_V1_Lease) -> String {
        Lease.flowRunID(ofHolder: lease.holder)?.uuidString.lowercased() ?? lease.holder
    }

    /// The lines of rendered text, without the final empty one.
    static func lines(_ text: String) -> [String] {
        text.split(separator: "\n", omittingEmptySubsequences: false).map(String.init).filter { !$0.isEmpty }
    }

    /// `body` in a rounded box, under `centered`, as Prefect's inspect panels look.
    static func panel(centered: String, body: [String]) -> String {
        let width = ([centered] + body).map(\.count).max() ?? 0
        let pad = (width - centered.count) / 2
        let title = String(repeating: " ", count: pad) + centered
        let inside = ([title] + body).map { "│ " + $0 + String(repeating: " ", count: width - $0.count) + " │" }
        let edge = String(repeating: "─", count: width + 2)
        return (["╭" + edge + "╮"] + inside + ["╰" + edge + "╯"]).joined(separator: "\n")
    }
}
