import DroverLimits
import DroverStore
import Foundation
import Testing

/// The first element of `stream`, or nil when it ends first or `limit` passes first (a failure guard).
func first<Element: Sendable>(of stream: AsyncStream<Element>, within limit: Duration) async -> Element? {
    await withTaskGroup(of: Element?.self) { group in
        group.addTask {
            var iterator = stream.makeAsyncIterator()
            return await iterator.next()
        }
        group.addTask {
            try? await Task.sleep(for: limit)
            return nil
        }
        let first = await group.next() ?? nil
        group.cancelAll()
        return first
    }
}

/// Runs a `LimitLoop` on a free loopback port over `home` while `body` runs with its endpoint,
/// then stops it and waits for `run` to return.
///
/// `body` is synchronous, so the sockets it makes stay on one thread. The loop runs in an
/// unstructured task so that a loop that never returns fails the test instead of hanging it.
func withLimitLoop(
    home: URL, sourceLocation: SourceLocation = #_sourceLocation, _ body: (String) throws -> Void
) async throws {
    let loop = try LimitLoop(
        configuration: LimitServiceConfiguration(port: 0, home: home, durability: .normal), logger: quietLogger)
    let (bound, boundContinuation) = AsyncStream.makeStream(of: String.self)
    let (finished, finishedContinuation) = AsyncStream.makeStream(of: Result<Void, any Error>.self)
    Task {
        let result: Result<Void, any Error>
        do {
            try await loop.run { endpoint in boundContinuation.yield(endpoint) }
            result = .success(())
        } catch {
            result = .failure(error)
        }
        boundContinuation.finish()
        finishedContinuation.yield(result)
        finishedContinuation.finish()
    }

    let endpoint = await first(of: bound, within: replyGuard)
    var failure: (any Error)?
    if let endpoint {
        #expect(endpoint.hasPrefix("tcp://127.0.0.1:"), sourceLocation: sourceLocation)
        #expect(!endpoint.hasSuffix(":0"), sourceLocation: sourceLocation)
        do { try body(endpoint) } catch { failure = error }
    }
    loop.stop()
    let outcome = try #require(
        await first(of: finished, within: replyGuard), "run did not return after stop()", sourceLocation: sourceLocation)
    try outcome.get()
    try #require(endpoint != nil, "the limit loop never reported its endpoint", sourceLocation: sourceLocation)
    if let failure { throw failure }
}
