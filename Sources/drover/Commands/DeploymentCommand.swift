import ArgumentParser
import DroverClient
import DroverCore
import DroverProto
import DroverWire
import Foundation
import SwiftProtobuf

/// `drover deployment …`
struct DeploymentCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "deployment",
        abstract: "Manage deployments and create flow runs of them.",
        subcommands: [
            Create.self, List.self, Inspect.self, Update.self, Pause.self, Resume.self, Delete.self, Run.self,
            Schedule.self,
        ]
    )
}

/// Parses `k=v` arguments, values as JSON when they are JSON, into a JSON object's text.
func keyValues(_ items: [String], what: String) throws -> String {
    do {
        return JSONValue.object(try KeyValueArgument.parse(items, what: what)).render()
    } catch {
        throw ValidationError(error.message)
    }
}

extension DeploymentCommand {
    struct Create: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Create a deployment: a command to run in a work pool.")

        @Argument(help: "The deployment's name.") var name: String
        @Option(name: [.short, .long], help: "The work pool its runs go to.") var pool: String
        @Option(name: [.short, .long], help: "The queue its runs go to (default: the pool's default queue).")
        var queue: String?
        @Option(help: "The shell command each run executes (run with /bin/sh -c).") var command: String
        @Option(name: .customLong("param"), help: "A default parameter, KEY=VALUE (VALUE is JSON or text; repeatable).")
        var parameters: [String] = []
        @Option(name: .customLong("job-variable"), help: "A job variable override, KEY=VALUE (repeatable).")
        var jobVariables: [String] = []
        @Option(name: [.short, .customLong("tag")], help: "A tag (repeatable).") var tags: [String] = []
        @Option(help: "How many times a failed run is tried again (default 0).") var retries: UInt32 = 0
        @Option(help: "Seconds between a failure and the next attempt (default 0).") var retryDelay: UInt32 = 0
        @Option(help: "What the deployment does.") var description: String?
        @OptionGroup(title: "Schedule") var schedule: ScheduleOptions
        @Option(
            help: ArgumentHelp(
                "Which runs its schedules missed while the server was down or the pool paused still go (default: all).",
                valueName: "policy"))
        var catchUp: CatchUpPolicy?
        @Option(
            help: ArgumentHelp(
                "Most runs of the deployment in PENDING or RUNNING at once (default: unlimited).", valueName: "limit"))
        var concurrencyLimit: String?
        @Option(
            help: ArgumentHelp(
                "What a due run does while the deployment is at its concurrency limit: wait (ENQUEUE, the default) "
                    + "or be cancelled (CANCEL_NEW).",
                valueName: "strategy"))
        var collisionStrategy: CollisionStrategy?
        @Flag(help: "Create the deployment paused: its schedules make no runs until `drover deployment resume`.")
        var paused = false
        @Flag(
            help: ArgumentHelp(
                "Never retry a run whose worker was lost (by default it is retried at once while --retries allow): "
                    + "for jobs that must not run twice."))
        var noRetryCrashed = false
        @OptionGroup var client: ClientOptions

        func validate() throws {
            _ = try keyValues(parameters, what: "--param")
            _ = try keyValues(jobVariables, what: "--job-variable")
            if let concurrencyLimit { _ = try parseLimit(concurrencyLimit, of: "deployment '\(name)'") }
        }

