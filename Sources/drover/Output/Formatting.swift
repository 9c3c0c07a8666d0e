import DroverClient
import DroverCore
import DroverProto
import Foundation
import SwiftProtobuf

/// Text forms of wire values, shared by every command's output.
enum Formatting {
    /// A limit as Prefect shows it: the number, or `None` when unlimited.
    static func limit(_ value: UInt32?) -> String {
        value.map(String.init) ?? "None"
    }

    /// An ISO 8601 UTC timestamp with microseconds, such as `2026-11-29T00:30:00.123456+00:00`.
    static func timestamp(_ value: Google_Protobuf_Timestamp) -> String {
        let seconds = value.seconds
        let date = Date(timeIntervalSince1970: TimeInterval(seconds))
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = TimeZone(identifier: "UTC")!
        let parts = calendar.dateComponents([.year, .month, .day, .hour, .minute, .second], from: date)
        return String(
            format: "%04d-%02d-%02dT%02d:%02d:%02d.%06d+00:00", parts.year!, parts.month!, parts.day!, parts.hour!,
            parts.minute!, parts.second!, Int(value.nanos / 1000))
    }

    /// A string in single quotes, or `None` when empty (Prefect's repr of optional text).
    static func quotedOrNone(_ text: String) -> String {
        text.isEmpty ? "None" : quoted(text)
    }

    /// Text quoted as Python's repr quotes it: single quotes, or double quotes when the
    /// text holds a single quote and no double quote.
    static func quoted(_ text: String) -> String {
        let escaped = text.replacingOccurrences(of: "\\", with: "\\\\")
        if text.contains("'") && !text.contains("\"") {
            return "\"" + escaped + "\""
        }
        return "'" + escaped.replacingOccurrences(of: "'", with: "\\'") + "'"
    }

    /// A protobuf Struct as indented JSON text, keys sorted.
    static func json(_ value: Google_Protobuf_Struct, indent: Int) -> String {
        let text = JSONValue(value).render(pretty: true)
        let pad = String(repeating: " ", count: indent)
        return text.split(separator: "\n", omittingEmptySubsequences: false)
            .enumerated().map { $0.offset == 0 ? String($0.element) : pad + $0.element }
            .joined(separator: "\n")
    }

    static func poolStatus(_ status: Drover_V1_WorkPoolStatus) -> String {
        switch status {
        case .ready: "READY"
        case .notReady: "NOT_READY"
        case .paused: "PAUSED"
        case .unspecified, .UNRECOGNIZED: "UNKNOWN"
        }
    }

    /// The status words `work-pool create` shows ("Not ready").
    static func poolStatusWords(_ status: Drover_V1_WorkPoolStatus) -> String {
        switch status {
        case .ready: "Ready"
        case .notReady: "Not ready"
        case .paused: "Paused"
        case .unspecified, .UNRECOGNIZED: "Unknown"
        }
    }

    static func queueStatus(_ status: Drover_V1_WorkQueueStatus) -> String {
        switch status {
        case .workQueueReady: "READY"
        case .workQueueNotReady: "NOT_READY"
        case .workQueuePaused: "PAUSED"
        case .unspecified, .UNRECOGNIZED: "UNKNOWN"
        }
    }

    static func bool(_ value: Bool) -> String { value ? "True" : "False" }

    static func stateType(_ type: Drover_V1_StateType) -> String {
        StateType(wire: type)?.rawValue ?? "UNKNOWN"
    }

    static func isTerminal(_ type: Drover_V1_StateType) -> Bool {
        StateType(wire: type)?.isTerminal ?? false
    }
}
