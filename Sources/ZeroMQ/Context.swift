import CZeroMQ

/// A libzmq context: the I/O threads and the registry of sockets and inproc endpoints.
///
/// A context is thread-safe and is shared by every socket of a process. Each `Socket`
/// keeps its context alive, so the context is terminated only after the last socket
/// has been closed; termination therefore never hangs on an open socket.
public final class Context: @unchecked Sendable {
    let handle: UnsafeMutableRawPointer

    /// Creates a context.
    /// - Parameters:
    ///   - ioThreads: libzmq I/O threads; one serves about a gigabyte a second.
    ///   - maxSockets: the most sockets this context may open at once (libzmq's default is 1,023).
    public init(ioThreads: Int32 = 1, maxSockets: Int32 = 1023) throws(ZeroMQError) {
        guard let handle = zmq_ctx_new() else { throw .last("zmq_ctx_new") }
        self.handle = handle
        if zmq_ctx_set(handle, ZMQ_IO_THREADS, ioThreads) != 0 {
            let error = ZeroMQError.last("zmq_ctx_set(ZMQ_IO_THREADS)")
            zmq_ctx_term(handle)
            throw error
        }
        if zmq_ctx_set(handle, ZMQ_MAX_SOCKETS, maxSockets) != 0 {
            let error = ZeroMQError.last("zmq_ctx_set(ZMQ_MAX_SOCKETS)")
            zmq_ctx_term(handle)
            throw error
        }
    }

    /// Makes every blocking call on this context's sockets return `contextTerminated`.
    ///
    /// Owners then close their sockets on their own threads. Safe to call from any thread.
    public func shutdown() {
        zmq_ctx_shutdown(handle)
    }

    deinit {
        while zmq_ctx_term(handle) != 0 && zmq_errno() == EINTR {}
    }
}

/// Facts about the libzmq this process is linked with.
public enum ZeroMQLibrary {
    /// The libzmq version, such as (4, 3, 4).
    public static var version: (major: Int, minor: Int, patch: Int) {
        var major: Int32 = 0, minor: Int32 = 0, patch: Int32 = 0
        zmq_version(&major, &minor, &patch)
        return (Int(major), Int(minor), Int(patch))
    }

    /// Whether libzmq was built with a capability such as `"curve"` or `"ipc"`.
    public static func has(_ capability: String) -> Bool {
        zmq_has(capability) == 1
    }
}
