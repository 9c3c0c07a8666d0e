import Foundation

/// Runs blocking work on a thread of its own, so waiting on processes and pipes never
/// ties up Swift's cooperative thread pool (two threads on a two-core machine).
func onOwnThread<T: Sendable>(_ body: @escaping @Sendable () -> T) async -> T {
    await withCheckedContinuation { continuation in
        let thread = Thread { continuation.resume(returning: body()) }
        thread.name = "drover-test-wait"
        thread.start()
    }
}
