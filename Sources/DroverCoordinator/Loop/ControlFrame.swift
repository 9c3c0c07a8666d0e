import DroverProto
import SwiftProtobuf
import ZeroMQ

/// How the control endpoint reads one message from its ROUTER socket.
///
/// A well-formed message is two frames: the sender's routing id, then one `Envelope`
/// of the current protocol version holding a `ControlRequest`. Anything else is
/// answered with a typed error (when there is someone to answer) and acted on not at all.
public enum ControlFrame: Equatable {
    /// A request to handle, and who to answer.
    case request(identity: [UInt8], Drover_V1_ControlRequest)
    /// A message that cannot be handled; send the reply to say why.
    case reject(identity: [UInt8], Drover_V1_ControlReply)

    public static func decode(_ message: ZeroMQ.Message) -> ControlFrame? {
        guard let identity = message.frames.first, !identity.isEmpty else { return nil }
        guard message.frames.count == 2 else {
            return .reject(
                identity: identity,
                reply: malformed("expected one frame holding a Drover envelope, got \(message.frames.count - 1)"))
        }
        let envelope: Drover_V1_Envelope
        do {
            envelope = try Drover_V1_Envelope(serializedBytes: message.frames[1])
        } catch {
            return .reject(identity: identity, reply: malformed("the frame is not a Drover protobuf envelope"))
        }
        let requestID = envelope.controlRequest.requestID
        guard envelope.protocolVersion == droverProtocolVersion else {
            return .reject(
                identity: identity,
                reply: .failure(
                    requestID: requestID, code: .unsupportedVersion,
                    message: "This server speaks Drover protocol version \(droverProtocolVersion); "
                        + "the client sent version \(envelope.protocolVersion). Use a drover client of the same release."))
        }
        guard case .controlRequest(let request)? = envelope.body else {
            return .reject(identity: identity, reply: malformed("expected a control request on the control endpoint"))
        }
        return .request(identity: identity, request)
    }

    private static func malformed(_ reason: String) -> Drover_V1_ControlReply {
        .failure(requestID: 0, code: .malformedMessage, message: "Malformed message: \(reason).")
    }

    private static func reject(identity: [UInt8], reply: Drover_V1_ControlReply) -> ControlFrame {
        .reject(identity: identity, reply)
    }
}
