import ArgumentParser
import DroverClient
import DroverCore
import DroverProto
import DroverWire
import DroverWorker
import Foundation
import Logging
import Synchronization

/// `drover worker …`
struct WorkerCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "worker",
        abstract: "Start and list workers.",
        subcommands: [Start.self, List.self]
    )
}

extension WorkerCommand {
    /// `drover worker start`: runs a process worker in the foreground.
    struct Start: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Start a worker that runs the pool's flow runs as local processes.",
            discussion: """
                The server pushes runs to the worker the moment they are due; it never sends more than \
                --limit at once. SIGINT (Ctrl-C) or SIGTERM: take no new runs, let running ones finish, \
                exit 0. A second signal terminates the running ones (SIGTERM, then SIGKILL after a grace \
                period) and reports them cancelled.
                """)

        @Option(name: [.short, .long], help: "The work pool to serve.") var pool: String
        @Option(name: [.short, .long], help: "The worker's name, unique in its pool (default: generated).")
        var name: String?
        @Option(name: [.short, .long], help: "Most flow runs at once (default: unlimited).") var limit: String?
        @Option(name: [.customShort("q"), .customLong("work-queue")], help: "A queue to serve (repeatable; default: every queue).")
        var workQueues: [String] = []
        @Option(name: [.short, .long], help: "The worker type: process.") var type = "process"
        @Flag(help: "Create the pool (of --type) when it does not exist.") var createPoolIfNotFound = false
        @Option(help: "Seconds a run gets between SIGTERM and SIGKILL when stopped (default 10).")
        var terminationGrace: Double = 10
        @Option(help: "Log level: \(Setting.logLevels.joined(separator: ", ")) (DROVER_LOGGING_LEVEL; default info).")
        var logLevel: String?
        @OptionGroup var client: ClientOptions

        func validate() throws {
            if let limit {
                let value = try parseLimit(limit, of: "the worker")
                if value == 0 { throw ValidationError("--limit must be 1 or more; leave it out for no limit.") }
            }
            if (try? WorkPoolType.parse(type)) == nil {
                throw ValidationError("Unknown worker type '\(type)'. Please choose from process.")
            }
            guard terminationGrace > 0, terminationGrace <= 3600 else {
                throw ValidationError("--termination-grace must be between 0 and 3600 seconds.")
            }
        }

        func run() throws {
            var flags: [String: String] = [:]
            if let logLevel { flags[Setting.loggingLevel.name] = logLevel.lowercased() }
            let settings = try DroverEnvironment().settings(flags: flags)
            let level = Logger.Level(rawValue: try settings.value(.loggingLevel).lowercased()) ?? .info
            Daemon.logToStandardError(at: level)
            let connection = try client.connect()
            let key = try client.keyFile()
            guard case .serverInfo(let info) = try connection.call(.getServerInfo(.init())),
                let dispatch = info.endpoints["dispatch"]
            else {
                throw DroverError(.unavailable, "The server at \(connection.endpoint) does not accept workers.")
            }
            let configuration = WorkerConfiguration(
                dispatchEndpoint: AdvertisedEndpoint.reachable(dispatch, via: connection.endpoint), poolName: pool, name: name,
                limit: try limit.map { try parseLimit($0, of: "the worker") }, queueNames: workQueues, type: type,
                createPoolIfNotFound: createPoolIfNotFound,
                terminationGrace: .milliseconds(Int64(terminationGrace * 1000)), key: key?.file,
                keyPath: key.map { URL(fileURLWithPath: $0.path).standardizedFileURL.path })
            let names = NameBox()
            let agent = try WorkerAgent(
                configuration: configuration, logger: Logger(label: "drover.worker"),
                onEvent: { event in Self.show(event, names: names) })
            try agent.run()
            Terminal.print("Worker '\(names.name)' stopped!")
        }

        private static func show(_ event: WorkerEvent, names: NameBox) {
            switch event {
            case .started(let name):
                names.name = name
                Terminal.print("Worker '\(name)' started!")
            case .runStarted(let runName, let runID, let pid):
                Terminal.print("\(Self.now()) | INFO    | Flow run '\(runName)' (\(runID)) started as pid \(pid)")
            case .output(_, let line, let isError):
                if isError { Terminal.error(line) } else { Terminal.print(line) }
            case .runFinished(let runName, _, let outcome):
                Terminal.print("\(Self.now()) | INFO    | Flow run '\(runName)' finished: \(outcome)")
            case .draining(let running):
                Terminal.print(
                    "Received a stop signal: taking no new flow runs, waiting for \(running) running. "
                        + "Send it again to terminate them.")
            case .terminating(let running):
                Terminal.print("Received a second stop signal: terminating \(running) running flow runs.")
            case .reconnecting:
                Terminal.print("\(Self.now()) | WARNING | Lost the server; reconnecting.")
            }
        }

        private static func now() -> String {
            let formatter = DateFormatter()
            formatter.dateFormat = "HH:mm:ss.SSS"
            return formatter.string(from: Date())
        }
    }

    struct List: ParsableCommand {
        static let configuration = CommandConfiguration(commandName: "ls", abstract: "List workers and their status.")

        @Option(name: [.short, .long], help: "Only this pool's workers.") var pool: String?
        @OptionGroup var client: ClientOptions
        @OptionGroup var output: OutputOptions

        func run() throws {
            let request = Drover_V1_ListWorkers.with { $0.workPoolName = pool ?? "" }
            guard case .workers(let list) = try client.connect().call(.listWorkers(request)) else { throw unexpectedReply }
            if output.json {
                Terminal.print(try ProtoJSON.render(list.workers))
                return
            }
            guard !list.workers.isEmpty else {
                Terminal.print("No workers found.")
                return
            }
            var table = Table(
                title: pool.map { "Workers in Work Pool '\($0)'" } ?? "Workers",
                columns: [
                    .init(header: "Name"), .init(header: "Pool"), .init(header: "Status"),
                    .init(header: "Last Heartbeat"), .init(header: "Limit"), .init(header: "Active Runs", alignment: .right),
                ])
            for worker in list.workers {
                table.append([
                    worker.name, worker.workPoolName, worker.status == .online ? "ONLINE" : "OFFLINE",
                    Formatting.timestamp(worker.lastHeartbeat), Formatting.limit(worker.hasLimit ? worker.limit : nil),
                    "\(worker.activeRuns)",
                ])
            }
            Terminal.print(table.render())
        }
    }
}

/// The worker's name once the server has given it, for the goodbye line.
private final class NameBox: Sendable {
    private let value = Mutex("")

    var name: String {
        get { value.withLock { $0 } }
        set { value.withLock { $0 = newValue } }
    }
}
