#if canImport(ZeroMQ) && canImport(DroverProto)
import DroverProto
import Foundation
import Testing
import ZeroMQ

/// A DEALER on a server's control endpoint that sends raw frames. Created, used and
/// closed on one thread, as ZeroMQ sockets must be.
final class RawPeer {
    private let socket: Socket

    /// `routingID` nil: ZeroMQ picks one (5 bytes, the first of them zero).
    init(endpoint: String, routingID: [UInt8]? = nil) throws {
        socket = try Socket(context: try Context(ioThreads: 1), type: .dealer)
        if let routingID { try socket.set(.routingID, routingID) }
        try socket.connect(endpoint)
    }

    func send(_ frames: [[UInt8]]) throws {
        _ = try socket.send(Message(frames))
    }

    /// The next reply, or nil if none arrives within `seconds` (a failure guard).
    func awaitReply(seconds: Double) throws -> Drover_V1_Envelope? {
        var poller = Poller()
        let index = poller.add(socket)
        guard try poller.poll(timeout: .milliseconds(Int64(seconds * 1000)))[index].contains(.readable),
            let message = try socket.receive(wait: false)
        else { return nil }
        guard message.frames.count == 1 else {
            Issue.record("a reply of \(message.frames.count) frames")
            return nil
        }
        return try Drover_V1_Envelope(serializedBytes: message.frames[0])
    }

    /// Sends `GetServerInfo` until one is answered; returns every reply received on the way.
    func askUntilServerInfo(attempts: Int, secondsEach: Double) throws -> [Drover_V1_Envelope] {
        var replies: [Drover_V1_Envelope] = []
        for attempt in 1...attempts {
            try send([serverInfoRequest(id: 100 + UInt64(attempt))])
            while let reply = try awaitReply(seconds: secondsEach) {
                replies.append(reply)
                if reply.isServerInfo { return replies }
            }
        }
        return replies
    }
}

/// A `GetServerInfo` request envelope.
func serverInfoRequest(id: UInt64) throws -> [UInt8] {
    try Drover_V1_Envelope.request(
        .with {
            $0.requestID = id; $0.getServerInfo = .init()
        }
    ).serializedBytes()
}

extension Drover_V1_Envelope {
    var isServerInfo: Bool {
        if case .serverInfo? = controlReply.result { return true }
        return false
    }
}
#endif
