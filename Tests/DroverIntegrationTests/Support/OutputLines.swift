import Foundation

/// The lines a child process wrote to one stream, collected as they arrive, so a test can
/// wait (with a bound) for the line that says something happened.
final class OutputLines: @unchecked Sendable {
    private let condition = NSCondition()
    private var lines: [String] = []
    private var ended = false

    /// Records a complete line. Called on the reader thread.
    func append(_ line: String) {
        condition.lock()
        lines.append(line)
        condition.broadcast()
        condition.unlock()
    }

    /// Records that the stream reached end of file: no more lines will come.
    func end() {
        condition.lock()
        ended = true
        condition.broadcast()
        condition.unlock()
    }

    /// Every line so far.
    var all: [String] {
        condition.lock()
        defer { condition.unlock() }
        return lines
    }

    /// Blocks until a line satisfies `matches`, at most `seconds`; returns that line, or nil
    /// if the stream ended or the time ran out first.
    func wait(seconds: Double, for matches: (String) -> Bool) -> String? {
        let deadline = Date(timeIntervalSinceNow: seconds)
        condition.lock()
        defer { condition.unlock() }
        var checked = 0
        while true {
            while checked < lines.count {
                if matches(lines[checked]) { return lines[checked] }
                checked += 1
            }
            if ended || !condition.wait(until: deadline) {
                return lines[checked...].first(where: matches)
            }
        }
    }
}
