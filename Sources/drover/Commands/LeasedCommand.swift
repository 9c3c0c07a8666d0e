import DroverClient
import DroverCore
import DroverProto
import DroverSystem
import Foundation

#if canImport(Glibc)
import Glibc
#endif

/// A command run as a child while its lease is renewed, and the lease released when it ends.
///
/// The child shares this process's terminal and process group, so it reads the terminal
/// and gets Ctrl-C straight from it; signals sent to this process by others are passed on.
struct LeasedCommand {
    let command: [String]
    let lease: Drover_V1_Lease
    let connection: LimitClient
    /// The relay's descriptor: readable after a signal or a child's exit.
    let signals: Int32

    /// Runs the command to its end and returns the exit code to exit with.
    func run() -> Int32 {
        let pid: pid_t
        switch spawn() {
        case .success(let started):
            pid = started
        case .failure(let error):
            release()
            Terminal.error("Could not run '\(command[0])': \(String(cString: strerror(error.code))).")
            return error.code == ENOENT ? 127 : 126
        }
        let ttl = Duration.milliseconds(Int64(lease.ttlMs > 0 ? lease.ttlMs : 30_000))
        let interval = ttl / 3
        let clock = ContinuousClock()
        var nextRenewal: ContinuousClock.Instant? = clock.now + interval
        var renewalFailing = false
        var status: Int32 = 0
        while true {
            SignalRelay.drain()
            let reaped = waitpid(pid, &status, WNOHANG)
            if reaped == pid { break }
            if reaped < 0 && errno != EINTR {
                Terminal.error("Lost track of '\(command[0])' (pid \(pid)): \(String(cString: strerror(errno))).")
                release()
                return 1
            }
            for signal in SignalRelay.takeForwards() { kill(pid, signal) }
            if let due = nextRenewal, clock.now >= due {
                do {
                    guard let renewed = try connection.renew(leaseIDs: [lease.id], cancellation: signals) else {
                        continue  // a signal or the child's exit came first: see to it, then renew
                    }
                    if renewed.unknownLeaseIds.contains(lease.id) {
                        Terminal.error(
                            "Warning: the lease on \(ConcurrencyCommand.list(lease.limits)) is gone (expired, or "
                                + "released by someone else); '\(command[0])' runs on without its slots.")
                        nextRenewal = nil
                    } else {
                        renewalFailing = false
                        nextRenewal = clock.now + interval
                    }
                } catch {
                    if !renewalFailing {
                        Terminal.error("Warning: could not renew the lease: \(error.message) Trying again.")
                    }
                    renewalFailing = true
                    nextRenewal = clock.now + min(interval, .seconds(1))
                }
                continue
            }
            var item = pollfd(fd: signals, events: Int16(POLLIN), revents: 0)
            _ = poll(&item, 1, PollTimeout.milliseconds(until: nextRenewal))
        }
        release()
        let signal = status & 0x7f
        return signal == 0 ? (status >> 8) & 0xff : 128 + signal
    }

    private func release() {
        do {
            try connection.release(leaseIDs: [lease.id])
        } catch {
            Terminal.error(
                "Warning: could not release the lease: \(error.message) "
                    + "Its slots free themselves when it expires, within \(max(1, lease.ttlMs / 1000)) s.")
        }
    }

    /// Why the command could not start: an errno.
    struct SpawnError: Error { let code: Int32 }

    /// Starts the command, found on PATH, with this process's environment and standard
    /// streams, every signal at its default and none blocked.
    private func spawn() -> Result<pid_t, SpawnError> {
        var attributes = posix_spawnattr_t()
        posix_spawnattr_init(&attributes)
        defer { posix_spawnattr_destroy(&attributes) }
        var defaults = sigset_t()
        sigemptyset(&defaults)
        for signal in SignalRelay.relayed + [SIGCHLD, SIGPIPE, SIGQUIT] { sigaddset(&defaults, signal) }
        posix_spawnattr_setsigdefault(&attributes, &defaults)
        var mask = sigset_t()
        sigemptyset(&mask)
        posix_spawnattr_setsigmask(&attributes, &mask)
        posix_spawnattr_setflags(&attributes, Int16(POSIX_SPAWN_SETSIGDEF | POSIX_SPAWN_SETSIGMASK))
        let arguments: [UnsafeMutablePointer<CChar>?] = command.map { strdup($0) } + [nil]
        defer { for argument in arguments { free(argument) } }
        var pid: pid_t = 0
        let result = posix_spawnp(&pid, command[0], nil, &attributes, arguments, environ)
        return result == 0 ? .success(pid) : .failure(SpawnError(code: result))
    }
}
