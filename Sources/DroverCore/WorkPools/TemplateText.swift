/// A string of a base job template, split at its `{{ name }}` placeholders.
///
/// The rules: `{{`, then the nearest `}}`; what lies between, without surrounding spaces
/// and tabs, is a name when it is non-empty letters, digits and `_`, and otherwise stays
/// literal text. So `{{ a.b }}` is plain text, and so is a `{{` never closed.
enum TemplateText {
    /// A run of literal text or one placeholder, in the order they appear.
    enum Piece: Equatable {
        case text(String)
        case placeholder(String)
    }

    /// The pieces of `text`, adjacent literal text joined; none for an empty string.
    static func pieces(of text: String) -> [Piece] {
        let bytes = text.utf8
        var pieces: [Piece] = []
        var literal = ""
        var cursor = bytes.startIndex
        while let open = find(UInt8(ascii: "{"), in: bytes, from: cursor),
            let close = find(UInt8(ascii: "}"), in: bytes, from: bytes.index(open, offsetBy: 2))
        {
            let end = bytes.index(close, offsetBy: 2)
            let name = trimmingSpaces(text[bytes.index(open, offsetBy: 2)..<close])
            if !name.isEmpty, name.allSatisfy({ $0.isLetter || $0.isNumber || $0 == "_" }) {
                literal += text[cursor..<open]
                if !literal.isEmpty { pieces.append(.text(literal)) }
                literal = ""
                pieces.append(.placeholder(String(name)))
            } else {
                literal += text[cursor..<end]
            }
            cursor = end
        }
        if cursor == bytes.startIndex {
            return text.isEmpty ? [] : [.text(text)]
        }
        literal += text[cursor...]
        if !literal.isEmpty { pieces.append(.text(literal)) }
        return pieces
    }

    /// The names of `text`'s placeholders, in order.
    static func placeholderNames(in text: String) -> [String] {
        pieces(of: text).compactMap { piece in
            if case .placeholder(let name) = piece { return name }
            return nil
        }
    }

    /// Where `byte` first appears twice in a row in `bytes` from `start`.
    private static func find(_ byte: UInt8, in bytes: String.UTF8View, from start: String.Index) -> String.Index? {
        var index = start
        var previous: UInt8 = 0
        var previousIndex = start
        while index < bytes.endIndex {
            let current = bytes[index]
            if current == byte && previous == byte && index > start { return previousIndex }
            previous = current
            previousIndex = index
            bytes.formIndex(after: &index)
        }
        return nil
    }

    /// `text` without leading and trailing spaces (Unicode space separators) and tabs.
    private static func trimmingSpaces(_ text: Substring) -> Substring {
        func isSpace(_ scalar: Unicode.Scalar) -> Bool {
            scalar == "\t" || scalar.properties.generalCategory == .spaceSeparator
        }
        let scalars = text.unicodeScalars
        guard let first = scalars.firstIndex(where: { !isSpace($0) }) else { return "" }
        let last = scalars.lastIndex(where: { !isSpace($0) })!
        return text[first...last]
    }
}
