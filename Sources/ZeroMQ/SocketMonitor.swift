import CZeroMQ
import Synchronization

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Tells when a socket's connections open and close, through libzmq's socket monitor
/// (`zmq_socket_monitor`).
///
/// A ROUTER never says that a peer left; its monitor does, at once: libzmq's I/O thread
/// writes an event to an inproc PAIR that this monitor owns, and the owner reads it like
/// any socket. A connection event carries the connection's file descriptor, the same
/// number `Message.sourceFD` gives for each message that came in on it, so the owner can
/// tell whose connection closed. The descriptor is reused by the kernel once closed:
/// events of one descriptor arrive in order (a connection's `disconnected` before the
/// next one's `accepted`), and every event of a connection was written before any of its
/// messages can be received, so reading the monitor after receiving a message shows that
/// message's connection.
///
/// A monitor belongs to the thread that owns the monitored socket, which keeps both:
/// add `socket` to that thread's `Poller` and call `receive(wait: false)` until nil on every
/// wake-up. Read it promptly: libzmq sends events with a blocking send, so its I/O thread
/// waits once `queueBound` events are unread.
public final class SocketMonitor {
    /// Kinds of socket events (`ZMQ_EVENT_*`), as a set to subscribe to.
    public struct Events: OptionSet, Sendable, Hashable {
        public let rawValue: UInt16
        public init(rawValue: UInt16) { self.rawValue = rawValue }

        /// A connection this socket made is up (value: its descriptor).
        public static let connected = Events(rawValue: UInt16(ZMQ_EVENT_CONNECTED))
        /// A connection this socket asked for is pending.
        public static let connectDelayed = Events(rawValue: UInt16(ZMQ_EVENT_CONNECT_DELAYED))
        /// A connection is being retried (value: the reconnect interval in milliseconds).
        public static let connectRetried = Events(rawValue: UInt16(ZMQ_EVENT_CONNECT_RETRIED))
        /// The socket listens on an endpoint (value: the listening descriptor).
        public static let listening = Events(rawValue: UInt16(ZMQ_EVENT_LISTENING))
        /// Binding failed (value: errno).
        public static let bindFailed = Events(rawValue: UInt16(ZMQ_EVENT_BIND_FAILED))
        /// A peer's connection was accepted (value: its descriptor).
        public static let accepted = Events(rawValue: UInt16(ZMQ_EVENT_ACCEPTED))
        /// Accepting a connection failed (value: errno).
        public static let acceptFailed = Events(rawValue: UInt16(ZMQ_EVENT_ACCEPT_FAILED))
        /// A listening or connecting descriptor was closed (value: the descriptor).
        public static let closed = Events(rawValue: UInt16(ZMQ_EVENT_CLOSED))
        /// Closing a descriptor failed (value: errno).
        public static let closeFailed = Events(rawValue: UInt16(ZMQ_EVENT_CLOSE_FAILED))
        /// A connection ended, whoever closed it and why (value: its descriptor).
        public static let disconnected = Events(rawValue: UInt16(ZMQ_EVENT_DISCONNECTED))
        /// The ZMTP handshake of a connection succeeded.
        public static let handshakeSucceeded = Events(rawValue: UInt16(ZMQ_EVENT_HANDSHAKE_SUCCEEDED))
        /// The ZMTP handshake failed for a reason libzmq does not name (value: errno).
        public static let handshakeFailedNoDetail = Events(rawValue: UInt16(ZMQ_EVENT_HANDSHAKE_FAILED_NO_DETAIL))
        /// The peer broke the ZMTP protocol during the handshake.
        public static let handshakeFailedProtocol = Events(rawValue: UInt16(ZMQ_EVENT_HANDSHAKE_FAILED_PROTOCOL))
        /// The peer failed authentication (value: the ZAP status code).
        public static let handshakeFailedAuth = Events(rawValue: UInt16(ZMQ_EVENT_HANDSHAKE_FAILED_AUTH))
        /// Every event above.
        public static let all = Events(rawValue: UInt16(truncatingIfNeeded: ZMQ_EVENT_ALL))
    }

