import CZeroMQ

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Events a poller waits for or reports.
public struct PollEvents: OptionSet, Sendable, Hashable {
    public let rawValue: Int16
    public init(rawValue: Int16) { self.rawValue = rawValue }

    /// At least one message (or byte, for a file descriptor) can be read.
    public static let readable = PollEvents(rawValue: Int16(ZMQ_POLLIN))
    /// At least one message can be sent without blocking.
    public static let writable = PollEvents(rawValue: Int16(ZMQ_POLLOUT))
    /// An error condition on a file descriptor.
    public static let error = PollEvents(rawValue: Int16(ZMQ_POLLERR))
}

/// Waits on several sockets and file descriptors at once with `zmq_poll`.
///
/// Polling is level-triggered: a socket stays readable until it has been drained.
/// A poller belongs to the thread that owns its sockets.
public struct Poller {
    private var items: [zmq_pollitem_t] = []
    private var sockets: [Socket?] = []

    public init() {}

    /// Adds a socket; returns its index in `poll`'s result.
    @discardableResult
    public mutating func add(_ socket: Socket, events: PollEvents = .readable) -> Int {
        items.append(zmq_pollitem_t(socket: socket.handle, fd: -1, events: events.rawValue, revents: 0))
        sockets.append(socket)
        return items.count - 1
    }

    /// Adds a file descriptor, such as a `Wakeup`'s; returns its index in `poll`'s result.
    @discardableResult
    public mutating func add(fileDescriptor: Int32, events: PollEvents = .readable) -> Int {
        items.append(zmq_pollitem_t(socket: nil, fd: fileDescriptor, events: events.rawValue, revents: 0))
        sockets.append(nil)
        return items.count - 1
    }

    /// Waits until an item has one of its events or `timeout` passes.
    ///
    /// - Parameter timeout: nil waits forever. libzmq counts in milliseconds; shorter
    ///   positive timeouts round up to one millisecond.
    /// - Returns: the events that occurred, one entry per added item, in order.
    public mutating func poll(timeout: Duration?) throws(ZeroMQError) -> [PollEvents] {
        let milliseconds = timeout.map(Self.milliseconds) ?? -1
        while true {
            let count = items.withUnsafeMutableBufferPointer { buffer in
                zmq_poll(buffer.baseAddress, Int32(buffer.count), milliseconds)
            }
            if count >= 0 { break }
            let error = ZeroMQError.last("zmq_poll")
            if error.code == .interrupted { continue }
            throw error
        }
        return items.map { PollEvents(rawValue: $0.revents) }
    }

    static func milliseconds(_ duration: Duration) -> Int {
        let (seconds, attoseconds) = duration.components
        if seconds < 0 || (seconds == 0 && attoseconds <= 0) { return 0 }
        // Clamp before multiplying: seconds * 1000 can overflow Int64 and wrap.
        if seconds > Int64(Int32.max) / 1000 { return Int(Int32.max) }
        let fraction = (attoseconds + 999_999_999_999_999) / 1_000_000_000_000_000
        return Int(min(seconds * 1000 + fraction, Int64(Int32.max)))
    }
}
