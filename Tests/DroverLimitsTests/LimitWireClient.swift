import DroverProto
import Foundation
import Testing
import ZeroMQ

/// How long a test waits for a reply before calling it lost: a failure guard, never a pause.
let replyGuard: Duration = .seconds(10)

/// A DEALER that speaks the limits protocol by hand: one frame, a serialized envelope.
///
/// Owns its socket, so it is used by the thread that made it; dropping it closes the
/// socket, which is how a test makes a client vanish.
final class LimitWireClient {
    let socket: Socket
    private var nextRequestID: UInt64 = 1

    init(_ context: Context, _ endpoint: String) throws {
        socket = try Socket(context: context, type: .dealer)
        try socket.connect(endpoint)
    }

    /// Sends `operation` and returns its request id without waiting for the reply.
    @discardableResult
    func send(_ operation: Drover_V1_LimitRequest.OneOf_Operation) throws -> UInt64 {
        let id = nextRequestID
        nextRequestID += 1
        let envelope = Drover_V1_Envelope.with {
            $0.protocolVersion = droverProtocolVersion
            $0.limitRequest = .with {
                $0.requestID = id; $0.operation = operation
            }
        }
        let payload: [UInt8] = try envelope.serializedBytes()
        try socket.send(payload)
        return id
    }

    /// The next reply, failing if none arrives within `limit`.
    func receive(
        within limit: Duration = replyGuard, sourceLocation: SourceLocation = #_sourceLocation
    ) throws -> Drover_V1_LimitReply {
        var poller = Poller()
        let index = poller.add(socket)
        let readable = try poller.poll(timeout: limit)[index].contains(.readable)
        try #require(readable, "no reply within \(limit)", sourceLocation: sourceLocation)
        return try Self.reply(of: try #require(try socket.receive(wait: false), sourceLocation: sourceLocation))
    }

    /// Sends `operation` and returns the next reply, which must be the one answering it.
    func call(
        _ operation: Drover_V1_LimitRequest.OneOf_Operation, sourceLocation: SourceLocation = #_sourceLocation
    ) throws -> Drover_V1_LimitReply {
        let id = try send(operation)
        let reply = try receive(sourceLocation: sourceLocation)
        try #require(
            reply.requestID == id, "expected the reply to request \(id), got \(reply)", sourceLocation: sourceLocation)
        return reply
    }

    /// The limit reply a message from the service holds.
    static func reply(of message: ZeroMQ.Message) throws -> Drover_V1_LimitReply {
        try #require(message.frames.count == 1, "a reply to a DEALER is one frame")
        let envelope = try Drover_V1_Envelope(serializedBytes: message.frames[0])
        #expect(envelope.protocolVersion == droverProtocolVersion)
        guard case .limitReply(let reply)? = envelope.body else {
            Issue.record("expected a limit reply, got \(envelope)")
            throw DroverTestFailure("not a limit reply")
        }
        return reply
    }
}

/// A test's own failure, thrown where a test cannot go on.
struct DroverTestFailure: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}
