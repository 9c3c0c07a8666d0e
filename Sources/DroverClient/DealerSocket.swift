import DroverProto
import ZeroMQ

/// The DEALER socket both clients talk through: Drover's frame limit, connected in the
/// background to `endpoint`, on `context` or a context of its own.
enum DealerSocket {
    static func connect(to endpoint: String, context: Context?) throws(ZeroMQError) -> Socket {
        let shared: Context
        if let context { shared = context } else { shared = try Context(ioThreads: 1) }
        let socket = try Socket(context: shared, type: .dealer)
        try socket.set(.maxMessageSize, droverMaxFrameBytes)
        try socket.connect(endpoint)
        return socket
    }
}
