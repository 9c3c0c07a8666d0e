import CZeroMQ

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// A failed libzmq call: which call, on which endpoint, and the `errno` it left.
///
/// The wrapper reads `zmq_errno()` immediately after the failing call, so the code is
/// always the one that call produced. `EAGAIN` and `EINTR` never surface as errors:
/// non-blocking calls report "would block" in their return value and interrupted calls
/// are retried.
public struct ZeroMQError: Error, Sendable, Equatable, CustomStringConvertible {
    /// An `errno` value, named for the cases Drover reacts to.
    public struct Code: RawRepresentable, Hashable, Sendable, CustomStringConvertible {
        public let rawValue: Int32
        public init(rawValue: Int32) { self.rawValue = rawValue }

        /// A non-blocking call would have blocked.
        public static let wouldBlock = Code(rawValue: EAGAIN)
        /// A ROUTER with `ZMQ_ROUTER_MANDATORY` has no peer with that routing id.
        public static let hostUnreachable = Code(rawValue: EHOSTUNREACH)
        /// The context is shutting down; close the socket on its own thread and stop.
        public static let contextTerminated = Code(rawValue: 156_384_712 + 53)  // ETERM
        /// The operation is not valid in the socket's current state (for example REQ sending twice).
        public static let invalidState = Code(rawValue: 156_384_712 + 51)  // EFSM
        /// A bad argument, most often an option given with the wrong width or value.
        public static let invalidArgument = Code(rawValue: EINVAL)
        /// The endpoint is already bound by this or another process.
        public static let addressInUse = Code(rawValue: EADDRINUSE)
        /// The endpoint cannot be bound on this host.
        public static let addressNotAvailable = Code(rawValue: EADDRNOTAVAIL)
        /// The transport in the endpoint is not known to libzmq.
        public static let protocolNotSupported = Code(rawValue: EPROTONOSUPPORT)
        /// The feature is not compiled into this libzmq (for example CURVE without libsodium).
        public static let notSupported = Code(rawValue: ENOTSUP)
        /// An inproc endpoint was connected before it was bound, or no such endpoint exists.
        public static let connectionRefused = Code(rawValue: ECONNREFUSED)
        /// The process or context reached its limit of open sockets or files.
        public static let tooManyOpenFiles = Code(rawValue: EMFILE)
        /// A signal interrupted the call (retried internally, never thrown).
        public static let interrupted = Code(rawValue: EINTR)

        public var description: String { String(cString: zmq_strerror(rawValue)) }
    }

    /// What went wrong, as an `errno` value.
    public let code: Code
    /// The libzmq call that failed, such as `zmq_bind`.
    public let operation: String
    /// The endpoint involved, when the call had one.
    public let endpoint: String?

    public init(code: Code, operation: String, endpoint: String? = nil) {
        self.code = code
        self.operation = operation
        self.endpoint = endpoint
    }

    /// The raw `errno` value.
    public var errno: Int32 { code.rawValue }

    public var description: String {
        if let endpoint {
            return "\(operation)(\(endpoint)): \(code)"
        }
        return "\(operation): \(code)"
    }

    /// Captures `zmq_errno()` for the call that just failed.
    static func last(_ operation: String, endpoint: String? = nil) -> ZeroMQError {
        ZeroMQError(code: Code(rawValue: zmq_errno()), operation: operation, endpoint: endpoint)
    }
}
