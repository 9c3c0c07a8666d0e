import Foundation
import Synchronization

#if canImport(Glibc)
import Glibc
#endif

/// Turns SIGINT, SIGTERM, SIGHUP and SIGCHLD into a readable descriptor (a self-pipe), for
/// a command that waits on a limit service or a child.
///
/// It remembers which signals came, and which to pass on to a child: those another
/// process sent, but not those the terminal sent (Ctrl-C), which reached the whole
/// foreground process group, the child included, already. The handler only sets bits
/// and writes a byte to the pipe, both async-signal-safe.
enum SignalRelay {
    /// The signals passed on to a child.
    static let relayed: [Int32] = [SIGINT, SIGTERM, SIGHUP]

    nonisolated(unsafe) private static var readEnd: Int32 = -1
    nonisolated(unsafe) private static var writeEnd: Int32 = -1
    private static let received = Atomic<UInt64>(0)
    private static let toForward = Atomic<UInt64>(0)
    /// si_code of signals the kernel sent, as the terminal's are.
    private static let sentByKernel: Int32 = 0x80

    /// Installs the handlers (once) and returns the descriptor that turns readable on a signal.
    static func install() -> Int32 {
        if readEnd >= 0 { return readEnd }
        var ends: [Int32] = [-1, -1]
        guard pipe(&ends) == 0 else { return -1 }
        for end in ends {
            _ = fcntl(end, F_SETFD, FD_CLOEXEC)
            _ = fcntl(end, F_SETFL, fcntl(end, F_GETFL) | O_NONBLOCK)
        }
        (readEnd, writeEnd) = (ends[0], ends[1])
        var action = sigaction()
        action.__sigaction_handler.sa_sigaction = { signal, info, _ in
            let saved = errno
            if signal != SIGCHLD {
                let bit = UInt64(1) << UInt64(signal)
                SignalRelay.received.bitwiseOr(bit, ordering: .sequentiallyConsistent)
                if info?.pointee.si_code != SignalRelay.sentByKernel {
                    SignalRelay.toForward.bitwiseOr(bit, ordering: .sequentiallyConsistent)
                }
            }
            var byte: UInt8 = 1
            _ = write(SignalRelay.writeEnd, &byte, 1)
            errno = saved
        }
        sigemptyset(&action.sa_mask)
        action.sa_flags = SA_SIGINFO | SA_RESTART | SA_NOCLDSTOP
        var unblock = sigset_t()
        sigemptyset(&unblock)
        for signal in relayed + [SIGCHLD] {
            sigaction(signal, &action, nil)
            sigaddset(&unblock, signal)
        }
        pthread_sigmask(SIG_UNBLOCK, &unblock, nil)
        return readEnd
    }

    /// Clears the descriptor's readiness; signals that come later make it readable again.
    static func drain() {
        var buffer = [UInt8](repeating: 0, count: 64)
        while read(readEnd, &buffer, buffer.count) > 0 {}
    }

    /// The signals to pass on since the last call.
    static func takeForwards() -> [Int32] {
        let bits = toForward.exchange(0, ordering: .sequentiallyConsistent)
        return relayed.filter { bits & (UInt64(1) << UInt64($0)) != 0 }
    }

    /// The first relayed signal that came (by number), if any did.
    static var firstReceived: Int32? {
        let bits = received.load(ordering: .sequentiallyConsistent)
        return relayed.sorted().first { bits & (UInt64(1) << UInt64($0)) != 0 }
    }
}