        func run() throws {
            let request = try Drover_V1_CreateDeployment.with {
                $0.name = name
                $0.workPoolName = pool
                $0.workQueueName = queue ?? ""
                $0.command = command
                $0.parametersJson = try keyValues(parameters, what: "--param")
                $0.jobVariablesJson = try keyValues(jobVariables, what: "--job-variable")
                $0.tags = tags
                $0.retries = retries
                $0.retryDelaySeconds = retryDelay
                $0.description_p = description ?? ""
                if let spec = try schedule.spec() { $0.schedules = [spec] }
                $0.paused = paused
                if let catchUp { $0.catchUp = .init(catchUp) }
                if let concurrencyLimit { $0.concurrencyLimit = try parseLimit(concurrencyLimit, of: "deployment '\(name)'") }
                if let collisionStrategy { $0.collisionStrategy = .init(collisionStrategy) }
                if noRetryCrashed { $0.retryCrashed = false }
            }
            guard case .deployment(let deployment) = try client.connect().call(.createDeployment(request)) else {
                throw unexpectedReply
            }
            var scheduleLines = deployment.schedules.map { "Schedule: \(ScheduleText.summary($0))\n" }.joined()
            if deployment.paused {
                scheduleLines += "The deployment is paused: resume it with `drover deployment resume '\(deployment.name)'`.\n"
            }
            Terminal.print(
                """
                Deployment '\(deployment.name)' successfully created with id '\(deployment.id)'.
                \(scheduleLines.isEmpty ? "" : scheduleLines)
                To execute flow runs from this deployment, start a worker that pulls work from the '\(deployment.workPoolName)' work pool:

                        $ drover worker start --pool '\(deployment.workPoolName)'

                To schedule a run for this deployment, use the following command:

                        $ drover deployment run '\(deployment.name)'
                """)
        }
    }

    struct List: ParsableCommand {
        static let configuration = CommandConfiguration(commandName: "ls", abstract: "List deployments.")

        @Option(name: [.short, .long], help: "Only this pool's deployments.") var pool: String?
        @OptionGroup var client: ClientOptions
        @OptionGroup var output: OutputOptions

        func run() throws {
            let request = Drover_V1_ListDeployments.with { $0.workPoolName = pool ?? "" }
            guard case .deployments(let list) = try client.connect().call(.listDeployments(request)) else {
                throw unexpectedReply
            }
            if output.json {
                Terminal.print(try ProtoJSON.render(list.deployments))
                return
            }
            guard !list.deployments.isEmpty else {
                Terminal.print("No deployments found.")
                return
            }
            var table = Table(
                title: "Deployments",
                columns: [.init(header: "Name"), .init(header: "ID"), .init(header: "Work Pool"), .init(header: "Queue")])
            for deployment in list.deployments {
                table.append([deployment.name, deployment.id, deployment.workPoolName, deployment.workQueueName])
            }
            Terminal.print(table.render())
        }
    }

    struct Inspect: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Show a deployment.")

        @Argument(help: "The deployment's name.") var name: String
        @OptionGroup var client: ClientOptions
        @OptionGroup var output: OutputOptions

        func run() throws {
            guard case .deployment(let deployment) = try client.connect().call(.getDeployment(.with { $0.name = name }))
            else { throw unexpectedReply }
            Terminal.print(try ProtoJSON.render(deployment))
        }
    }

    struct Update: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Change a deployment; runs already created keep what they had.")

        @Argument(help: "The deployment's name.") var name: String
        @Option(help: "A new command.") var command: String?
        @Option(name: .customLong("param"), help: "Replace the default parameters with these KEY=VALUE (repeatable).")
        var parameters: [String] = []
        @Option(name: .customLong("job-variable"), help: "Replace the job variables with these KEY=VALUE (repeatable).")
        var jobVariables: [String] = []
        @Option(name: [.short, .customLong("tag")], help: "Replace the tags with these (repeatable).") var tags: [String] = []
        @Option(help: "A new number of retries.") var retries: UInt32?
        @Option(help: "A new retry delay in seconds.") var retryDelay: UInt32?
        @Option(help: "A new description.") var description: String?
        @Option(name: [.short, .long], help: "Move it to another queue of its pool.") var queue: String?
        @Option(
            help: ArgumentHelp(
                "Which runs its schedules missed while the server was down or the pool paused still go.",
                valueName: "policy"))
        var catchUp: CatchUpPolicy?
        @Option(
            help: ArgumentHelp(
                "A new concurrency limit: most runs of the deployment in PENDING or RUNNING at once.", valueName: "limit"))
        var concurrencyLimit: String?
        @Flag(help: "Remove the concurrency limit: as many runs at once as the pool and queue allow.")
        var noConcurrencyLimit = false
        @Option(
            help: ArgumentHelp(
                "What a due run does while the deployment is at its concurrency limit: wait (ENQUEUE) or be cancelled "
                    + "(CANCEL_NEW).",
                valueName: "strategy"))
        var collisionStrategy: CollisionStrategy?
        @Flag(
            inversion: .prefixedNo,
            help: "Whether a run whose worker was lost is retried at once while --retries allow.")
        var retryCrashed: Bool?
        @OptionGroup var client: ClientOptions

        func validate() throws {
            if command == nil && parameters.isEmpty && jobVariables.isEmpty && tags.isEmpty && retries == nil
                && retryDelay == nil && description == nil && queue == nil && catchUp == nil && concurrencyLimit == nil
                && !noConcurrencyLimit && collisionStrategy == nil && retryCrashed == nil
            {
                throw ValidationError(
                    "Nothing to update: give --command, --param, --job-variable, --tag, --retries, --retry-delay, "
                        + "--description, --queue, --catch-up, --concurrency-limit, --no-concurrency-limit, "
                        + "--collision-strategy or --[no-]retry-crashed. To pause or resume its schedules, use "
                        + "`drover deployment pause` or `drover deployment resume`.")
            }
            if concurrencyLimit != nil && noConcurrencyLimit {
                throw ValidationError("Give --concurrency-limit or --no-concurrency-limit, not both.")
            }
            _ = try keyValues(parameters, what: "--param")
            _ = try keyValues(jobVariables, what: "--job-variable")
            if let concurrencyLimit { _ = try parseLimit(concurrencyLimit, of: "deployment '\(name)'") }
        }

        func run() throws {
            let request = try Drover_V1_UpdateDeployment.with {
                $0.name = name
                if let command { $0.command = command }
                if !parameters.isEmpty { $0.parametersJson = try keyValues(parameters, what: "--param") }
                if !jobVariables.isEmpty { $0.jobVariablesJson = try keyValues(jobVariables, what: "--job-variable") }
                if !tags.isEmpty { $0.replaceTags = true; $0.tags = tags }
                if let retries { $0.retries = retries }
                if let retryDelay { $0.retryDelaySeconds = retryDelay }
                if let description { $0.description_p = description }
                if let queue { $0.workQueueName = queue }
                if let catchUp { $0.catchUp = .init(catchUp) }
                if let concurrencyLimit { $0.concurrencyLimit = try parseLimit(concurrencyLimit, of: "deployment '\(name)'") }
                $0.removeConcurrencyLimit = noConcurrencyLimit
                if let collisionStrategy { $0.collisionStrategy = .init(collisionStrategy) }
                if let retryCrashed { $0.retryCrashed = retryCrashed }
            }
            guard case .deployment = try client.connect().call(.updateDeployment(request)) else { throw unexpectedReply }
            Terminal.print("Updated deployment '\(name)'.")
        }
    }

    struct Pause: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Pause a deployment: its schedules make no runs until it is resumed.",
            discussion: "Runs its schedules made that have not started are removed; runs made by hand still go.")

        @Argument(help: "The deployment's name.") var name: String
        @OptionGroup var client: ClientOptions

        func run() throws {
            try setPaused(true, name: name, client: client)
            Terminal.print("Paused deployment '\(name)': its schedules make no runs until you resume it.")
        }
    }

    struct Resume: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Resume a paused deployment: its active schedules make runs again.")

        @Argument(help: "The deployment's name.") var name: String
        @OptionGroup var client: ClientOptions

        func run() throws {
            try setPaused(false, name: name, client: client)
            Terminal.print("Resumed deployment '\(name)'.")
        }
    }

    struct Delete: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Delete a deployment (its finished runs are kept).")

        @Argument(help: "The deployment's name.") var name: String
        @OptionGroup var client: ClientOptions

        func run() throws {
            guard case .deleted = try client.connect().call(.deleteDeployment(.with { $0.name = name })) else {
                throw unexpectedReply
            }
            Terminal.print("Deleted deployment '\(name)'.")
        }
    }

    struct Run: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Create a flow run of a deployment.",
            discussion: "With --watch, follow its states and logs and exit 0 only if it completes.")

        @Argument(help: "The deployment's name.") var name: String
        @Option(name: .customLong("param"), help: "A parameter for this run, KEY=VALUE (repeatable).")
        var parameters: [String] = []
        @Option(name: .customLong("job-variable"), help: "A job variable for this run, KEY=VALUE (repeatable).")
        var jobVariables: [String] = []
        @Option(name: [.short, .customLong("tag")], help: "An extra tag for this run (repeatable).") var tags: [String] = []
        @Option(help: "Start after this delay, such as 30s, 5m or 1h30m.") var startIn: String?
        @Option(help: "Start at this time: 2026-11-29T10:00:00Z, or 2026-11-29 10:00 in local time.") var startAt: String?
        @Flag(help: "Follow the run's states and logs until it ends.") var watch = false
        @OptionGroup var client: ClientOptions

        func validate() throws {
            if startIn != nil && startAt != nil { throw ValidationError("Give --start-in or --start-at, not both.") }
            _ = try keyValues(parameters, what: "--param")
            _ = try keyValues(jobVariables, what: "--job-variable")
            do {
                if let startIn { _ = try StartTime.parseDelay(startIn) }
                if let startAt { _ = try StartTime.parseDate(startAt, now: Date(), timeZone: .current) }
            } catch {
                throw ValidationError(error.message)
            }
        }

        func run() throws {
            let now = Date()
            var start: Date?
            if let startIn {
                let delay = try StartTime.parseDelay(startIn)
                start = now.addingTimeInterval(Double(delay.components.seconds))
            }
            if let startAt { start = try StartTime.parseDate(startAt, now: now, timeZone: .current) }
            let request = try Drover_V1_RunDeployment.with {
                $0.name = name
                $0.parametersJson = try keyValues(parameters, what: "--param")
                $0.jobVariablesJson = try keyValues(jobVariables, what: "--job-variable")
                $0.tags = tags
                if let start { $0.expectedStartTime = Google_Protobuf_Timestamp(date: start) }
            }
            let connection = try client.connect()
            Terminal.print("Creating flow run for deployment '\(name)'...")
            guard case .flowRun(let run) = try connection.call(.runDeployment(request)) else { throw unexpectedReply }
            let when = Formatting.timestamp(run.expectedStartTime)
            Terminal.print(
                """
                Created flow run '\(run.name)'.
                └── UUID: \(run.id)
                └── Parameters: \(JSONValue(run.parameters).render())
                └── Job Variables: \(JSONValue(run.jobVariables).render())
                └── Scheduled start time: \(when)\(start == nil ? " (now)" : "")
                """)
            guard watch else { return }
            let outcome = try FlowRunWatcher(connection: connection, runID: run.id).follow(printStates: true)
            guard outcome == .completed else { throw ExitCode(1) }
        }
    }
}

/// Pauses or resumes every schedule of deployment `name`.
private func setPaused(_ paused: Bool, name: String, client: ClientOptions) throws {
    let request = Drover_V1_UpdateDeployment.with {
        $0.name = name
        $0.paused = paused
    }
    guard case .deployment = try client.connect().call(.updateDeployment(request)) else { throw unexpectedReply }
}
