import CZeroMQ

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// A cross-thread doorbell for a poll loop, built on Linux's `eventfd`.
///
/// Any thread may `signal()`; the loop polls `fileDescriptor` for `.readable` and calls
/// `drain()` when it fires. Signals coalesce: many rings before a drain wake the loop once.
public final class Wakeup: Sendable {
    /// The descriptor to add to a `Poller`.
    public let fileDescriptor: Int32

    public init() throws(ZeroMQError) {
        let fd = eventfd(0, Int32(EFD_NONBLOCK | EFD_CLOEXEC))
        guard fd >= 0 else {
            throw ZeroMQError(code: .init(rawValue: errno), operation: "eventfd")
        }
        fileDescriptor = fd
    }

    /// Wakes the loop. Safe from any thread, including signal handlers.
    public func signal() {
        var one: UInt64 = 1
        _ = write(fileDescriptor, &one, MemoryLayout<UInt64>.size)
    }

    /// Clears pending signals; returns how many arrived since the last drain.
    @discardableResult
    public func drain() -> UInt64 {
        var count: UInt64 = 0
        let got = read(fileDescriptor, &count, MemoryLayout<UInt64>.size)
        return got == MemoryLayout<UInt64>.size ? count : 0
    }

    deinit {
        close(fileDescriptor)
    }
}
