import DroverBench
import DroverClient
import DroverCore
import DroverLimits
import DroverTestSupport
import Foundation
import Logging
import Testing

/// The limits bench against a limit service in this process, on a free loopback port.
@Suite struct LimitBenchTests {
    /// How long a test waits for the service to start or stop: a failure guard, never a pause.
    static let serviceGuard: Duration = .seconds(30)

    @Test func everyCycleIsDoneAndNoLimitIsOverGranted() async throws {
        let plan = LimitBenchPlan(clients: 8, limits: 1, slots: 2, cycles: 400, timeout: .seconds(60))
        try await withLimitService { endpoint in
            let report = try LimitBench.run(plan, endpoint: endpoint)
            #expect(report.completed == 400)
            #expect(report.grantLatency.count == 400)
            #expect(report.releaseLatency.count == 400)
            #expect(!report.overGranted)
            #expect((1...2).contains(report.mostHeld))
            #expect(report.queued <= 400)
            #expect(report.acquiresPerSecond > 0)
            #expect(try Self.benchLimits(at: endpoint) == [])
        }
    }

    /// Several limits, and slots held a moment before they are released.
    @Test func clientsSpreadOverLimitsHoldingTheirSlots() async throws {
        let plan = LimitBenchPlan(clients: 6, limits: 3, slots: 1, cycles: 300, hold: .milliseconds(1), timeout: .seconds(60))
        try await withLimitService { endpoint in
            let report = try LimitBench.run(plan, endpoint: endpoint)
            #expect(report.completed == 300)
            #expect(report.grantLatency.count == 300)
            #expect(report.mostHeld == 1)
            #expect(!report.overGranted)
            #expect(try Self.benchLimits(at: endpoint) == [])
        }
    }

    @Test func moreLimitsThanClientsIsRefused() async throws {
        let plan = LimitBenchPlan(clients: 2, limits: 3, cycles: 10)
        #expect(throws: DroverError.self) { try LimitBench.run(plan, endpoint: "tcp://127.0.0.1:1") }
    }

    /// The bench's limits still on the service: it deletes its own at the end.
    private static func benchLimits(at endpoint: String) throws -> [String] {
        guard case .limits(let list) = try LimitClient(endpoint: endpoint).call(.listLimits(.init())) else { return ["?"] }
        return list.limits.map(\.name).filter { $0.hasPrefix("bench-") }
    }

    /// Runs a `LimitLoop` over a temporary home while `body` runs with its endpoint, then
    /// stops it and waits for it to return.
    private func withLimitService(
        sourceLocation: SourceLocation = #_sourceLocation, _ body: (String) throws -> Void
    ) async throws {
        let home = try TemporaryDirectory()
        let logger = Logger(label: "test", factory: { _ in SwiftLogNoOpLogHandler() })
        let loop = try LimitLoop(
            configuration: LimitServiceConfiguration(port: 0, home: home.url, durability: .normal), logger: logger)
        let (bound, boundContinuation) = AsyncStream.makeStream(of: String.self)
        let (finished, finishedContinuation) = AsyncStream.makeStream(of: Result<Void, any Error>.self)
        Task {
            let result: Result<Void, any Error>
            do {
                try await loop.run { boundContinuation.yield($0) }
                result = .success(())
            } catch {
                result = .failure(error)
            }
            boundContinuation.finish()
            finishedContinuation.yield(result)
            finishedContinuation.finish()
        }
        let endpoint = await Self.first(of: bound, within: Self.serviceGuard)
        var failure: (any Error)?
        if let endpoint {
            do { try body(endpoint) } catch { failure = error }
        }
        loop.stop()
        let outcome = try #require(
            await Self.first(of: finished, within: Self.serviceGuard), "the limit loop did not return after stop()",
            sourceLocation: sourceLocation)
        try outcome.get()
        try #require(endpoint != nil, "the limit loop never reported its endpoint", sourceLocation: sourceLocation)
        if let failure { throw failure }
    }

    /// The first element of `stream`, or nil when it ends or `limit` passes first.
    private static func first<Element: Sendable>(of stream: AsyncStream<Element>, within limit: Duration) async -> Element? {
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
}
