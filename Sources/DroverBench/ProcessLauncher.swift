import CProcessSpawn
import Dispatch
import DroverCore
import DroverSystem
import Foundation
import Synchronization
import ZeroMQ

#if canImport(Glibc)
import Glibc
#endif

/// Starts short-lived processes for the bench without waiting for them, and reports their
/// exits through a descriptor a poll loop can wait on.
///
/// Guarantees:
/// - `launch` returns once the child has exec'd its program (`posix_spawnp`: a program that
///   cannot be found or executed is a thrown error, not an exit). The child's stdin, stdout
///   and stderr are `/dev/null`; it runs in a process group of its own, with every signal at
///   its default disposition and none blocked.
/// - One thread of the launcher reaps its children. It waits for each by its pidfd (one
///   `poll(2)` over all of them) and reaps exactly that pid: the launcher never reaps a child
///   it did not start (no `waitpid(-1)`), so `Foundation.Process` and anything else in the
///   same process keep theirs.
/// - `fileDescriptor` is readable once exits are waiting; `takeExits` returns them in the
///   order they were reaped, each exactly once.
/// - `shutdown` (and `deinit`) SIGKILLs the process group of every child still running,
///   reaps them and stops the thread, waiting at most `shutdownLimit`.
///
/// Needs Linux 5.3 or later (`pidfd_open`). Unlike a flow run's process, a launched child has
/// no parent-death signal: the bench launches commands that end by themselves.
public final class ProcessLauncher: Sendable {
    /// One reaped child: the caller's `tag`, its pid, its status (the exit code 0–255;
    /// 128 + the signal number when a signal ended it; -1 when something else in the process
    /// reaped it first, so the status was lost) and when the launcher saw it exit.
    public typealias Exit = (tag: Int, pid: Int32, status: Int32, exited: ContinuousClock.Instant)

    /// How long `shutdown` waits for the children it killed before it leaves them unreaped.
    public static let shutdownLimit: Duration = .seconds(5)

    private let reaper: Reaper
    /// Left by the reaper thread when it returns.
    private let reaperDone = DispatchGroup()

    /// A launcher and its reaper thread.
    ///
    /// - Throws: `DroverError(.failedPrecondition)` when descriptors ran out.
    public init() throws(DroverError) {
        reaper = try Reaper()
        let reaper = self.reaper
        let done = reaperDone
        done.enter()
        let thread = Thread {
            reaper.run()
            done.leave()
        }
        thread.name = "drover-bench-reaper"
        thread.start()
    }

    deinit {
        shutdown()
    }

    /// Readable once exits are waiting for `takeExits`: add it to a `Poller` or `poll(2)`.
    /// Now and then it is readable with none waiting; `takeExits` then returns none.
    public var fileDescriptor: Int32 { reaper.exitsWaiting.fileDescriptor }

    /// `/bin/sh -c command`: the argv to launch a command line through the shell.
    public static func shell(_ command: String) -> [String] {
        ["/bin/sh", "-c", command]
    }

    /// Starts `argv[0]`, found through PATH as `execvp` does, with exactly `argv` and this
    /// process's environment; returns its pid once it runs. Its exit comes back through
    /// `takeExits` with `tag`. Any thread.
    ///
    /// - Throws: `DroverError(.invalidArgument)` for an empty argv or an argument with NUL;
    ///   `DroverError(.notFound)` when the program cannot be found;
    ///   `DroverError(.failedPrecondition)` when it cannot be started otherwise (not
    ///   executable, too many processes or descriptors) or the launcher has shut down. The
    ///   message names the program and the errno. When `launch` throws, no child runs.
    @discardableResult
    public func launch(_ argv: [String], tag: Int) throws(DroverError) -> Int32 {
        guard let program = argv.first, !program.isEmpty else {
            throw .invalidArgument("Nothing to launch: the command is empty.")
        }
        guard !argv.contains(where: { $0.utf8.contains(0) }) else {
            throw .invalidArgument("Cannot launch '\(program)': an argument contains a NUL character.")
        }
        guard !reaper.isStopping else {
            throw .failedPrecondition("Cannot launch '\(program)': the process launcher has shut down.")
        }
        let pid = try Self.spawn(argv)
        let pidFD = drover_pidfd_open(pid)
        guard pidFD >= 0 else {
            let code = errno
            Self.killAndReap(pid)
            let reason = code == ENOSYS ? "the kernel has no pidfd_open (Linux 5.3 or later needed)" : errnoText(code)
            throw .failedPrecondition("Cannot watch '\(program)' (pid \(pid)): \(reason).")
        }
        if let refusal = reaper.watch(pid: pid, pidFD: pidFD, tag: tag) {
            close(pidFD)
            Self.killAndReap(pid)
            throw .failedPrecondition("Cannot launch '\(program)': \(refusal).")
        }
        return pid
    }

