import ArgumentParser
import DroverClient
import DroverCoordinator
import DroverCore
import DroverLimits
import DroverProto
import DroverWire
import Foundation
import Logging

/// `drover server …`
struct ServerCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "server",
        abstract: "Start and inspect the Drover server.",
        subcommands: [Start.self, Status.self]
    )
}

extension ServerCommand {
    /// `drover server start`: runs the coordinator in the foreground until SIGINT or SIGTERM.
    struct Start: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Start the Drover server in the foreground.",
            discussion: """
                Binds the control endpoint (tcp://HOST:CONTROL-PORT), the dispatch endpoint workers \
                connect to, and the embedded limit service (unless --limit-service names a shared one), \
                and keeps pools, queues, deployments, runs and limits in SQLite stores in DROVER_HOME. \
                SIGINT (Ctrl-C) or SIGTERM finishes the requests already received and exits 0.
                """
        )

        @Option(help: "Address to bind every endpoint on (DROVER_SERVER_HOST; default 127.0.0.1).")
        var host: String?

        @Option(
            name: [.customLong("control-port"), .customLong("port")],
            help: "Port of the control endpoint; 0 picks a free one (DROVER_SERVER_CONTROL_PORT; default 4201).")
        var controlPort: String?

        @Option(help: "Port of the dispatch endpoint workers connect to; 0 picks a free one (DROVER_SERVER_DISPATCH_PORT; default 4202).")
        var dispatchPort: String?

        @Option(help: "Port of the embedded limit service; 0 picks a free one (DROVER_SERVER_LIMITS_PORT; default 4203).")
        var limitsPort: String?

        @Option(
            help: ArgumentHelp(
                "Use this standalone limit service instead of the embedded one.",
                discussion: "Servers that share limits all point at one `drover limit-service start`.",
                valueName: "endpoint"))
        var limitService: String?

        @Option(
            help: ArgumentHelp(
                "Key file for a --secure standalone limit service (issued by its home with `drover keys create`).",
                valueName: "file"))
        var limitServiceKey: String?

        @Option(help: "Seconds a run's concurrency-slot lease lasts unless renewed, 3 to 86400 (DROVER_SERVER_RUN_LEASE_TTL; default 30).")
        var runLeaseTTL: String?

        @Option(help: "Seconds between worker heartbeats; a worker silent for 3 is lost (DROVER_HEARTBEAT_INTERVAL; default 2).")
        var heartbeatInterval: String?

        @Option(help: "Seconds a scheduled run may be past due before it shows as Late (DROVER_SERVER_LATE_AFTER; default 15).")
        var lateAfter: String?

        @Option(help: "Directory for the store and the server lock (DROVER_HOME; default ~/.drover).")
        var home: String?

        @Option(help: "Log level: \(Setting.logLevels.joined(separator: ", ")) (DROVER_LOGGING_LEVEL; default info).")
        var logLevel: String?

        @Flag(help: "Commit with fsync at checkpoints only: faster, but a power loss may lose the last changes.")
        var relaxedDurability = false

        @OptionGroup var security: SecurityOptions

        func run() async throws {
            var environment = DroverEnvironment()
            if let home { environment.variables["DROVER_HOME"] = home }
            var flags: [String: String] = [:]
            if let host { flags[Setting.serverHost.name] = host }
            if let controlPort { flags[Setting.serverControlPort.name] = controlPort }
            if let dispatchPort { flags[Setting.serverDispatchPort.name] = dispatchPort }
            if let limitsPort { flags[Setting.serverLimitsPort.name] = limitsPort }
            if let runLeaseTTL { flags[Setting.serverRunLeaseTTL.name] = runLeaseTTL }
            if let heartbeatInterval { flags[Setting.heartbeatInterval.name] = heartbeatInterval }
            if let lateAfter { flags[Setting.serverLateAfter.name] = lateAfter }
            if let logLevel { flags[Setting.loggingLevel.name] = logLevel.lowercased() }
            let settings = try environment.settings(flags: flags)
            var coordinatorSettings = Coordinator.Settings()
            coordinatorSettings.heartbeatInterval = Double(try settings.value(.heartbeatInterval))!
            let runLeaseTTL = Double(try settings.value(.serverRunLeaseTTL))!
            guard runLeaseTTL >= 3, runLeaseTTL <= 86_400 else {
                throw ValidationError(
                    "A run's lease TTL must be from 3 to 86400 seconds; got \(runLeaseTTL) (DROVER_SERVER_RUN_LEASE_TTL or --run-lease-ttl)."
                )
            }
            coordinatorSettings.runLeaseTTL = runLeaseTTL
            coordinatorSettings.lateAfter = Double(try settings.value(.serverLateAfter))!
            coordinatorSettings.horizon = ScheduleHorizon(
                maxRuns: Int(try settings.value(.schedulerMaxRuns))!,
                maxTime: Double(try settings.value(.schedulerMaxScheduledTime))!,
                minRuns: Int(try settings.value(.schedulerMinRuns))!,
                minTime: Double(try settings.value(.schedulerMinScheduledTime))!)
            coordinatorSettings.schedulingInterval = Double(try settings.value(.schedulerLoopSeconds))!
            let limits: LimitServicePlacement
            if let limitService {
                try Setting.limits.validate(limitService)
                guard !limitService.isEmpty else {
                    throw ValidationError("--limit-service needs an endpoint such as tcp://127.0.0.1:4203.")
                }
                limits = .remote(endpoint: limitService)
            } else {
                limits = .embedded(port: Int(try settings.value(.serverLimitsPort))!)
            }
            let host = try settings.value(.serverHost)
            let exposure = try security.exposure(host: host, daemon: .server)
            let configuration = CoordinatorConfiguration(
                host: host,
                controlPort: Int(try settings.value(.serverControlPort))!,
                dispatchPort: Int(try settings.value(.serverDispatchPort))!,
                home: environment.home,
                durability: relaxedDurability ? .normal : .full,
                coordinator: coordinatorSettings, limits: limits,
                security: try security.serverSecurity(home: environment.home),
                limitServiceKey: try limitServiceKey.map { path throws(DroverError) in try KeyFile.read(from: path) })
            let level = Logger.Level(rawValue: try settings.value(.loggingLevel).lowercased()) ?? .info

            Daemon.logToStandardError(at: level)
            let logger = Logger(label: "drover.server")
            if exposure == .insecure { warnInsecure(.server, host: host, logger: logger) }
            logger.info(
                "starting Drover server",
                metadata: ["version": "\(DroverVersion.current)", "home": "\(configuration.home.path)"])

            let service = CoordinatorService(configuration: configuration, logger: logger) { endpoints in
                Terminal.print(
                    "Drover server listening on \(endpoints.control) (home \(configuration.home.path)); "
                        + "workers connect to \(endpoints.dispatch); limits at \(endpoints.limits)")
            }
            try await Daemon.run(service, name: "server", logger: logger)
            logger.info("Drover server stopped")
        }
    }

    /// `drover server status`: asks the server who it is and what it serves.
    struct Status: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Show the server's version, endpoints and home; exit 1 when none answers."
        )

        @OptionGroup var client: ClientOptions
        @OptionGroup var output: OutputOptions

        func run() throws {
            let connection = try client.connect()
            guard case .serverInfo(let info) = try connection.call(.getServerInfo(.init())) else {
                throw DroverError(.malformedMessage, "The server answered with something other than its status.")
            }
            if output.json {
                Terminal.print(try ProtoJSON.render(info))
                return
            }
            var lines = [
                "Drover server \(info.version) (protocol \(info.protocolVersion)), pid \(info.pid)",
                "  Home:    \(info.home)",
                "  Started: \(Formatting.timestamp(info.started))",
            ]
            for role in info.endpoints.keys.sorted() {
                lines.append(
                    "  \(role.prefix(1).uppercased() + role.dropFirst()):\(String(repeating: " ", count: max(1, 8 - role.count)))\(info.endpoints[role]!)"
                )
            }
            Terminal.print(lines.joined(separator: "\n"))
        }
    }
}
