import DroverCore
import DroverSystem
import Foundation
import Logging
import ServiceLifecycle

/// The standalone limit service (`drover limit-service start`) as a `Service`: locks its
/// home, serves the limits endpoint, and on graceful shutdown answers what it already
/// received and returns.
public struct LimitService: Service {
    private let configuration: LimitServiceConfiguration
    private let logger: Logger
    private let onReady: @Sendable (String) -> Void

    /// - Parameter onReady: called with the bound endpoint once requests are served.
    public init(
        configuration: LimitServiceConfiguration, logger: Logger, onReady: @escaping @Sendable (String) -> Void = { _ in }
    ) {
        self.configuration = configuration
        self.logger = logger
        self.onReady = onReady
    }

    public func run() async throws {
        let home = try HomeLock(configuration.home, role: .limitService)
        let loop = try LimitLoop(configuration: configuration, logger: logger)
        try await withGracefulShutdownHandler {
            try await loop.run(onBound: onReady)
        } onGracefulShutdown: { [logger] in
            logger.info("shutting down: answering requests already received")
            loop.stop()
        }
        withExtendedLifetime(home) {}
    }
}
