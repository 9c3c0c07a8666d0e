import DroverCore
import DroverSystem

#if canImport(Glibc)
import Glibc
#endif

/// What `SpawnRate.measure` measured: how fast this machine starts and reaps processes.
public struct SpawnRateReport: Codable, Sendable, Equatable {
    /// Processes that ran and were reaped.
    public var count: Int
    /// Processes kept running at once.
    public var concurrency: Int
    /// From the first launch to the last exit.
    public var seconds: Double
    /// `count / seconds`.
    public var perSecond: Double
    /// Processes that exited with a non-zero status or were ended by a signal.
    public var failures: Int
}

/// The machine's raw fork/exec rate: the ceiling for a worker that runs every flow run as a
/// process, measured with the same `ProcessLauncher` the bench's process mode uses.
public enum SpawnRate {
    /// Keeps `concurrency` processes of `argv` running at once, launching the next as each
    /// exits, until `count` have exited. Blocks the calling thread.
    ///
    /// - Throws: `DroverError(.invalidArgument)` for an empty argv or a concurrency or count
    ///   below one; what `ProcessLauncher.launch` throws (a program that cannot be found is
    ///   `.notFound`); `DroverError(.unavailable)` when `timeout` passes first. Processes
    ///   still running then are killed.
    public static func measure(argv: [String], concurrency: Int, count: Int, timeout: Duration) throws -> SpawnRateReport {
        guard !argv.isEmpty, concurrency >= 1, count >= 1 else {
            throw DroverError.invalidArgument("A spawn rate needs a command, a concurrency of at least one and a count of at least one.")
        }
        let launcher = try ProcessLauncher()
        defer { launcher.shutdown() }
        let deadline = ContinuousClock.now.advanced(by: timeout)
        var launched = 0
        var exited = 0
        var failures = 0

        let start = ContinuousClock.now
        var end = start
        while launched < min(concurrency, count) {
            try launcher.launch(argv, tag: launched)
            launched += 1
        }
        var exitsWaiting = pollfd(fd: launcher.fileDescriptor, events: Int16(POLLIN), revents: 0)
        while exited < count {
            guard ContinuousClock.now < deadline else {
                throw DroverError(
                    .unavailable,
                    "Only \(exited) of \(count) processes of '\(argv.joined(separator: " "))' exited within \(timeout).")
            }
            // EINTR: nothing is ready; the loop looks again.
            _ = poll(&exitsWaiting, 1, PollTimeout.milliseconds(until: deadline))
            for exit in launcher.takeExits() {
                exited += 1
                if exit.status != 0 { failures += 1 }
                end = max(end, exit.exited)
                if launched < count {
                    try launcher.launch(argv, tag: launched)
                    launched += 1
                }
            }
        }
        let seconds = start.duration(to: end).inSeconds
        return SpawnRateReport(
            count: exited, concurrency: concurrency, seconds: seconds,
            perSecond: seconds > 0 ? Double(exited) / seconds : 0, failures: failures)
    }
}
