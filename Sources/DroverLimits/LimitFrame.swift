import DroverCore
import DroverProto
import DroverWire
import SwiftProtobuf

/// How the limit service reads one message from its ROUTER socket.
///
/// A well-formed message is two frames: the client's routing id, then one `Envelope` of the
/// current protocol version holding a `LimitRequest`. Anything else gets a typed error and
/// changes nothing.
public enum LimitFrame {
    /// A request to handle, from the client with this routing id.
    case request(client: [UInt8], Drover_V1_LimitRequest)
    /// A message that cannot be handled: send this reply to say why.
    case refuse(LimitDelivery)
    /// No routing id: no one to answer.
    case unanswerable

    public static func decode(_ frames: [[UInt8]]) -> LimitFrame {
        guard let client = frames.first, !client.isEmpty else { return .unanswerable }
        guard frames.count == 2, let envelope = try? Drover_V1_Envelope(serializedBytes: frames[1]),
            case .limitRequest(let request)? = envelope.body
        else {
            return .refuse(
                failure(client, 0, .malformedMessage, "Malformed message: expected one frame holding a Drover limit request."))
        }
        guard envelope.protocolVersion == droverProtocolVersion else {
            return .refuse(
                failure(
                    client, request.requestID, .unsupportedVersion,
                    "This limit service speaks Drover protocol version \(droverProtocolVersion); the client sent "
                        + "version \(envelope.protocolVersion). Use a drover of the same release."))
        }
        return .request(client: client, request)
    }

    /// The reply that refuses request `requestID` of `client` with `error`.
    public static func failure(_ client: [UInt8], _ requestID: UInt64, _ error: DroverError) -> LimitDelivery {
        failure(client, requestID, Drover_V1_Error.Code(error.code), error.message)
    }

    private static func failure(
        _ client: [UInt8], _ requestID: UInt64, _ code: Drover_V1_Error.Code, _ message: String
    ) -> LimitDelivery {
        LimitDelivery(
            client: client,
            reply: .with {
                $0.requestID = requestID
                $0.error = .with {
                    $0.code = code; $0.message = message
                }
            }, grantedLease: nil)
    }
}
