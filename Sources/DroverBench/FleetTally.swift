import Foundation

/// What every part of a fleet — the simulated workers on this process's thread and those in
/// child processes — has done so far: workers welcomed, runs finished, parts ended. The
/// parts add to it; the bench waits on it.
final class FleetTally: @unchecked Sendable {
    struct Counts: Sendable, Equatable {
        var welcomed = 0
        var finished = 0
        var partsEnded = 0
    }

    private let condition = NSCondition()
    private var counts = Counts()

    var current: Counts { condition.withLock { counts } }

    func add(welcomed: Int = 0, finished: Int = 0) {
        guard welcomed != 0 || finished != 0 else { return }
        condition.withLock {
            counts.welcomed += welcomed
            counts.finished += finished
            condition.broadcast()
        }
    }

    func partEnded() {
        condition.withLock {
            counts.partsEnded += 1
            condition.broadcast()
        }
    }

    /// Waits until `done` holds for the counts or `deadline` passes; returns the counts then.
    @discardableResult
    func wait(until deadline: Date, for done: (Counts) -> Bool) -> Counts {
        condition.lock()
        defer { condition.unlock() }
        while !done(counts) {
            guard condition.wait(until: deadline) else { break }
        }
        return counts
    }
}
