import DroverCore
import DroverProto
import DroverStore
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
        let home = try ServerHome(configuration.home)
        let store = try SQLiteStore(path: home.databasePath, durability: configuration.durability)
        logger.info("opened store", metadata: ["store.path": "\(store.path)", "store.durability": "\(configuration.durability.rawValue)"])
        let loop = try EventLoop(configuration: configuration, logger: logger)
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
            try await loop.run(coordinator: factory) { endpoints in
                logger.info(
                    "Drover server ready",
                    metadata: ["endpoint.control": "\(endpoints.control)", "endpoint.dispatch": "\(endpoints.dispatch)"])
                onReady(endpoints)
            }
        } onGracefulShutdown: {
            logger.info("shutting down: finishing requests already received")
            loop.stop()
        }
        withExtendedLifetime(home) {}
    }
}
