import DroverProto
import Testing

/// `Accepting{bool accepting = 1}` was `Credit{uint32 available = 1}`: the same field number
/// and the same varint, so a worker or server of either name reads the other.
@Suite struct AcceptingTests {
    @Test func aCreditOfTheEarlierNameReadsAsAccepting() throws {
        // WorkerMessage field 11 (length-delimited), holding field 1 = 2: Credit{available: 2}.
        let available = try Drover_V1_WorkerMessage(serializedBytes: [0x5A, 0x02, 0x08, 0x02] as [UInt8])
        #expect(available.accepting.accepting)
        // Credit{available: 0}: proto3 leaves the zero out, an empty message.
        let none = try Drover_V1_WorkerMessage(serializedBytes: [0x5A, 0x00] as [UInt8])
        guard case .accepting(let message)? = none.kind else {
            Issue.record("not read as Accepting")
            return
        }
        #expect(!message.accepting)
    }

    @Test func acceptingIsWrittenAsTheEarlierCreditWas() throws {
        let bytes: [UInt8] = try Drover_V1_WorkerMessage.with { $0.accepting = .with { $0.accepting = true } }.serializedBytes()
        #expect(bytes == [0x5A, 0x02, 0x08, 0x01])
    }
}
