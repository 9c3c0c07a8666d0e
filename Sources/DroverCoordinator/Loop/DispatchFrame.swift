import DroverProto
import SwiftProtobuf

/// How the dispatch endpoint reads one message from its ROUTER socket.
///
/// A well-formed message is two frames: the worker's routing id, which is its worker id
/// in UTF-8, then one `Envelope` of the current protocol version holding a `WorkerMessage`.
public enum DispatchFrame: Equatable {
    /// A worker's message to handle.
    case message(worker: String, Drover_V1_WorkerMessage)
    /// A worker of another protocol version: answer with a typed refusal, act on nothing.
    case otherVersion(worker: String, version: UInt32)
    /// A routing id that is not a worker id: one ZeroMQ chose (it starts with a zero byte,
    /// so the peer did not set `ZMQ_ROUTING_ID`) or one that is not UTF-8. The reply goes
    /// to the raw id, which is the only way to reach that peer.
    case unnamed(identity: [UInt8])
    /// Nothing to answer: no routing id, or frames that are not one Drover envelope.
    case malformed

    public static func decode(_ frames: [[UInt8]]) -> DispatchFrame {
        guard frames.count == 2, let identity = frames.first, !identity.isEmpty else { return .malformed }
        guard let envelope = try? Drover_V1_Envelope(serializedBytes: frames[1]),
            case .workerMessage(let message)? = envelope.body
        else { return .malformed }
        guard identity[0] != 0, let worker = String(validating: identity, as: UTF8.self) else {
            return .unnamed(identity: identity)
        }
        guard envelope.protocolVersion == droverProtocolVersion else {
            return .otherVersion(worker: worker, version: envelope.protocolVersion)
        }
        return .message(worker: worker, message)
    }

    /// The reply to a peer that did not name itself: what to set, in the protocol's words.
    public static func unnamedRefusal() -> Drover_V1_CoordinatorMessage {
        .with {
            $0.reject = .with {
                $0.error = .with {
                    $0.code = .invalidArgument
                    $0.message =
                        "The worker's routing id is not a worker id: set ZMQ_ROUTING_ID on the DEALER socket to the "
                        + "worker's id in UTF-8 (1 to 255 bytes, not starting with a zero byte) before it connects."
                }
            }
        }
    }
}
