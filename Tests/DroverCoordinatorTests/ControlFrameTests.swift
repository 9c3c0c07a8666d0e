import DroverProto
import Testing
import ZeroMQ

@testable import DroverCoordinator

@Suite struct ControlFrameTests {
    let identity: [UInt8] = [0, 1, 2, 3, 4]

    private func bytes(_ envelope: Drover_V1_Envelope) throws -> [UInt8] {
        try envelope.serializedBytes()
    }

    @Test func wellFormedRequestDecodes() throws {
        let request = Drover_V1_ControlRequest.with {
            $0.requestID = 9; $0.operation = .listWorkPools(.init())
        }
        let decoded = ControlFrame.decode(ZeroMQ.Message([identity, try bytes(.request(request))]))
        #expect(decoded == .request(identity: identity, request))
    }

    @Test func garbageIsMalformed() {
        guard case .reject(let who, let reply)? = ControlFrame.decode(ZeroMQ.Message([identity, [0xFF, 0xFF, 0x01]])) else {
            Issue.record("garbage must be rejected")
            return
        }
        #expect(who == identity)
        #expect(reply.error.code == .malformedMessage)
    }

    @Test func extraFramesAreMalformed() throws {
        let payload = try bytes(.request(.with { $0.operation = .listWorkPools(.init()) }))
        guard case .reject(_, let reply)? = ControlFrame.decode(ZeroMQ.Message([identity, payload, payload])) else {
            Issue.record("three frames must be rejected")
            return
        }
        #expect(reply.error.code == .malformedMessage)
    }

    @Test func otherProtocolVersionIsRefusedWithItsRequestID() throws {
        var envelope = Drover_V1_Envelope.request(
            .with {
                $0.requestID = 5; $0.operation = .listWorkPools(.init())
            })
        envelope.protocolVersion = 99
        guard case .reject(_, let reply)? = ControlFrame.decode(ZeroMQ.Message([identity, try bytes(envelope)])) else {
            Issue.record("another version must be rejected")
            return
        }
        #expect(reply.error.code == .unsupportedVersion)
        #expect(reply.requestID == 5)
        #expect(reply.error.message.contains("version 99"))
    }

    @Test func aReplyIsNotARequest() throws {
        let envelope = Drover_V1_Envelope.reply(.with { $0.requestID = 1 })
        guard case .reject(_, let reply)? = ControlFrame.decode(ZeroMQ.Message([identity, try bytes(envelope)])) else {
            Issue.record("a reply on the control endpoint must be rejected")
            return
        }
        #expect(reply.error.code == .malformedMessage)
    }

    @Test func messageWithoutIdentityIsDropped() {
        #expect(ControlFrame.decode(ZeroMQ.Message([[]])) == nil)
    }
}