    /// The exits reaped since the last call, oldest first; empty when there are none.
    public func takeExits() -> [Exit] {
        // Drain, then take: an exit queued in between is taken now; one queued later rings again.
        reaper.exitsWaiting.drain()
        return reaper.takeExits()
    }

    /// SIGKILLs the process group of every child still running, waits until the reaper
    /// thread has reaped them (their exits are queued as usual) or `shutdownLimit` passed,
    /// and stops the thread. Later launches throw. Safe to call more than once.
    public func shutdown() {
        reaper.stop()
        // The thread keeps the limit itself; one more second covers its last round.
        _ = reaperDone.wait(timeout: .now() + .seconds(Int(Self.shutdownLimit.components.seconds) + 1))
    }

    // MARK: - Spawning

    /// `posix_spawnp` with the standard streams on /dev/null, a new process group, default
    /// signal dispositions and an empty signal mask.
    private static func spawn(_ argv: [String]) throws(DroverError) -> Int32 {
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_addopen(&actions, STDIN_FILENO, "/dev/null", O_RDONLY, 0)
        posix_spawn_file_actions_addopen(&actions, STDOUT_FILENO, "/dev/null", O_WRONLY, 0)
        posix_spawn_file_actions_adddup2(&actions, STDOUT_FILENO, STDERR_FILENO)

        var attributes = posix_spawnattr_t()
        posix_spawnattr_init(&attributes)
        defer { posix_spawnattr_destroy(&attributes) }
        var noSignals = sigset_t()
        sigemptyset(&noSignals)
        var allSignals = sigset_t()
        sigfillset(&allSignals)
        posix_spawnattr_setsigmask(&attributes, &noSignals)
        posix_spawnattr_setsigdefault(&attributes, &allSignals)
        posix_spawnattr_setpgroup(&attributes, 0)
        let flags = POSIX_SPAWN_SETPGROUP | POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF
        posix_spawnattr_setflags(&attributes, Int16(flags))

        var pid: pid_t = 0
        let result = CStringArray.with(argv) { cArgv -> Int32 in
            guard let cArgv, let file = cArgv[0] else { return ENOMEM }
            return posix_spawnp(&pid, file, &actions, &attributes, cArgv, environ)
        }
        guard result == 0 else {
            let program = argv[0]
            if result == ENOENT {
                throw .notFound("Cannot launch '\(program)': no such program (searched PATH): \(errnoText(result)).")
            }
            throw .failedPrecondition("Cannot launch '\(program)': \(errnoText(result)).")
        }
        return pid
    }

    /// SIGKILLs and reaps a child that is not (or no longer) watched. Blocks until it is gone.
    private static func killAndReap(_ pid: Int32) {
        _ = kill(-pid, SIGKILL)
        var signaled: Int32 = 0
        var value: Int32 = 0
        _ = drover_reap(pid, &signaled, &value)
    }

}

// MARK: - Reaper