    /// One event: its kind (a single member of `Events`), its value and the endpoint.
    public struct Event: Sendable, Equatable {
        public let kind: Events
        /// The descriptor for connection events; an errno, an interval or a status otherwise.
        public let value: UInt32
        /// The endpoint the event is about, such as `tcp://127.0.0.1:4202`.
        public let endpoint: String

        public init(kind: Events, value: UInt32, endpoint: String) {
            self.kind = kind
            self.value = value
            self.endpoint = endpoint
        }

        /// `value` read as the connection's descriptor, which `Message.sourceFD` names too.
        public var fileDescriptor: Int32 { Int32(bitPattern: value) }

        /// Reads libzmq's version 1 event message: a 6-byte frame holding the event's
        /// 16-bit id and its 32-bit value in the host's byte order, then the endpoint.
        /// Nil for anything else.
        public init?(frames: [[UInt8]]) {
            guard frames.count == 2, frames[0].count == 6 else { return nil }
            let head = frames[0]
            let id = head.withUnsafeBytes { $0.loadUnaligned(fromByteOffset: 0, as: UInt16.self) }
            let value = head.withUnsafeBytes { $0.loadUnaligned(fromByteOffset: 2, as: UInt32.self) }
            self.init(kind: Events(rawValue: id), value: value, endpoint: String(decoding: frames[1], as: UTF8.self))
        }
    }

    /// Events held for the owner before libzmq's I/O thread waits for it to read them.
    public static let queueBound: Int32 = 100_000

    /// The PAIR the events arrive on: add it to the owner's `Poller`.
    public let socket: Socket
    private let monitored: Socket

    private static let nextID = Atomic<UInt64>(0)

    /// Starts monitoring `monitored` for `events`; the monitor shares its context and its thread.
    public init(_ monitored: Socket, events: Events) throws(ZeroMQError) {
        let id = Self.nextID.add(1, ordering: .relaxed).newValue
        let endpoint = "inproc://zeromq-socket-monitor-\(id)"
        guard zmq_socket_monitor(monitored.handle, endpoint, Int32(events.rawValue)) == 0 else {
            throw .last("zmq_socket_monitor", endpoint: endpoint)
        }
        do {
            let pair = try Socket(context: monitored.context, type: .pair)
            try pair.set(.receiveHighWaterMark, Self.queueBound)
            try pair.connect(endpoint)
            socket = pair
        } catch {
            zmq_socket_monitor(monitored.handle, nil, 0)
            throw error
        }
        self.monitored = monitored
    }

    deinit {
        // Stop libzmq's side first: once the PAIR is closed, an event sent to it would block
        // the I/O thread for good. The PAIR closes after this, the monitored socket later.
        zmq_socket_monitor(monitored.handle, nil, 0)
    }

    /// Ends the connection on `fd` at once, as if its peer had closed it: libzmq reports it
    /// `disconnected`, and a peer that connected reconnects by itself (a DEALER keeps what it
    /// had not yet written for the new connection).
    ///
    /// For a connection this monitor reported `accepted` and not yet `disconnected`, so that
    /// the descriptor is still libzmq's; it only shuts the connection down (`shutdown(2)`) and
    /// leaves closing the descriptor to libzmq. A ROUTER without handover ignores for good a
    /// connection that arrived while its routing id was still taken; ending it lets its peer
    /// come back once the id is free.
    public func shutDown(connection fd: Int32) {
        _ = shutdown(fd, Int32(SHUT_RDWR))
    }

    /// The next event.
    ///
    /// - Parameter wait: when false, return nil at once if no event is waiting.
    /// - Returns: nil when none is waiting; a message that is not an event is skipped.
    public func receive(wait: Bool = false) throws(ZeroMQError) -> Event? {
        while let message = try socket.receive(wait: wait) {
            if let event = Event(frames: message.frames) { return event }
        }
        return nil
    }
}
