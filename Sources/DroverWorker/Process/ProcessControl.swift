import CProcessSpawn
import DroverCore
import Synchronization

#if canImport(Glibc)
import Glibc
#endif

/// The state a `ChildProcess` shares with its supervising thread: the pid, whether it has
/// been reaped, and when to escalate to SIGKILL.
///
/// Signals go to the process group only while the direct child is unreaped, under the same
/// lock the supervisor holds to reap it: an unreaped child (even a zombie) keeps its pid, and
/// so the group id, from being reused, so a signal can never reach an unrelated process.
final class ProcessControl: Sendable {
    private struct State {
        var pid: Int32?
        /// The group guard's descriptor (see `drover_start_group_guard`); -1 without one.
        var guardFD: Int32 = -1
        var reaped = false
        var killDeadline: ContinuousClock.Instant?
    }

    private let state = Mutex(State())
    /// Read end of the pipe that wakes the supervisor from `poll`; non-blocking.
    let wakeReadFD: Int32
    private let wakeWriteFD: Int32

    /// A control with its wake-up pipe.
    init() throws(DroverError) {
        var fds: [Int32] = [-1, -1]
        guard drover_pipe(&fds, 1) == 0 else {
            throw DroverError(
                .failedPrecondition,
                "cannot start the flow run process: no pipe for its supervisor: \(errnoDescription(errno))")
        }
        wakeReadFD = fds[0]
        wakeWriteFD = fds[1]
    }

    deinit {
        close(wakeReadFD)
        close(wakeWriteFD)
    }

    /// Records the pid of the child once it runs, and starts the guard that kills its
    /// process group should the worker die first (best effort: without it the run still
    /// runs, with only the parent-death signal to stop it).
    func started(pid: Int32) {
        let guardFD = drover_start_group_guard(pid)
        state.withLock {
            $0.pid = pid
            $0.guardFD = guardFD
        }
    }

    /// Sends `signal` to the child's process group unless the child has been reaped.
    func signalGroup(_ signal: Int32) {
        state.withLock { state in
            guard let pid = state.pid, !state.reaped else { return }
            _ = kill(-pid, signal)  // ESRCH: the group is already gone.
        }
    }

    /// SIGTERM to the group now; SIGKILL by the supervisor at `now + grace` unless the child
    /// has been reaped by then. An earlier deadline from a previous call is kept.
    func terminate(grace: Duration) {
        let deadline = ContinuousClock.now.advanced(by: max(grace, .zero))
        state.withLock { state in
            guard let pid = state.pid, !state.reaped else { return }
            _ = kill(-pid, SIGTERM)
            state.killDeadline = min(state.killDeadline ?? deadline, deadline)
        }
        wake()
    }

    /// When the supervisor must send SIGKILL, if `terminate` asked for it.
    var killDeadline: ContinuousClock.Instant? {
        state.withLock { $0.killDeadline }
    }

    /// Supervisor: the grace period is over. SIGKILL to the group, once.
    func killAfterGrace() {
        state.withLock { state in
            guard let pid = state.pid, !state.reaped else { return }
            _ = kill(-pid, SIGKILL)
            state.killDeadline = nil
        }
    }

    /// Supervisor: the direct child has exited and is a zombie. SIGKILL whatever is left in
    /// its process group (the run's processes end with the run), then reap the child.
    func killGroupAndReap() -> ProcessOutcome {
        state.withLock { state in
            guard let pid = state.pid, !state.reaped else { return .exited(code: -1) }
            _ = kill(-pid, SIGKILL)
            drover_release_group_guard(state.guardFD)
            state.guardFD = -1
            state.reaped = true
            state.killDeadline = nil
            var signaled: Int32 = 0
            var value: Int32 = 0
            guard drover_reap(pid, &signaled, &value) == 0 else { return .exited(code: -1) }
            return signaled != 0 ? .signaled(signal: value) : .exited(code: value)
        }
    }

    /// Supervisor: the child can no longer be waited for (ECHILD: the worker ignores SIGCHLD
    /// or something else reaped it). Its pid may be reused already, so nothing is signalled.
    func reapedElsewhere() -> ProcessOutcome {
        state.withLock { state in
            drover_release_group_guard(state.guardFD)
            state.guardFD = -1
            state.reaped = true
            state.killDeadline = nil
        }
        return .exited(code: -1)
    }

    /// Wakes the supervisor from `poll` so it looks at the kill deadline again.
    func wake() {
        var byte: UInt8 = 1
        _ = write(wakeWriteFD, &byte, 1)  // EAGAIN: a wake-up is already pending.
    }

    /// Supervisor: empties the wake-up pipe.
    func drainWakeUps() {
        var bytes = [UInt8](repeating: 0, count: 64)
        while read(wakeReadFD, &bytes, bytes.count) > 0 {}
    }
}

/// "No such file or directory (errno 2)".
func errnoDescription(_ code: Int32) -> String {
    "\(String(cString: strerror(code))) (errno \(code))"
}
