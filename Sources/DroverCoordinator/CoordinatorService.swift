import DroverCore
import DroverLimits
import DroverProto
import DroverStore
import DroverSystem
import Foundation
import Logging
import ServiceLifecycle
import SwiftProtobuf

/// The Drover server as a `Service`: opens `DROVER_HOME` and its store, binds the
/// endpoints and serves them until graceful shutdown.
///
/// On graceful shutdown (SIGINT or SIGTERM through `ServiceGroup`) it answers the
/// requests already received, closes its sockets and store, and returns normally.
public struct CoordinatorService: Service {
    private let configuration: CoordinatorConfiguration
    private let logger: Logger
    private let onReady: @Sendable (ServerEndpoints) -> Void

    /// - Parameter onReady: called once the endpoints are bound and requests are served.
    public init(
        configuration: CoordinatorConfiguration, logger: Logger,
        onReady: @escaping @Sendable (ServerEndpoints) -> Void = { _ in }
    ) {
        self.configuration = configuration
        self.logger = logger
        self.onReady = onReady
    }

    public func run() async throws {
        let started = Date()
        let home = try HomeLock(configuration.home)
        let database = try SQLiteStore(path: home.databasePath, durability: configuration.durability)
        let store = GroupCommitStore(database)
        logger.info(
            "opened store", metadata: ["store.path": "\(database.path)", "store.durability": "\(configuration.durability.rawValue)"])
        let loop = try EventLoop(configuration: configuration, logger: logger)
        // The embedded limit service keeps its own file in the home, locked like a standalone one's.
        let limitsHome: HomeLock?
        let embedded: LimitLoop?
        switch configuration.limits {
        case .embedded(let port):
            limitsHome = try HomeLock(configuration.home, role: .limitService)
            embedded = try LimitLoop(
                configuration: LimitServiceConfiguration(
                    host: configuration.host, port: port, home: configuration.home, durability: configuration.durability,
                    maxFrameBytes: configuration.maxFrameBytes, security: configuration.security),
                logger: logger)
        case .remote:
            limitsHome = nil
            embedded = nil
        }
        let logger = self.logger
        let homePath = configuration.home.path
        let settings = configuration.coordinator
        let factory = CoordinatorFactory { endpoints throws(DroverError) in
            let info = Drover_V1_ServerInfo.with {
                $0.version = DroverVersion.current
                $0.protocolVersion = droverProtocolVersion
                $0.home = homePath
                $0.started = Google_Protobuf_Timestamp(microsecondsOf: started)
                $0.endpoints = endpoints.byRole
                $0.pid = UInt32(ProcessInfo.processInfo.processIdentifier)
            }
            return try Coordinator(store: store, serverInfo: info, logger: logger, settings: settings)
        }
        let onReady = self.onReady
        try await withGracefulShutdownHandler {
            try await withThrowingTaskGroup(of: Void.self) { group in
                let limitsEndpoint: String
                switch configuration.limits {
                case .remote(let endpoint):
                    limitsEndpoint = endpoint
                case .embedded:
                    let (bound, announce) = AsyncStream<String>.makeStream()
                    group.addTask {
                        defer { announce.finish() }
                        try await embedded!.run { announce.yield($0) }
                    }
                    guard let endpoint = await bound.first(where: { _ in true }) else {
                        // The limit service could not start: its task has the error.
                        try await group.waitForAll()
                        throw DroverError(.internal, "The embedded limit service stopped before it started.")
                    }
                    limitsEndpoint = endpoint
                }
                group.addTask {
                    try await loop.run(coordinator: factory, limits: limitsEndpoint) { endpoints in
                        logger.info(
                            "Drover server ready",
                            metadata: [
                                "endpoint.control": "\(endpoints.control)", "endpoint.dispatch": "\(endpoints.dispatch)",
                                "endpoint.limits": "\(endpoints.limits)",
                            ])
                        onReady(endpoints)
                    }
                }
                // When either loop ends (a stop, or a fault), the other stops too.
                defer {
                    loop.stop()
                    embedded?.stop()
                }
                try await group.next()
                loop.stop()
                embedded?.stop()
                try await group.waitForAll()
            }
        } onGracefulShutdown: {
            logger.info("shutting down: finishing requests already received")
            loop.stop()
            embedded?.stop()
        }
        withExtendedLifetime((home, limitsHome)) {}
    }
}
