import Foundation

/// One setting users can give by flag, environment variable or profile.
public struct Setting: Sendable, Hashable {
    /// The environment variable and profile key, such as `DROVER_SERVER`.
    public let name: String
    /// The value when nothing else gives one.
    public let defaultValue: String
    /// One line for `drover config view --show-defaults` and the docs.
    public let summary: String
    let kind: Kind

    enum Kind: Sendable, Hashable {
        case endpoint
        /// An endpoint, or empty for "work it out".
        case optionalEndpoint
        case host
        case port
        case positiveSeconds
        case positiveCount
        case logLevel
        case text
    }

    /// Checks a value for this setting, or throws saying what is expected.
    public func validate(_ value: String) throws(DroverError) {
        func bad(_ expected: String) -> DroverError {
            .invalidArgument("Invalid value '\(ResourceName.printable(value))' for \(name): \(expected).")
        }
        switch kind {
        case .optionalEndpoint where value.isEmpty:
            break
        case .endpoint, .optionalEndpoint:
            let transports = ["tcp://", "ipc://", "inproc://"]
            guard let transport = transports.first(where: value.hasPrefix), value.count > transport.count else {
                throw bad("expected an endpoint such as tcp://127.0.0.1:4201")
            }
        case .host:
            guard !value.isEmpty, !value.contains(where: { $0.isWhitespace || $0 == "/" }) else {
                throw bad("expected a host name or address such as 127.0.0.1")
            }
        case .port:
            guard let port = Int(value), (0...65535).contains(port) else {
                throw bad("expected a port number from 0 to 65535 (0 picks a free port)")
            }
        case .positiveSeconds:
            guard let seconds = Double(value), seconds > 0, seconds.isFinite else {
                throw bad("expected a number of seconds above 0")
            }
        case .positiveCount:
            guard let count = Int(value), count > 0 else {
                throw bad("expected a whole number above 0")
            }
        case .logLevel:
            guard Setting.logLevels.contains(value.lowercased()) else {
                throw bad("expected one of \(Setting.logLevels.joined(separator: ", "))")
            }
        case .text:
            break
        }
    }

    /// Log levels, most verbose first.
    public static let logLevels = ["trace", "debug", "info", "notice", "warning", "error", "critical"]
}

