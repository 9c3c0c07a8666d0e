import Testing
import ZeroMQ

@Suite struct MessageTests {
    @Test func framesStringsAndByteCount() {
        let message = Message(strings: ["héllo", "", "world"])
        #expect(message.frames == [Array("héllo".utf8), [], Array("world".utf8)])
        #expect(message.strings == ["héllo", "", "world"])
        #expect(message.byteCount == 6 + 0 + 5)
        #expect(Message([]).byteCount == 0)
    }

    @Test func arrayLiteralAndEquality() {
        let literal: Message = [[1, 2], [], [3]]
        #expect(literal.frames == [[1, 2], [], [3]])
        #expect(literal == Message([[1, 2], [], [3]]))
        #expect(literal != Message([[1, 2], [3]]))
        #expect(literal != Message([[1, 2, 3]]))
    }
}
