import DroverTestSupport
import Foundation
import Testing

@testable import DroverCore

@Suite struct TemplateTextTests {
    /// The rules written the plain way, with Foundation's searches: what the fast scanner must match.
    private static func reference(_ text: String) -> [TemplateText.Piece] {
        var pieces: [TemplateText.Piece] = []
        var literal = ""
        var rest = Substring(text)
        while let open = rest.range(of: "{{"), let close = rest[open.upperBound...].range(of: "}}") {
            let name = rest[open.upperBound..<close.lowerBound].trimmingCharacters(in: .whitespaces)
            literal += rest[..<open.lowerBound]
            if !name.isEmpty, name.allSatisfy({ $0.isLetter || $0.isNumber || $0 == "_" }) {
                if !literal.isEmpty { pieces.append(.text(literal)) }
                literal = ""
                pieces.append(.placeholder(name))
            } else {
                literal += rest[open.lowerBound..<close.upperBound]
            }
            rest = rest[close.upperBound...]
        }
        literal += rest
        if !literal.isEmpty { pieces.append(.text(literal)) }
        return pieces
    }

    @Test(
        arguments: [
            ("", []),
            ("plain", [.text("plain")]),
            ("{{ command }}", [.placeholder("command")]),
            ("run {{cmd}} now", [.text("run "), .placeholder("cmd"), .text(" now")]),
            ("{{ a.b }}", [.text("{{ a.b }}")]),
            ("{{{ a }}}", [.text("{{{ a }}}")]),
            ("{{ open", [.text("{{ open")]),
            ("{{\tété_1\u{00A0}}}x", [.placeholder("été_1"), .text("x")]),
            ("{{}}{{ }}", [.text("{{}}{{ }}")]),
        ] as [(String, [TemplateText.Piece])])
    func splitsAtPlaceholders(text: String, expected: [TemplateText.Piece]) {
        #expect(TemplateText.pieces(of: text) == expected)
        #expect(Self.reference(text) == expected)
    }

    @Test func agreesWithThePlainRulesOnRandomText() {
        let alphabet: [Character] = ["{", "{", "}", "}", " ", "\t", "\n", "a", "b", "_", "1", ".", "é", "\u{00A0}", "\u{2003}", "😀"]
        var random = SeededGenerator(state: 20261129)
        for _ in 0..<5000 {
            let length = Int.random(in: 0...24, using: &random)
            var text = ""
            for _ in 0..<length { text.append(alphabet.randomElement(using: &random)!) }
            #expect(TemplateText.pieces(of: text) == Self.reference(text), "text: \(text.debugDescription)")
        }
    }
}
