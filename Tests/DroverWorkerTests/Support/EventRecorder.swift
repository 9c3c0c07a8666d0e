import DroverCore
import DroverWorker
import Synchronization

/// Collects what a `ChildProcess` reports and lets a test await a condition on it, such as
/// "the process has exited" or "this line arrived". Waiting never sleeps: the waiter is
/// resumed by the event that makes the condition true; the timeout is only a failure guard.
final class EventRecorder: Sendable {
    private struct Waiter {
        let id: Int
        let condition: @Sendable ([ProcessEvent]) -> Bool
        let continuation: CheckedContinuation<Bool, Never>
        let guardTask: Task<Void, Never>
    }

    private struct State {
        var events: [ProcessEvent] = []
        var waiters: [Waiter] = []
        var nextWaiterID = 0
    }

    private let state = Mutex(State())

    /// The handler to pass to `ChildProcess.start`.
    var handler: @Sendable (ProcessEvent) -> Void {
        { [self] event in record(event) }
    }

    /// Every event so far, in the order it arrived.
    var events: [ProcessEvent] { state.withLock { $0.events } }

    /// Every output line so far.
    var lines: [OutputLine] {
        events.compactMap { event in
            if case .output(let line) = event { return line }
            return nil
        }
    }

    /// The texts of the lines of `stream` so far.
    func texts(_ stream: DroverWorker.OutputStream) -> [String] {
        lines.filter { $0.stream == stream }.map(\.text)
    }

    /// How the process ended, if it has.
    var outcome: ProcessOutcome? {
        for event in events {
            if case .exited(let outcome) = event { return outcome }
        }
        return nil
    }

    /// How many `.exited` events arrived.
    var exitCount: Int {
        events.filter {
            if case .exited = $0 { return true }
            return false
        }.count
    }

    /// Whether the last event is the only `.exited` one.
    var exitedExactlyOnceAndLast: Bool {
        guard exitCount == 1, case .exited = events.last else { return false }
        return true
    }

    private func record(_ event: ProcessEvent) {
        let satisfied = state.withLock { state -> [Waiter] in
            state.events.append(event)
            let events = state.events
            let satisfied = state.waiters.filter { $0.condition(events) }
            state.waiters.removeAll { $0.condition(events) }
            return satisfied
        }
        for waiter in satisfied {
            waiter.guardTask.cancel()
            waiter.continuation.resume(returning: true)
        }
    }

    /// Waits until `condition` holds for the events so far; false if it did not within
    /// `timeout` (a failure guard, not a way to wait).
    func wait(
        timeout: Duration = .seconds(10), until condition: @escaping @Sendable ([ProcessEvent]) -> Bool
    ) async -> Bool {
        await withCheckedContinuation { continuation in
            state.withLock { state in
                if condition(state.events) {
                    continuation.resume(returning: true)
                    return
                }
                let id = state.nextWaiterID
                state.nextWaiterID += 1
                let guardTask = Task { [self] in
                    try? await Task.sleep(for: timeout)
                    guard !Task.isCancelled else { return }
                    expire(id)
                }
                state.waiters.append(
                    Waiter(id: id, condition: condition, continuation: continuation, guardTask: guardTask))
            }
        }
    }

    /// Waits until the process has exited and returns how; nil if it did not within `timeout`.
    func waitForExit(timeout: Duration = .seconds(10)) async -> ProcessOutcome? {
        _ = await wait(timeout: timeout) { events in
            events.contains {
                if case .exited = $0 { return true }
                return false
            }
        }
        return outcome
    }

    /// Waits until a line of `stream` satisfying `matches` has arrived and returns its text.
    func waitForLine(
        on stream: DroverWorker.OutputStream, timeout: Duration = .seconds(10),
        where matches: @escaping @Sendable (String) -> Bool = { _ in true }
    ) async -> String? {
        let found: @Sendable ([ProcessEvent]) -> String? = { events in
            for event in events {
                if case .output(let line) = event, line.stream == stream, matches(line.text) { return line.text }
            }
            return nil
        }
        _ = await wait(timeout: timeout) { found($0) != nil }
        return found(events)
    }

    private func expire(_ id: Int) {
        let expired = state.withLock { state -> Waiter? in
            guard let index = state.waiters.firstIndex(where: { $0.id == id }) else { return nil }
            return state.waiters.remove(at: index)
        }
        expired?.continuation.resume(returning: false)
    }
}
