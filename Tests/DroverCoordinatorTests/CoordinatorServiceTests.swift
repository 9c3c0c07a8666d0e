import DroverClient
import DroverCore
import DroverProto
import DroverTestSupport
import Foundation
import Logging
import ServiceLifecycle
import Synchronization
import Testing

@testable import DroverCoordinator

/// The whole server in-process on loopback, driven through the real client.
@Suite struct CoordinatorServiceTests {
    /// Starts a coordinator on a free port in `home`, runs `body` against its endpoint,
    /// then shuts it down gracefully and waits for it to return.
    private func withServer(
        home: TemporaryDirectory, _ body: @Sendable (String) async throws -> Void
    ) async throws {
        let (ready, readyContinuation) = AsyncStream.makeStream(of: ServerEndpoints.self)
        let service = CoordinatorService(
            configuration: CoordinatorConfiguration(controlPort: 0, dispatchPort: 0, home: home.url, limits: .embedded(port: 0)),
            logger: quietLogger
        ) { endpoints in
            readyContinuation.yield(endpoints)
            readyContinuation.finish()
        }
        let group = ServiceGroup(
            configuration: .init(
                services: [.init(service: service, successTerminationBehavior: .gracefullyShutdownGroup)],
                logger: quietLogger))
        try await withThrowingTaskGroup(of: Void.self) { tasks in
            tasks.addTask {
                // A server that fails to start must not leave the wait for readiness hanging.
                defer { readyContinuation.finish() }
                try await group.run()
            }
            var iterator = ready.makeAsyncIterator()
            let endpoints = try #require(await iterator.next(), "the server never became ready")
            do {
                try await body(endpoints.control)
            } catch {
                await group.triggerGracefulShutdown()
                throw error
            }
            await group.triggerGracefulShutdown()
            try await tasks.waitForAll()
        }
    }

    @Test func servesRequestsAndKeepsThemAcrossRestart() async throws {
        let home = try TemporaryDirectory()
        let created = Mutex<String>("")
        try await withServer(home: home) { endpoint in
            let client = try ControlClient(endpoint: endpoint)
            let result = try client.call(
                .createWorkPool(
                    .with {
                        $0.name = "demo"; $0.concurrencyLimit = 2
                    }))
            guard case .workPool(let pool) = result else {
                Issue.record("expected a pool")
                return
            }
            created.withLock { $0 = pool.id }
            #expect(throws: DroverError.self) {
                try client.call(.createWorkPool(.with { $0.name = "demo" }))
            }
        }
        try await withServer(home: home) { endpoint in
            let client = try ControlClient(endpoint: endpoint)
            guard case .workPool(let pool) = try client.call(.getWorkPool(.with { $0.name = "demo" })) else {
                Issue.record("expected the pool to survive a restart")
                return
            }
            #expect(pool.id == created.withLock { $0 })
            #expect(pool.concurrencyLimit == 2)
            guard case .serverInfo(let info) = try client.call(.getServerInfo(.init())) else {
                Issue.record("expected server info")
                return
            }
            #expect(info.endpoints["control"] == endpoint)
            #expect(info.home == home.path)
        }
    }

    @Test func secondServerOnTheSameHomeIsRefused() async throws {
        let home = try TemporaryDirectory()
        try await withServer(home: home) { _ in
            let second = CoordinatorService(
                configuration: CoordinatorConfiguration(controlPort: 0, dispatchPort: 0, home: home.url, limits: .embedded(port: 0)),
                logger: quietLogger)
            do {
                try await second.run()
                Issue.record("a second server on one home must fail")
            } catch let error as DroverError {
                #expect(error.code == .failedPrecondition)
                #expect(error.message.contains("already using DROVER_HOME"))
            }
        }
    }

    @Test func bindingAPortInUseFailsWithAClearMessage() async throws {
        let home = try TemporaryDirectory()
        let other = try TemporaryDirectory()
        try await withServer(home: home) { endpoint in
            let port = Int(endpoint.split(separator: ":").last!)!
            let clash = CoordinatorService(
                configuration: CoordinatorConfiguration(controlPort: port, dispatchPort: 0, home: other.url, limits: .embedded(port: 0)),
                logger: quietLogger)
            do {
                try await clash.run()
                Issue.record("binding a port in use must fail")
            } catch let error as DroverError {
                #expect(error.message.contains("already in use"))
                #expect(error.message.contains("--control-port"))
            }
        }
    }
}
