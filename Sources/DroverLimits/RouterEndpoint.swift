import DroverCore
import ZeroMQ

/// A ROUTER socket bound the way every Drover endpoint is: messages to a vanished peer
/// fail instead of vanishing, frames are size-bounded, and queues are deep.
public enum RouterEndpoint {
    /// Binds a ROUTER on `endpoint`; `portOption` names the flag to change the port, for the error.
    public static func bind(
        _ context: Context, endpoint: String, maxFrameBytes: Int64, ipv6: Bool, portOption: String
    ) throws(DroverError) -> (socket: Socket, endpoint: String) {
        do {
            let socket = try Socket(context: context, type: .router)
            try socket.set(.routerMandatory, true)
            try socket.set(.maxMessageSize, maxFrameBytes)
            try socket.set(.sendHighWaterMark, 100_000)
            try socket.set(.receiveHighWaterMark, 100_000)
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
