import CZeroMQ

/// A socket option with the C type libzmq expects for it.
///
/// libzmq checks option widths: `ZMQ_MAXMSGSIZE` given as a 4-byte int fails with
/// `EINVAL`. Typing each option with its value type makes such mistakes impossible.
public struct SocketOption<Value: SocketOptionValue>: Sendable {
    /// The `ZMQ_*` constant.
    public let code: Int32
    /// The option's libzmq name, for error messages.
    public let name: String

    public init(code: Int32, name: String) {
        self.code = code
        self.name = name
    }
}

/// A Swift type that maps to one C representation of a socket option value.
public protocol SocketOptionValue {
    /// Calls `body` with the bytes libzmq expects for this value.
    func withOptionBytes<R>(_ body: (UnsafeRawBufferPointer) throws -> R) rethrows -> R
    /// Reads the option `code` from a socket handle.
    static func read(option code: Int32, from handle: UnsafeMutableRawPointer) -> Self?
}

extension Int32: SocketOptionValue {
    public func withOptionBytes<R>(_ body: (UnsafeRawBufferPointer) throws -> R) rethrows -> R {
        try Swift.withUnsafeBytes(of: self) { try body($0) }
    }

    public static func read(option code: Int32, from handle: UnsafeMutableRawPointer) -> Int32? {
        var value: Int32 = 0
        var size = MemoryLayout<Int32>.size
        return zmq_getsockopt(handle, code, &value, &size) == 0 ? value : nil
    }
}

extension Int64: SocketOptionValue {
    public func withOptionBytes<R>(_ body: (UnsafeRawBufferPointer) throws -> R) rethrows -> R {
        try Swift.withUnsafeBytes(of: self) { try body($0) }
    }

    public static func read(option code: Int32, from handle: UnsafeMutableRawPointer) -> Int64? {
        var value: Int64 = 0
        var size = MemoryLayout<Int64>.size
        return zmq_getsockopt(handle, code, &value, &size) == 0 ? value : nil
    }
}

extension Bool: SocketOptionValue {
    public func withOptionBytes<R>(_ body: (UnsafeRawBufferPointer) throws -> R) rethrows -> R {
        try Int32(self ? 1 : 0).withOptionBytes(body)
    }

    public static func read(option code: Int32, from handle: UnsafeMutableRawPointer) -> Bool? {
        Int32.read(option: code, from: handle).map { $0 != 0 }
    }
}

extension Array: SocketOptionValue where Element == UInt8 {
    public func withOptionBytes<R>(_ body: (UnsafeRawBufferPointer) throws -> R) rethrows -> R {
        try withUnsafeBytes { try body($0) }
    }

    public static func read(option code: Int32, from handle: UnsafeMutableRawPointer) -> [UInt8]? {
        read(option: code, from: handle, capacity: 256)
    }

    static func read(option code: Int32, from handle: UnsafeMutableRawPointer, capacity: Int) -> [UInt8]? {
        var buffer = [UInt8](repeating: 0, count: capacity)
        var size = buffer.count
        guard zmq_getsockopt(handle, code, &buffer, &size) == 0 else { return nil }
        return Array(buffer.prefix(size))
    }
}

extension String: SocketOptionValue {
    public func withOptionBytes<R>(_ body: (UnsafeRawBufferPointer) throws -> R) rethrows -> R {
        try Array(utf8).withOptionBytes(body)
    }

    public static func read(option code: Int32, from handle: UnsafeMutableRawPointer) -> String? {
        // libzmq returns a CURVE key as Z85 text only when given exactly 41 bytes (40 and a NUL).
        let isCurveKey = [ZMQ_CURVE_PUBLICKEY, ZMQ_CURVE_SECRETKEY, ZMQ_CURVE_SERVERKEY].contains(code)
        guard var bytes = [UInt8].read(option: code, from: handle, capacity: isCurveKey ? 41 : 256) else { return nil }
        if let nul = bytes.firstIndex(of: 0) { bytes.removeSubrange(nul...) }
        return String(decoding: bytes, as: UTF8.self)
    }
}

// MARK: - The options Drover uses

