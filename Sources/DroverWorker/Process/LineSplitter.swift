/// Cuts a stream of bytes into lines, keeping memory bounded: a line longer than
/// `maximumBytes` is delivered in pieces of at most that many bytes.
///
/// Pure value type: feed it bytes as they are read and it returns the finished lines.
/// Pieces are cut between UTF-8 characters (when the bytes are valid UTF-8), so the
/// concatenation of a long line's pieces decodes to the line.
struct LineSplitter {
    /// The longest piece, in bytes, that `append` and `finish` return.
    let maximumBytes: Int
    private var pending: [UInt8] = []

    /// A splitter that returns pieces of at most `maximumBytes` bytes (at least 4, so a
    /// UTF-8 character always fits).
    init(maximumBytes: Int) {
        precondition(maximumBytes >= 4, "a piece must hold any UTF-8 character")
        self.maximumBytes = maximumBytes
        pending.reserveCapacity(maximumBytes)
    }

    /// Adds `bytes` and returns every line (without its newline) or long-line piece that is
    /// now complete. Holds back at most `maximumBytes` bytes of an unfinished line.
    mutating func append(_ bytes: some Collection<UInt8>) -> [String] {
        var lines: [String] = []
        for byte in bytes {
            if byte == UInt8(ascii: "\n") {
                lines.append(String(decoding: pending, as: UTF8.self))
                pending.removeAll(keepingCapacity: true)
                continue
            }
            pending.append(byte)
            if pending.count > maximumBytes {
                let cut = pieceEnd()
                lines.append(String(decoding: pending[..<cut], as: UTF8.self))
                pending.removeFirst(cut)
            }
        }
        return lines
    }

    /// The unfinished last line, if any, for end of file; the splitter is empty afterwards.
    mutating func finish() -> String? {
        guard !pending.isEmpty else { return nil }
        defer { pending.removeAll(keepingCapacity: true) }
        return String(decoding: pending, as: UTF8.self)
    }

    /// Where to cut `pending` (one byte longer than allowed): at `maximumBytes`, moved back
    /// over at most three UTF-8 continuation bytes so no character is split.
    private func pieceEnd() -> Int {
        var end = maximumBytes
        while end > maximumBytes - 3, pending[end] & 0b1100_0000 == 0b1000_0000 {
            end -= 1
        }
        return pending[end] & 0b1100_0000 == 0b1000_0000 ? maximumBytes : end
    }
}
