import Foundation

/// The CLI's JSON timestamps: RFC 3339 in UTC, with or without a fraction of a second.
enum Timestamp {
    /// The instant `text` names, such as `2026-11-29T02:08:35.523820Z`; nil if it is not one.
    static func parse(_ text: String) -> Date? {
        var whole = text
        var fraction = 0.0
        if let dot = text.firstIndex(of: "."), let zone = text[dot...].firstIndex(where: { $0 == "Z" || $0 == "+" }) {
            fraction = Double("0" + text[dot..<zone]) ?? 0
            whole = String(text[..<dot] + text[zone...])
        }
        let formatter = ISO8601DateFormatter()
        formatter.formatOptions = [.withInternetDateTime]
        return formatter.date(from: whole).map { $0.addingTimeInterval(fraction) }
    }
}
