import Dispatch
import DroverCore
import Synchronization

/// Hands the result of the spawn from the supervising thread to the thread in
/// `ChildProcess.start`, which waits for it.
final class SpawnHandshake: Sendable {
    private let result = Mutex<Result<Int32, DroverError>?>(nil)
    private let ready = DispatchSemaphore(value: 0)

    /// The child runs as `pid`.
    func succeed(_ pid: Int32) {
        result.withLock { $0 = .success(pid) }
        ready.signal()
    }

    /// No child was started.
    func fail(_ error: DroverError) {
        result.withLock { $0 = .failure(error) }
        ready.signal()
    }

    /// Blocks until `succeed` or `fail`, then returns the pid or throws the error.
    func wait() throws(DroverError) -> Int32 {
        ready.wait()
        guard let outcome = result.withLock({ $0 }) else {
            throw DroverError(.internal, "the flow run process's supervisor ended without a result")
        }
        return try outcome.get()
    }
}
