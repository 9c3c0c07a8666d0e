import Testing
import ZeroMQ

@Suite struct ZAPTests {
    @Test func z85EncodesTheRFCsExample() {
        #expect(Z85.encode([0x86, 0x4F, 0xD2, 0x6F, 0xB5, 0x59, 0xF7, 0x5B]) == "HelloWorld")
    }

    @Test func z85DecodesWhatItEncodesAndNothingElse() {
        #expect(Z85.decode("HelloWorld") == [0x86, 0x4F, 0xD2, 0x6F, 0xB5, 0x59, 0xF7, 0x5B])
        let key = (0..<32).map { UInt8($0 * 7 & 0xFF) }
        #expect(Z85.decode(Z85.encode(key)) == key)
        for text in ["", "Hell", "Hello World", "Hello\u{7F}orl", "Hello\"orld"] {
            #expect(Z85.decode(text) == nil, "\(text)")
        }
    }

    @Test func aCurveRequestReadsWithItsKeyAndIsAnswered() throws {
        let key: [UInt8] = Array(0..<32)
        let frames: [[UInt8]] = [
            Array("1.0".utf8), [7, 7], Array("drover".utf8), Array("10.0.0.2".utf8), Array("w-1".utf8),
            Array("CURVE".utf8), key,
        ]
        let request = try #require(ZAP.Request(frames: frames))
        #expect(request.requestID == [7, 7])
        #expect(request.domain == "drover" && request.address == "10.0.0.2" && request.mechanism == "CURVE")
        #expect(request.routingID == Array("w-1".utf8))
        #expect(request.curvePublicKey == Z85.encode(key))
        #expect(
            request.reply(.allow(userID: "alice")) == [
                Array("1.0".utf8), [7, 7], Array("200".utf8), Array("OK".utf8), Array("alice".utf8), [],
            ])
        #expect(
            request.reply(.deny(reason: "revoked"))
                == [Array("1.0".utf8), [7, 7], Array("400".utf8), Array("revoked".utf8), [], []])
    }

    @Test func whatIsNotAVersion1RequestIsNotRead() {
        #expect(ZAP.Request(frames: []) == nil)
        #expect(ZAP.Request(frames: [Array("2.0".utf8), [], [], [], [], []]) == nil)
        #expect(ZAP.Request(frames: [Array("1.0".utf8), [], [], [], []]) == nil)
        // A NULL-mechanism peer has no key.
        let null = ZAP.Request(frames: [Array("1.0".utf8), [1], [], [], [], Array("NULL".utf8)])
        #expect(null != nil && null?.curvePublicKey == nil)
    }
}
