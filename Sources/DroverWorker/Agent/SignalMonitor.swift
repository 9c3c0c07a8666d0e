import Foundation
import Synchronization
import ZeroMQ

#if canImport(Glibc)
import Glibc
#endif

/// Turns SIGINT and SIGTERM into readable events on a `Wakeup`, for a poll loop.
///
/// The handlers are installed explicitly, so a worker started with `&` from a script,
/// which inherits SIGINT as ignored, still drains on it. The handler only counts the
/// signal and rings the eventfd, both async-signal-safe.
public enum SignalMonitor {
    /// Signals received since start.
    public static var count: Int { received.load(ordering: .sequentiallyConsistent) }

    private static let received = Atomic<Int>(0)
    nonisolated(unsafe) private static var descriptor: Int32 = -1

    /// Installs the handlers; signals then ring `wakeup`. Call once, before the loop.
    public static func install(wakeup: Wakeup) {
        descriptor = wakeup.fileDescriptor
        var action = sigaction()
        action.__sigaction_handler.sa_handler = { _ in
            SignalMonitor.received.wrappingAdd(1, ordering: .sequentiallyConsistent)
            var one: UInt64 = 1
            _ = write(SignalMonitor.descriptor, &one, MemoryLayout<UInt64>.size)
        }
        sigemptyset(&action.sa_mask)
        action.sa_flags = SA_RESTART
        sigaction(SIGINT, &action, nil)
        sigaction(SIGTERM, &action, nil)
        var unblock = sigset_t()
        sigemptyset(&unblock)
        sigaddset(&unblock, SIGINT)
        sigaddset(&unblock, SIGTERM)
        pthread_sigmask(SIG_UNBLOCK, &unblock, nil)
    }
}
