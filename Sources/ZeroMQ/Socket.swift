import CZeroMQ

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// A ZeroMQ socket.
///
/// Sockets are not thread-safe, so `Socket` is deliberately not `Sendable`: the thread
/// that creates one is the only one that uses and closes it. Every socket starts with
/// `ZMQ_LINGER` at 0, so closing never waits on undelivered messages.
public final class Socket {
    /// The socket's pattern.
    public let type: SocketType
    let handle: UnsafeMutableRawPointer
    // Retained so the context is terminated only after this socket is closed.
    let context: Context

    /// Creates a socket of `type` in `context`.
    public init(context: Context, type: SocketType) throws(ZeroMQError) {
        guard let handle = zmq_socket(context.handle, type.rawValue) else {
            throw .last("zmq_socket")
        }
        self.type = type
        self.handle = handle
        self.context = context
        try set(.linger, 0)
    }

    deinit {
        zmq_close(handle)
    }

    // MARK: Endpoints

    /// Binds to `endpoint`, such as `tcp://127.0.0.1:4201` or `tcp://127.0.0.1:*`.
    /// - Returns: the bound endpoint, with the port a wildcard chose.
    @discardableResult
    public func bind(_ endpoint: String) throws(ZeroMQError) -> String {
        guard zmq_bind(handle, endpoint) == 0 else { throw .last("zmq_bind", endpoint: endpoint) }
        return (try? get(.lastEndpoint)) ?? endpoint
    }

    /// Connects to `endpoint`; libzmq connects in the background and reconnects by itself.
    public func connect(_ endpoint: String) throws(ZeroMQError) {
        guard zmq_connect(handle, endpoint) == 0 else { throw .last("zmq_connect", endpoint: endpoint) }
    }

    /// Stops listening on a bound endpoint.
    public func unbind(_ endpoint: String) throws(ZeroMQError) {
        guard zmq_unbind(handle, endpoint) == 0 else { throw .last("zmq_unbind", endpoint: endpoint) }
    }

    /// Drops a connection made with `connect`.
    public func disconnect(_ endpoint: String) throws(ZeroMQError) {
        guard zmq_disconnect(handle, endpoint) == 0 else { throw .last("zmq_disconnect", endpoint: endpoint) }
    }

    // MARK: Options

    /// Sets a socket option.
    public func set<Value>(_ option: SocketOption<Value>, _ value: Value) throws(ZeroMQError) {
        let status = value.withOptionBytes { bytes in
            zmq_setsockopt(handle, option.code, bytes.baseAddress, bytes.count)
        }
        guard status == 0 else { throw .last("zmq_setsockopt(\(option.name))") }
    }

    /// Reads a socket option.
    public func get<Value>(_ option: SocketOption<Value>) throws(ZeroMQError) -> Value {
        guard let value = Value.read(option: option.code, from: handle) else {
            throw .last("zmq_getsockopt(\(option.name))")
        }
        return value
    }

    // MARK: Messages

    /// Sends all frames of `message` as one multipart message.
    ///
    /// - Parameter wait: when false, return at once instead of blocking.
    /// - Returns: false when `wait` is false and the message could not be queued
    ///   (high-water mark reached, or no connected peer); the message was not sent.
    @discardableResult
    public func send(_ message: Message, wait: Bool = true) throws(ZeroMQError) -> Bool {
        precondition(!message.frames.isEmpty, "a ZeroMQ message has at least one frame")
        let last = message.frames.count - 1
        for (index, frame) in message.frames.enumerated() {
            var flags: Int32 = index < last ? ZMQ_SNDMORE : 0
            if !wait { flags |= ZMQ_DONTWAIT }
            while true {
                let sent = frame.withUnsafeBytes { zmq_send(handle, $0.baseAddress, $0.count, flags) }
                if sent >= 0 { break }
                let error = ZeroMQError.last("zmq_send")
                if error.code == .interrupted { continue }
                // libzmq queues a multipart message atomically: only the first frame can be refused.
                if error.code == .wouldBlock && index == 0 { return false }
                throw error
            }
        }
        return true
    }

    /// Sends one frame.
    @discardableResult
    public func send(_ frame: [UInt8], wait: Bool = true) throws(ZeroMQError) -> Bool {
        try send(Message([frame]), wait: wait)
    }

    /// Receives one whole multipart message.
    ///
    /// - Parameter wait: when false, return nil at once if no message is waiting.
    /// - Returns: the message, with the descriptor of the connection it came in on, or nil
    ///   when `wait` is false and none is waiting, or when a receive timeout set with
    ///   `receiveTimeout` expired.
    public func receive(wait: Bool = true) throws(ZeroMQError) -> Message? {
        let part = UnsafeMutablePointer<zmq_msg_t>.allocate(capacity: 1)
        defer { part.deallocate() }
        var frames: [[UInt8]] = []
        var sourceFD: Int32?
        var userID: String?
        while true {
            zmq_msg_init(part)
            let flags: Int32 = (frames.isEmpty && !wait) ? ZMQ_DONTWAIT : 0
            if zmq_msg_recv(part, handle, flags) < 0 {
                let error = ZeroMQError.last("zmq_msg_recv")
                zmq_msg_close(part)
                if error.code == .interrupted { continue }
                if error.code == .wouldBlock && frames.isEmpty { return nil }
                throw error
            }
            let size = zmq_msg_size(part)
            if size > 0, let data = zmq_msg_data(part) {
                frames.append(Array(UnsafeRawBufferPointer(start: data, count: size)))
            } else {
                frames.append([])
            }
            if sourceFD == nil {
                // Deprecated in libzmq but kept (Debian's 4.3.4 has it); -1 for inproc.
                let fd = zmq_msg_get(part, ZMQ_SRCFD)
                if fd >= 0 { sourceFD = fd }
            }
            // A ROUTER's routing-id frame carries no metadata; the peer's own frames do.
            if userID == nil, let property = zmq_msg_gets(part, "User-Id"), property.pointee != 0 {
                userID = String(cString: property)
            }
            // Read `more` before closing: closing releases the message's state.
            let more = zmq_msg_more(part) != 0
            zmq_msg_close(part)
            if !more {
                var message = Message(frames)
                message.sourceFD = sourceFD
                message.userID = userID
                return message
            }
        }
    }
}
