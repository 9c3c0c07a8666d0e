import DroverCore
import ZeroMQ

/// A ROUTER socket bound the way every Drover endpoint is: messages to a vanished peer
/// fail instead of vanishing, frames are size-bounded, and each peer's queues are bounded.
public enum RouterEndpoint {
    /// The per-peer queue bound of the limit service's endpoint: its peers are a few
    /// coordinators, each with many runs' requests in flight at once.
    public static let limitServiceQueueBound: Int32 = 100_000

    /// Binds a ROUTER on `endpoint`; `portOption` names the flag to change the port, for the error.
    ///
    /// - Parameter queueBound: messages queued per peer each way (SNDHWM and RCVHWM). With
    ///   `ROUTER_MANDATORY`, a send to a peer whose queue is full fails at once
    ///   (`Socket.send` returns false) and the caller decides what that means; a peer that
    ///   sends faster than it is read is slowed by TCP.
    ///   With `security`, the endpoint is a CURVE server that admits only the keys its ZAP
    ///   handler allows (start the handler first).
    public static func bind(
        _ context: Context, endpoint: String, maxFrameBytes: Int64, ipv6: Bool, portOption: String,
        queueBound: Int32 = limitServiceQueueBound, security: ServerSecurity? = nil
    ) throws(DroverError) -> (socket: Socket, endpoint: String) {
        do {
            let socket = try Socket(context: context, type: .router)
            if let security { try security.secure(socket) }
            try socket.set(.routerMandatory, true)
            try socket.set(.maxMessageSize, maxFrameBytes)
            try socket.set(.sendHighWaterMark, queueBound)
            try socket.set(.receiveHighWaterMark, queueBound)
            if ipv6 { try socket.set(.ipv6, true) }
            return (socket, try socket.bind(endpoint))
        } catch {
            throw bindFailure(error, endpoint: endpoint, portOption: portOption)
        }
    }

    /// What to tell the user when `endpoint` cannot be bound.
    public static func bindFailure(_ error: ZeroMQError, endpoint: String, portOption: String) -> DroverError {
        switch error.code {
        case .addressInUse:
            return DroverError(
                .unavailable,
                "Could not bind \(endpoint): the address is already in use. Is another Drover server running? "
                    + "Stop it, or pick another port with \(portOption).")
        case .addressNotAvailable, .invalidArgument:
            return DroverError(
                .invalidArgument,
                "Could not bind \(endpoint): \(error.code). Check --host: it must be an address of this machine.")
        default:
            return DroverError(.unavailable, "Could not bind \(endpoint): \(error.code).")
        }
    }

    /// A ZeroMQ TCP endpoint on `host` at `port` (IPv6 hosts are bracketed).
    public static func tcp(host: String, port: Int) -> String {
        let address = host.contains(":") && !host.hasPrefix("[") ? "[\(host)]" : host
        return "tcp://\(address):\(port)"
    }
}