extension Setting {
    /// The control endpoint clients connect to.
    public static let server = Setting(
        name: "DROVER_SERVER", defaultValue: "tcp://127.0.0.1:4201",
        summary: "Control endpoint of the Drover server that clients and workers connect to.", kind: .endpoint)
    /// How long a client waits for the server before giving up.
    public static let clientTimeout = Setting(
        name: "DROVER_CLIENT_TIMEOUT", defaultValue: "5",
        summary: "Seconds a command waits for the server to answer before it gives up.", kind: .positiveSeconds)
    /// The key file clients and workers present to a secure server.
    public static let key = Setting(
        name: "DROVER_KEY", defaultValue: "",
        summary: "Key file (from `drover keys create`) that commands and workers present to a --secure server; empty: none.",
        kind: .text)
    /// Where a secure daemon's key pair is, when not in its home.
    public static let serverKey = Setting(
        name: "DROVER_SERVER_KEY", defaultValue: "",
        summary:
            "Key pair file (from `drover keys server-key`) a --secure server or limit service uses instead of DROVER_HOME/keys/server.json; empty: the home's.",
        kind: .text)
    /// The address the server binds.
    public static let serverHost = Setting(
        name: "DROVER_SERVER_HOST", defaultValue: "127.0.0.1",
        summary: "Address `drover server start` binds its endpoints on.", kind: .host)
    /// The server's control port.
    public static let serverControlPort = Setting(
        name: "DROVER_SERVER_CONTROL_PORT", defaultValue: "4201",
        summary: "Port of the server's control endpoint (0 picks a free port).", kind: .port)
    /// The server's dispatch port.
    public static let serverDispatchPort = Setting(
        name: "DROVER_SERVER_DISPATCH_PORT", defaultValue: "4202",
        summary: "Port of the server's dispatch endpoint, where workers connect (0 picks a free port).", kind: .port)
    /// The server's embedded limit service port.
    public static let serverLimitsPort = Setting(
        name: "DROVER_SERVER_LIMITS_PORT", defaultValue: "4203",
        summary: "Port of the server's embedded limit service (0 picks a free port).", kind: .port)
    /// How long a run's lease on its concurrency slots lasts unless renewed.
    public static let serverRunLeaseTTL = Setting(
        name: "DROVER_SERVER_RUN_LEASE_TTL", defaultValue: "30",
        summary: "Seconds a run's concurrency-slot lease lasts unless renewed (renewed every third of it).",
        kind: .positiveSeconds)
    /// Where clients find the limit service.
    public static let limits = Setting(
        name: "DROVER_LIMITS", defaultValue: "",
        summary: "Endpoint of the limit service; empty: the one the server (DROVER_SERVER) uses.",
        kind: .optionalEndpoint)
    /// How often workers heartbeat.
    public static let heartbeatInterval = Setting(
        name: "DROVER_HEARTBEAT_INTERVAL", defaultValue: "2",
        summary: "Seconds between worker heartbeats; a worker silent for 3 intervals is lost.", kind: .positiveSeconds)
    /// How late a SCHEDULED run is before it shows as Late.
    public static let serverLateAfter = Setting(
        name: "DROVER_SERVER_LATE_AFTER", defaultValue: "15",
        summary: "Seconds a scheduled run may be past due before it shows as Late (and catch-up counts it missed).",
        kind: .positiveSeconds)
    /// The scheduler's horizon and loop, with Prefect's defaults.
    public static let schedulerMaxRuns = Setting(
        name: "DROVER_SCHEDULER_MAX_RUNS", defaultValue: "100",
        summary: "The most runs a schedule makes ahead (unless fewer than the minimum time or runs).", kind: .positiveCount)
    public static let schedulerMinRuns = Setting(
        name: "DROVER_SCHEDULER_MIN_RUNS", defaultValue: "3",
        summary: "The fewest runs a schedule keeps ahead.", kind: .positiveCount)
    public static let schedulerMaxScheduledTime = Setting(
        name: "DROVER_SCHEDULER_MAX_SCHEDULED_TIME", defaultValue: "8640000",
        summary: "Seconds ahead a schedule makes runs at most (100 days).", kind: .positiveSeconds)
    public static let schedulerMinScheduledTime = Setting(
        name: "DROVER_SCHEDULER_MIN_SCHEDULED_TIME", defaultValue: "3600",
        summary: "Seconds ahead a schedule always covers with runs (1 hour).", kind: .positiveSeconds)
    public static let schedulerLoopSeconds = Setting(
        name: "DROVER_SCHEDULER_LOOP_SECONDS", defaultValue: "60",
        summary: "Seconds between the scheduler's top-ups of every schedule (it also acts on every change at once).",
        kind: .positiveSeconds)
    /// Log verbosity of the server and workers.
    public static let loggingLevel = Setting(
        name: "DROVER_LOGGING_LEVEL", defaultValue: "info",
        summary: "Log level of the server and workers: \(logLevels.joined(separator: ", ")).", kind: .logLevel)

    /// Every setting, in the order `config view` shows them.
    public static let all: [Setting] = [
        server, limits, clientTimeout, key, serverKey, serverHost, serverControlPort, serverDispatchPort, serverLimitsPort,
        serverRunLeaseTTL, serverLateAfter, schedulerMaxRuns, schedulerMinRuns, schedulerMaxScheduledTime,
        schedulerMinScheduledTime, schedulerLoopSeconds, heartbeatInterval, loggingLevel,
    ]

    /// The setting named `name`, or throws with the list of known names.
    public static func named(_ name: String) throws(DroverError) -> Setting {
        guard let setting = all.first(where: { $0.name == name }) else {
            throw .invalidArgument(
                "Unknown setting name '\(ResourceName.printable(name))'. "
                    + "Known settings: \(all.map(\.name).joined(separator: ", ")).")
        }
        return setting
    }
}
