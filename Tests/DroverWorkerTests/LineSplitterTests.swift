import Testing

@testable import DroverWorker

/// The pure line splitter: lines, partial lines, and bounded pieces of long lines.
@Suite struct LineSplitterTests {
    @Test func splitsOnNewlinesAcrossAppends() {
        var splitter = LineSplitter(maximumBytes: 16)
        #expect(splitter.append(Array("one\ntw".utf8)) == ["one"])
        #expect(splitter.append(Array("o\n\nthree".utf8)) == ["two", ""])
        #expect(splitter.finish() == "three")
        #expect(splitter.finish() == nil)
    }

    @Test func cutsLongLinesIntoPiecesOfAtMostTheMaximum() {
        var splitter = LineSplitter(maximumBytes: 4)
        #expect(splitter.append(Array("abcdefghij\nk".utf8)) == ["abcd", "efgh", "ij"])
        #expect(splitter.finish() == "k")
    }

    @Test func neverCutsInsideAUTF8Character() {
        var splitter = LineSplitter(maximumBytes: 5)
        // "a€€": 1 + 3 + 3 bytes; a cut at 5 would split the second "€".
        let pieces = splitter.append(Array("a€€\n".utf8))
        #expect(pieces == ["a€", "€"])
        #expect(pieces.allSatisfy { $0.utf8.count <= 5 })
    }

    @Test func invalidUTF8StillComesOutBounded() {
        var splitter = LineSplitter(maximumBytes: 4)
        let pieces = splitter.append([0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x0A])
        #expect(pieces.count == 2)
        #expect(pieces.joined().allSatisfy { $0 == "\u{FFFD}" })
    }
}