extension ProcessLauncher {
    /// The children being watched and the exits not yet taken, shared by the launching
    /// threads and the reaper thread, plus the reaper's loop.
    ///
    /// A child is signalled and reaped only under the lock and only while it is in
    /// `running`: an unreaped child (even a zombie) keeps its pid and process group id from
    /// being reused, so a signal can never reach an unrelated process.
    fileprivate final class Reaper: Sendable {
        /// What the reaper knows of a running child.
        private struct Child {
            let tag: Int
            let pidFD: Int32
        }

        private struct State {
            var running: [Int32: Child] = [:]
            var exits: [Exit] = []
            var stopping = false
        }

        private let state = Mutex(State())
        /// Rung when a child was added or a stop asked for: the reaper thread polls again.
        private let changed: Wakeup
        /// Rung when exits were queued; the caller's `fileDescriptor`.
        let exitsWaiting: Wakeup

        init() throws(DroverError) {
            do {
                changed = try Wakeup()
                exitsWaiting = try Wakeup()
            } catch {
                throw .failedPrecondition("Cannot start the process launcher: no eventfd: \(error).")
            }
        }

        var isStopping: Bool { state.withLock { $0.stopping } }

        /// Watches a freshly spawned child. Returns why it refused (the launcher has shut
        /// down); the child is then still the caller's to kill and reap.
        func watch(pid: Int32, pidFD: Int32, tag: Int) -> String? {
            let refusal = state.withLock { state -> String? in
                guard !state.stopping else { return "the process launcher has shut down" }
                state.running[pid] = Child(tag: tag, pidFD: pidFD)
                return nil
            }
            if refusal == nil { changed.signal() }
            return refusal
        }

        func takeExits() -> [Exit] {
            state.withLock { state in
                defer { state.exits.removeAll(keepingCapacity: true) }
                return state.exits
            }
        }

        /// Refuses further children, SIGKILLs the process groups of those running and
        /// wakes the reaper thread, which returns once they are reaped.
        func stop() {
            state.withLock { state in
                guard !state.stopping else { return }
                state.stopping = true
                for pid in state.running.keys { _ = kill(-pid, SIGKILL) }
            }
            changed.signal()
        }

        /// The reaper thread: polls the pidfds of every running child and reaps those that
        /// exited, until stopped and every child is reaped, or `shutdownLimit` after the stop.
        func run() {
            var giveUpAt: ContinuousClock.Instant?
            var pids: [Int32] = []
            var pollFDs: [pollfd] = []
            while true {
                pids.removeAll(keepingCapacity: true)
                pollFDs.removeAll(keepingCapacity: true)
                pollFDs.append(pollfd(fd: changed.fileDescriptor, events: Int16(POLLIN), revents: 0))
                let stopping = state.withLock { state in
                    for (pid, child) in state.running {
                        pids.append(pid)
                        pollFDs.append(pollfd(fd: child.pidFD, events: Int16(POLLIN), revents: 0))
                    }
                    return state.stopping
                }
                if stopping {
                    if pids.isEmpty { break }
                    let deadline = giveUpAt ?? .now.advanced(by: ProcessLauncher.shutdownLimit)
                    giveUpAt = deadline
                    if ContinuousClock.now >= deadline { break }
                }

                // On EINTR nothing is marked ready and the loop polls again.
                _ = poll(&pollFDs, nfds_t(pollFDs.count), PollTimeout.milliseconds(until: giveUpAt))
                if pollFDs[0].revents != 0 { changed.drain() }
                let now = ContinuousClock.now
                var reaped: [Exit] = []
                for (pid, entry) in zip(pids, pollFDs.dropFirst()) where entry.revents != 0 {
                    if let exit = reap(pid, at: now) { reaped.append(exit) }
                }
                if !reaped.isEmpty {
                    state.withLock { $0.exits.append(contentsOf: reaped) }
                    exitsWaiting.signal()
                }
            }
            // Children still running after the limit stay unreaped: stop watching them.
            state.withLock { state in
                for child in state.running.values { close(child.pidFD) }
                state.running.removeAll()
            }
        }

        /// Reaps `pid` if it is ours and has exited; nil otherwise.
        private func reap(_ pid: Int32, at now: ContinuousClock.Instant) -> Exit? {
            state.withLock { state -> Exit? in
                guard let child = state.running[pid] else { return nil }
                var raw: Int32 = 0
                let result = waitpid(pid, &raw, WNOHANG)
                if result == 0 || (result < 0 && errno == EINTR) { return nil }  // The pidfd stays readable.
                state.running[pid] = nil
                close(child.pidFD)
                // ECHILD: reaped elsewhere (waitpid(-1) in this process, or SIGCHLD ignored).
                let status = result < 0 ? -1 : Self.status(fromWaitStatus: raw)
                return (tag: child.tag, pid: pid, status: status, exited: now)
            }
        }

        /// The exit code, or 128 + the signal number for a child a signal ended (the shell's
        /// convention), from a `waitpid` status.
        static func status(fromWaitStatus raw: Int32) -> Int32 {
            let signal = raw & 0x7f
            return signal == 0 ? (raw >> 8) & 0xff : 128 + signal
        }
    }
}

/// "No such file or directory (errno 2)".
private func errnoText(_ code: Int32) -> String {
    "\(String(cString: strerror(code))) (errno \(code))"
}