extension SocketOption where Value == Int32 {
    /// Milliseconds pending messages may keep the socket open after close (-1 = forever). Sockets start at 0.
    public static let linger = SocketOption(code: ZMQ_LINGER, name: "ZMQ_LINGER")
    /// Messages queued per peer for sending before the socket drops or blocks.
    public static let sendHighWaterMark = SocketOption(code: ZMQ_SNDHWM, name: "ZMQ_SNDHWM")
    /// Messages queued per peer on receive.
    public static let receiveHighWaterMark = SocketOption(code: ZMQ_RCVHWM, name: "ZMQ_RCVHWM")
    /// Milliseconds a blocking send waits (-1 = forever).
    public static let sendTimeout = SocketOption(code: ZMQ_SNDTIMEO, name: "ZMQ_SNDTIMEO")
    /// Milliseconds a blocking receive waits (-1 = forever).
    public static let receiveTimeout = SocketOption(code: ZMQ_RCVTIMEO, name: "ZMQ_RCVTIMEO")
    /// Milliseconds between ZMTP PINGs (0 = off). Proves only that libzmq's I/O thread lives.
    public static let heartbeatInterval = SocketOption(code: ZMQ_HEARTBEAT_IVL, name: "ZMQ_HEARTBEAT_IVL")
    /// Milliseconds without traffic after a PING before the connection is closed.
    public static let heartbeatTimeout = SocketOption(code: ZMQ_HEARTBEAT_TIMEOUT, name: "ZMQ_HEARTBEAT_TIMEOUT")
    /// Milliseconds the remote side should wait for traffic before closing (rounded to deciseconds).
    public static let heartbeatTTL = SocketOption(code: ZMQ_HEARTBEAT_TTL, name: "ZMQ_HEARTBEAT_TTL")
    /// Milliseconds before the first reconnection attempt.
    public static let reconnectInterval = SocketOption(code: ZMQ_RECONNECT_IVL, name: "ZMQ_RECONNECT_IVL")
    /// Upper bound in milliseconds for exponential reconnection back-off (0 = no back-off).
    public static let reconnectIntervalMax = SocketOption(code: ZMQ_RECONNECT_IVL_MAX, name: "ZMQ_RECONNECT_IVL_MAX")
    /// Milliseconds a new connection may take to complete the ZMTP handshake.
    public static let handshakeInterval = SocketOption(code: ZMQ_HANDSHAKE_IVL, name: "ZMQ_HANDSHAKE_IVL")
    /// The socket's pending events (`ZMQ_POLLIN`, `ZMQ_POLLOUT`); read-only.
    public static let events = SocketOption(code: ZMQ_EVENTS, name: "ZMQ_EVENTS")
    /// The socket's type constant; read-only.
    public static let type = SocketOption(code: ZMQ_TYPE, name: "ZMQ_TYPE")
}

extension SocketOption where Value == Int64 {
    /// The largest message in bytes a peer may send before it is disconnected (-1 = unlimited).
    public static let maxMessageSize = SocketOption(code: ZMQ_MAXMSGSIZE, name: "ZMQ_MAXMSGSIZE")
}

extension SocketOption where Value == Bool {
    /// ROUTER: fail a send to an unknown peer with `hostUnreachable` instead of dropping it.
    public static let routerMandatory = SocketOption(code: ZMQ_ROUTER_MANDATORY, name: "ZMQ_ROUTER_MANDATORY")
    /// ROUTER: a new connection with a routing id in use takes it over from the old one.
    public static let routerHandover = SocketOption(code: ZMQ_ROUTER_HANDOVER, name: "ZMQ_ROUTER_HANDOVER")
    /// Queue messages only on completed connections.
    public static let immediate = SocketOption(code: ZMQ_IMMEDIATE, name: "ZMQ_IMMEDIATE")
    /// Accept IPv6 as well as IPv4.
    public static let ipv6 = SocketOption(code: ZMQ_IPV6, name: "ZMQ_IPV6")
    /// Act as the CURVE server of the connection.
    public static let curveServer = SocketOption(code: ZMQ_CURVE_SERVER, name: "ZMQ_CURVE_SERVER")
    /// Fail the handshake when no ZAP handler answers (otherwise CURVE accepts any client).
    public static let zapEnforceDomain = SocketOption(code: ZMQ_ZAP_ENFORCE_DOMAIN, name: "ZMQ_ZAP_ENFORCE_DOMAIN")
    /// Whether more frames of the current message follow; read-only.
    public static let receiveMore = SocketOption(code: ZMQ_RCVMORE, name: "ZMQ_RCVMORE")
}

extension SocketOption where Value == [UInt8] {
    /// The identity a ROUTER peer sees for this socket (1–255 bytes, not starting with 0).
    public static let routingID = SocketOption(code: ZMQ_ROUTING_ID, name: "ZMQ_ROUTING_ID")
    /// SUB: receive messages whose first frame starts with these bytes.
    public static let subscribe = SocketOption(code: ZMQ_SUBSCRIBE, name: "ZMQ_SUBSCRIBE")
    /// SUB: stop receiving a topic.
    public static let unsubscribe = SocketOption(code: ZMQ_UNSUBSCRIBE, name: "ZMQ_UNSUBSCRIBE")
}

extension SocketOption where Value == String {
    /// This socket's long-term CURVE public key (Z85, 40 characters).
    public static let curvePublicKey = SocketOption(code: ZMQ_CURVE_PUBLICKEY, name: "ZMQ_CURVE_PUBLICKEY")
    /// This socket's long-term CURVE secret key (Z85, 40 characters).
    public static let curveSecretKey = SocketOption(code: ZMQ_CURVE_SECRETKEY, name: "ZMQ_CURVE_SECRETKEY")
    /// The server's CURVE public key, set on clients (Z85, 40 characters).
    public static let curveServerKey = SocketOption(code: ZMQ_CURVE_SERVERKEY, name: "ZMQ_CURVE_SERVERKEY")
    /// The ZAP domain used to authenticate peers.
    public static let zapDomain = SocketOption(code: ZMQ_ZAP_DOMAIN, name: "ZMQ_ZAP_DOMAIN")
    /// The endpoint last bound or connected, with the port a wildcard bind chose; read-only.
    public static let lastEndpoint = SocketOption(code: ZMQ_LAST_ENDPOINT, name: "ZMQ_LAST_ENDPOINT")
}
