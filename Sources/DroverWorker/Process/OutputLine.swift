import Foundation

/// One line (or one chunk of a very long line) that a child wrote.
public struct OutputLine: Sendable, Equatable {
    /// The stream it was written to.
    public var stream: OutputStream
    /// The line without its terminating newline, decoded as UTF-8 (invalid bytes become
    /// U+FFFD). A line longer than `ChildProcess.maximumLineBytes` arrives as several
    /// `OutputLine`s of at most that many of the child's bytes each, cut between characters;
    /// their concatenation is the line.
    public var text: String
    /// When the executor read it from the pipe.
    public var timestamp: Date

    /// A line of `text` read from `stream` at `timestamp`.
    public init(stream: OutputStream, text: String, timestamp: Date) {
        self.stream = stream
        self.text = text
        self.timestamp = timestamp
    }
}
