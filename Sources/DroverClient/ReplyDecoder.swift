import DroverCore
import DroverProto
import DroverWire
import SwiftProtobuf
import ZeroMQ

/// A reply of the Drover protocol, as a DEALER client receives it: the request it
/// answers, and its result or error.
protocol DroverReply {
    associatedtype Result
    var requestID: UInt64 { get }
    /// The result, unless the reply is an error or empty.
    var success: Result? { get }
    var failure: Drover_V1_Error? { get }
    /// The reply an envelope holds, if it holds this kind.
    static func unwrap(_ envelope: Drover_V1_Envelope) -> Self?
}

extension Drover_V1_ControlReply: DroverReply {
    var success: OneOf_Result? {
        if case .error? = result { return nil }
        return result
    }
    var failure: Drover_V1_Error? {
        if case .error(let error)? = result { return error }
        return nil
    }
    static func unwrap(_ envelope: Drover_V1_Envelope) -> Self? {
        if case .controlReply(let reply)? = envelope.body { return reply }
        return nil
    }
}

extension Drover_V1_LimitReply: DroverReply {
    var success: OneOf_Result? {
        if case .error? = result { return nil }
        return result
    }
    var failure: Drover_V1_Error? {
        if case .error(let error)? = result { return error }
        return nil
    }
    static func unwrap(_ envelope: Drover_V1_Envelope) -> Self? {
        if case .limitReply(let reply)? = envelope.body { return reply }
        return nil
    }
}

/// How a client reads the one frame a Drover peer answers with.
enum ReplyDecoder {
    /// The result in `message` if it answers `requestID`; nil for a stale reply (an answer
    /// to an earlier request). Errors of the peer, and frames that are not its replies,
    /// are thrown with messages naming `peer` ("server", "limit service") and `endpoint`.
    static func decode<Reply: DroverReply>(
        _ message: ZeroMQ.Message, as: Reply.Type, requestID: UInt64, peer: String, endpoint: String
    ) throws(DroverError) -> Reply.Result? {
        let (answered, result) = try decodeAny(message, as: Reply.self, peer: peer, endpoint: endpoint)
        // A reply without a request id is the peer refusing a frame it could not read: ours.
        guard answered == requestID || answered == 0 else { return nil }
        return try result.get()
    }

    /// The request `message` answers and its outcome: the result, or the peer's error.
    /// Frames that are not the peer's replies, and replies of another protocol version,
    /// are thrown.
    static func decodeAny<Reply: DroverReply>(
        _ message: ZeroMQ.Message, as: Reply.Type, peer: String, endpoint: String
    ) throws(DroverError) -> (requestID: UInt64, result: Result<Reply.Result, DroverError>) {
        guard message.frames.count == 1,
            let envelope = try? Drover_V1_Envelope(serializedBytes: message.frames[0]),
            let reply = Reply.unwrap(envelope)
        else {
            throw DroverError(
                .malformedMessage,
                "The \(peer) at \(endpoint) answered with something that is not a Drover reply. "
                    + "Is it a Drover \(peer)?")
        }
        // The peer's own error is shown even across versions: it usually says what is wrong.
        if let error = reply.failure {
            return (reply.requestID, .failure(DroverError(DroverError.Code(error.code), error.message)))
        }
        guard envelope.protocolVersion == droverProtocolVersion else {
            throw DroverError(
                .unsupportedVersion,
                "The \(peer) at \(endpoint) speaks Drover protocol version \(envelope.protocolVersion); "
                    + "this drover speaks version \(droverProtocolVersion). Use a drover of the \(peer)'s release.")
        }
        guard let result = reply.success else {
            return (reply.requestID, .failure(DroverError(.malformedMessage, "The \(peer) at \(endpoint) sent an empty reply.")))
        }
        return (reply.requestID, .success(result))
    }
}
