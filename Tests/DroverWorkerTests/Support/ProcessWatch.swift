import CProcessSpawn
import Foundation

#if canImport(Glibc)
import Glibc
#endif

/// Waits until the process `pid` (not necessarily a child of the tests) has exited, at most
/// `seconds`, on a thread of its own; true if it did. Uses a pidfd, so it waits for the
/// event rather than polling, and a zombie counts as exited.
func waitUntilExited(pid: Int32, seconds: Double = 10) async -> Bool {
    let pidFD = drover_pidfd_open(pid)
    guard pidFD >= 0 else { return errno == ESRCH }  // Already gone and reaped.
    return await withCheckedContinuation { continuation in
        let thread = Thread {
            defer { close(pidFD) }
            var entry = pollfd(fd: pidFD, events: Int16(POLLIN), revents: 0)
            let deadline = Date(timeIntervalSinceNow: seconds)
            while true {
                let remaining = Int32(max(0, deadline.timeIntervalSinceNow) * 1000)
                let ready = poll(&entry, 1, remaining)
                if ready > 0 { return continuation.resume(returning: true) }
                if ready == 0 || errno != EINTR { return continuation.resume(returning: false) }
            }
        }
        thread.name = "drover-test-watch"
        thread.start()
    }
}

/// Kills `pid` unless it has already exited: cleanup for a process a test expected to be
/// gone. Looks through a pidfd first, so it cannot hit a process that reused the pid.
func killIfRunning(pid: Int32) {
    let pidFD = drover_pidfd_open(pid)
    guard pidFD >= 0 else { return }
    defer { close(pidFD) }
    var entry = pollfd(fd: pidFD, events: Int16(POLLIN), revents: 0)
    if poll(&entry, 1, 0) == 0 {
        kill(pid, SIGKILL)
    }
}
