import Foundation

/// Where commands write: results to standard output, problems to standard error.
enum Terminal {
    static func print(_ text: String) {
        FileHandle.standardOutput.write(Data((text.hasSuffix("\n") ? text : text + "\n").utf8))
    }

    /// Writes `text` to standard error, ending the line unless `newline` is false (for a
    /// progress line redrawn with "\r").
    static func error(_ text: String, newline: Bool = true) {
        FileHandle.standardError.write(Data((!newline || text.hasSuffix("\n") ? text : text + "\n").utf8))
    }

    /// Prints `value` as one line of JSON with sorted keys: a bench report for scripts.
    static func printJSON(_ value: some Encodable) throws {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        print(String(decoding: try encoder.encode(value), as: UTF8.self))
    }
}
