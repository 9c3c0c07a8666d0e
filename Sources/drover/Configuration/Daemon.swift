import DroverCore
import Logging
import ServiceLifecycle

/// What the long-running commands (`server start`, `limit-service start`) share: logs on
/// stderr, and a service run until SIGINT or SIGTERM shuts it down gracefully.
enum Daemon {
    /// Sends every log line at `level` or above to stderr, for the rest of the process.
    static func logToStandardError(at level: Logger.Level) {
        LoggingSystem.bootstrap { label in
            var handler = StreamLogHandler.standardError(label: label)
            handler.logLevel = level
            return handler
        }
    }

    /// Runs `service` in a `ServiceGroup` until it returns or SIGINT/SIGTERM drains it.
    /// A failure is thrown as a `DroverError` that says which daemon (`name`) stopped.
    static func run(_ service: some Service, name: String, logger: Logger) async throws {
        let group = ServiceGroup(
            configuration: .init(
                services: [
                    .init(
                        service: service, successTerminationBehavior: .gracefullyShutdownGroup,
                        failureTerminationBehavior: .gracefullyShutdownGroup)
                ],
                gracefulShutdownSignals: [.sigterm, .sigint],
                cancellationSignals: [],
                logger: logger))
        do {
            try await group.run()
        } catch let error as DroverError {
            throw error
        } catch let error as ServiceGroupError {
            throw DroverError(.internal, "The \(name) stopped: \(error)")
        }
    }
}

/// The warning a daemon started with `--insecure` beyond loopback logs, once, at start.
func warnInsecure(_ daemon: Exposure.Daemon, host: String, logger: Logger) {
    logger.warning("listening beyond loopback without security (--insecure): \(daemon.risk)", metadata: ["host": "\(host)"])
}
