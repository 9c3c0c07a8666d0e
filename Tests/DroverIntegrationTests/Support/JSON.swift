import Foundation
import Testing

/// Reading the CLI's `-o json` output in tests.
enum JSON {
    struct NotJSON: Error, CustomStringConvertible {
        let text: String
        var description: String { "not the expected JSON:\n\(text)" }
    }

    /// Parses JSON text.
    static func parse(_ text: String) throws -> Any {
        do {
            return try JSONSerialization.jsonObject(with: Data(text.utf8), options: [.fragmentsAllowed])
        } catch {
            throw NotJSON(text: text)
        }
    }

    /// Parses a JSON object.
    static func object(_ text: String) throws -> [String: Any] {
        guard let object = try parse(text) as? [String: Any] else { throw NotJSON(text: text) }
        return object
    }

    /// Parses a JSON array of objects.
    static func array(_ text: String) throws -> [[String: Any]] {
        guard let array = try parse(text) as? [[String: Any]] else { throw NotJSON(text: text) }
        return array
    }

    /// `text` re-serialized with sorted keys, so two documents with the same content compare equal.
    static func canonical(_ text: String) throws -> String {
        try canonical(value: parse(text))
    }

    /// A parsed value serialized with sorted keys.
    static func canonical(value: Any) throws -> String {
        let data = try JSONSerialization.data(withJSONObject: value, options: [.sortedKeys, .fragmentsAllowed])
        return String(decoding: data, as: UTF8.self)
    }
}

/// The pool or queue named `name` in a parsed `ls -o json` array.
func element(named name: String, in list: [[String: Any]]) -> [String: Any]? {
    list.first { $0["name"] as? String == name }
}

/// Whether `text` is a lowercase or uppercase UUID.
func isUUID(_ text: Any?) -> Bool {
    (text as? String).flatMap(UUID.init(uuidString:)) != nil
}
