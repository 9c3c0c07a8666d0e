import DroverCore
import DroverProto
import DroverWire
import Foundation
import SwiftProtobuf
import ZeroMQ

/// A connection to a Drover server's control endpoint, for the CLI, the HTTP gateway
/// and tests.
///
/// Each call sends one request and waits for its reply, never longer than `timeout`:
/// when no server answers, the call fails with `unavailable` and a message that says
/// where it looked and how to start a server. Owns a ZeroMQ socket, so a client is
/// used by one thread at a time.
public final class ControlClient {
    /// The control endpoint this client talks to.
    public let endpoint: String
    /// How long one call waits for its reply.
    public let timeout: Duration
    private let socket: Socket
    private let handshakes: HandshakeWatch
    private var nextRequestID = UInt64.random(in: 1...(UInt64.max / 2))

    /// Connects (in the background) to `endpoint`; with `key`, securely, as that key.
    public init(
        endpoint: String, timeout: Duration = .seconds(5), context: Context? = nil, key: KeyFile? = nil
    ) throws(DroverError) {
        self.endpoint = endpoint
        self.timeout = timeout
        do throws(ZeroMQError) {
            (socket, handshakes) = try DealerSocket.connect(to: endpoint, context: context, key: key)
        } catch {
            throw .invalidArgument(
                "Invalid server address '\(endpoint)' (\(error.code)). "
                    + "Give one such as tcp://127.0.0.1:4201 with --server or DROVER_SERVER.")
        }
    }

    /// Sends `operation` and returns the server's result, or throws the server's error.
    public func call(
        _ operation: Drover_V1_ControlRequest.OneOf_Operation
    ) throws(DroverError) -> Drover_V1_ControlReply.OneOf_Result {
        let requestID = try submit(operation)
        let deadline = ContinuousClock.now + timeout
        while true {
            let remaining = deadline - ContinuousClock.now
            guard remaining > .zero else { throw unreachable() }
            guard let message = try receive(timeout: remaining) else { continue }
            if let result = try ReplyDecoder.decode(
                message, as: Drover_V1_ControlReply.self, requestID: requestID, peer: "server", endpoint: endpoint)
            {
                return result
            }
        }
    }

    /// Sends `operation` without waiting for its reply, which `nextReply` returns later:
    /// for pipelining many requests over one connection. Returns the request's id.
    public func submit(_ operation: Drover_V1_ControlRequest.OneOf_Operation) throws(DroverError) -> UInt64 {
        let requestID = nextRequestID
        nextRequestID &+= 1
        let request = Drover_V1_ControlRequest.with {
            $0.requestID = requestID
            $0.operation = operation
        }
        do {
            let payload: [UInt8] = try Drover_V1_Envelope.request(request).serializedBytes()
            guard try socket.send(payload, wait: false) else {
                throw unreachable()
            }
        } catch let error as DroverError {
            throw error
        } catch {
            throw DroverError(.internal, "Could not send the request to \(endpoint): \(error)")
        }
        return requestID
    }

    /// The next reply to a request sent with `submit`: its id and the server's result or
    /// error; nil when none arrives within `timeout`.
    public func nextReply(
        timeout: Duration
    ) throws(DroverError) -> (requestID: UInt64, result: Result<Drover_V1_ControlReply.OneOf_Result, DroverError>)? {
        guard let message = try receive(timeout: timeout) else { return nil }
        return try ReplyDecoder.decodeAny(message, as: Drover_V1_ControlReply.self, peer: "server", endpoint: endpoint)
    }

    /// The next message from the server, or nil after `timeout`.
    private func receive(timeout: Duration) throws(DroverError) -> ZeroMQ.Message? {
        if let message = try? socket.receive(wait: false) { return message }
        var poller = Poller()
        poller.add(socket)
        do {
            let events = try poller.poll(timeout: timeout)
            return events[0].contains(.readable) ? try socket.receive(wait: false) : nil
        } catch {
            throw DroverError(.unavailable, "Lost the connection to \(endpoint): \(error.code).")
        }
    }

    /// A duration in seconds as people write it: "5", "0.5", "2.25".
    static func seconds(_ duration: Duration) -> String {
        let (whole, attoseconds) = duration.components
        let milliseconds = attoseconds / 1_000_000_000_000_000
        guard milliseconds > 0 else { return "\(whole)" }
        var fraction = String(format: "%03lld", milliseconds)
        while fraction.hasSuffix("0") { fraction.removeLast() }
        return "\(whole).\(fraction)"
    }

    private func unreachable() -> DroverError {
        if let refusal = handshakes.refusal(by: "server", at: endpoint) { return refusal }
        return DroverError(
            .unavailable,
            "Could not reach a Drover server at \(endpoint): no answer within \(Self.seconds(timeout)) s.\n"
                + "Start one with `drover server start`, or point this command at yours with --server or DROVER_SERVER.")
    }
}
