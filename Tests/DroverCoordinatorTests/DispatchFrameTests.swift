import DroverProto
import Testing

@testable import DroverCoordinator

@Suite struct DispatchFrameTests {
    let heartbeat = Drover_V1_WorkerMessage.with {
        $0.session = 7; $0.heartbeat = .init()
    }

    private func envelope(_ message: Drover_V1_WorkerMessage, version: UInt32 = droverProtocolVersion) throws -> [UInt8] {
        try Drover_V1_Envelope.with {
            $0.protocolVersion = version; $0.workerMessage = message
        }.serializedBytes()
    }

    @Test func aWorkersMessageDecodesWithItsID() throws {
        #expect(DispatchFrame.decode([Array("w-1".utf8), try envelope(heartbeat)]) == .message(worker: "w-1", heartbeat))
    }

    @Test func anotherVersionIsNamedForItsRefusal() throws {
        #expect(
            DispatchFrame.decode([Array("w-1".utf8), try envelope(heartbeat, version: 99)])
                == .otherVersion(worker: "w-1", version: 99))
    }

    @Test(arguments: [[0, 0x6B, 0x8B, 0x45, 0x67], [0xFF, 0xFE, 0x41], [0x41, 0xC3]] as [[UInt8]])
    func anIDThatIsNotAWorkerIDIsAnsweredAtThatID(identity: [UInt8]) throws {
        #expect(DispatchFrame.decode([identity, try envelope(heartbeat)]) == .unnamed(identity: identity))
        let refusal = DispatchFrame.unnamedRefusal()
        #expect(refusal.session == 0 && !refusal.reject.helloAgain)
        #expect(refusal.reject.error.code == .invalidArgument)
        #expect(refusal.reject.error.message.contains("ZMQ_ROUTING_ID"))
    }

    @Test func framesThatAreNotOneWorkerEnvelopeAreMalformed() throws {
        let good = try envelope(heartbeat)
        let control: [UInt8] = try Drover_V1_Envelope.request(.with { $0.listWorkPools = .init() }).serializedBytes()
        #expect(DispatchFrame.decode([]) == .malformed)
        #expect(DispatchFrame.decode([[], good]) == .malformed)
        #expect(DispatchFrame.decode([Array("w".utf8)]) == .malformed)
        #expect(DispatchFrame.decode([Array("w".utf8), good, good]) == .malformed)
        #expect(DispatchFrame.decode([Array("w".utf8), [0xFF, 0xFF, 0x01]]) == .malformed)
        #expect(DispatchFrame.decode([Array("w".utf8), control]) == .malformed)
    }
}
