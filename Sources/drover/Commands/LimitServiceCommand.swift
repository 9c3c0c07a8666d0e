import ArgumentParser
import DroverCore
import DroverLimits
import Foundation
import Logging

/// `drover limit-service …`
struct LimitServiceCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "limit-service",
        abstract: "Run a limit service of its own, for several servers to share limits.",
        subcommands: [Start.self]
    )
}

extension LimitServiceCommand {
    /// `drover limit-service start`: the standalone limit service, in the foreground.
    struct Start: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Start a standalone limit service in the foreground.",
            discussion: """
                Every `drover server start` embeds a limit service. Run this one instead when several \
                servers must share their concurrency limits: start each server with \
                `--limit-service tcp://HOST:PORT`, and point clients at it with DROVER_LIMITS. Limits \
                and leases are kept in limits.sqlite in DROVER_HOME. SIGINT (Ctrl-C) or SIGTERM answers \
                the requests already received and exits 0.
                """
        )

        @Option(help: "Address to bind on (DROVER_SERVER_HOST; default 127.0.0.1).")
        var host: String?

        @Option(help: "Port of the limits endpoint; 0 picks a free one (DROVER_SERVER_LIMITS_PORT; default 4203).")
        var port: String?

        @Option(help: "Directory for limits.sqlite and the lock (DROVER_HOME; default ~/.drover).")
        var home: String?

        @Option(help: "Log level: \(Setting.logLevels.joined(separator: ", ")) (DROVER_LOGGING_LEVEL; default info).")
        var logLevel: String?

        @Flag(help: "Commit with fsync at checkpoints only: faster, but a power loss may lose the last grants.")
        var relaxedDurability = false

        @OptionGroup var security: SecurityOptions

        func run() async throws {
            var environment = DroverEnvironment()
            if let home { environment.variables["DROVER_HOME"] = home }
            var flags: [String: String] = [:]
            if let host { flags[Setting.serverHost.name] = host }
            if let port { flags[Setting.serverLimitsPort.name] = port }
            if let logLevel { flags[Setting.loggingLevel.name] = logLevel.lowercased() }
            let settings = try environment.settings(flags: flags)
            let host = try settings.value(.serverHost)
            let exposure = try security.exposure(host: host, daemon: .limitService)
            let configuration = LimitServiceConfiguration(
                host: host, port: Int(try settings.value(.serverLimitsPort))!,
                home: environment.home, durability: relaxedDurability ? .normal : .full, portOption: "--port",
                security: try security.serverSecurity(home: environment.home))
            let level = Logger.Level(rawValue: try settings.value(.loggingLevel).lowercased()) ?? .info
            Daemon.logToStandardError(at: level)
            let logger = Logger(label: "drover.limits")
            if exposure == .insecure { warnInsecure(.limitService, host: host, logger: logger) }
            let service = LimitService(configuration: configuration, logger: logger) { endpoint in
                Terminal.print("Drover limit service listening on \(endpoint) (home \(configuration.home.path))")
            }
            try await Daemon.run(service, name: "limit service", logger: logger)
            logger.info("Drover limit service stopped")
        }
    }
}
