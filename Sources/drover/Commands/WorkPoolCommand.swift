import ArgumentParser
import DroverClient
import DroverCore
import DroverProto
import DroverWire
import Foundation

/// `drover work-pool …`, in the words of `prefect work-pool`.
struct WorkPoolCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "work-pool",
        abstract: "Manage work pools.",
        subcommands: [
            List.self, Create.self, Inspect.self, Update.self, Pause.self, Resume.self, Delete.self,
            SetConcurrencyLimit.self, ClearConcurrencyLimit.self, GetDefaultBaseJobTemplate.self, Preview.self,
        ]
    )
}

extension WorkPoolCommand {
    struct List: ParsableCommand {
        static let configuration = CommandConfiguration(commandName: "ls", abstract: "List work pools.")

        @OptionGroup var client: ClientOptions
        @OptionGroup var output: OutputOptions

        func run() throws {
            guard case .workPools(let list) = try client.connect().call(.listWorkPools(.init())) else {
                throw unexpectedReply
            }
            if output.json {
                Terminal.print(try ProtoJSON.render(list.workPools))
                return
            }
            guard !list.workPools.isEmpty else {
                Terminal.print("No work pools found.")
                return
            }
            var table = Table(
                title: "Work Pools", caption: "(**) denotes a paused pool",
                columns: [
                    .init(header: "Name"), .init(header: "Type"), .init(header: "ID", alignment: .right),
                    .init(header: "Concurrency Limit"),
                ])
            for pool in list.workPools {
                table.append([
                    pool.isPaused ? "\(pool.name) (**)" : pool.name, pool.type, pool.id,
                    Formatting.limit(pool.hasConcurrencyLimit ? pool.concurrencyLimit : nil),
                ])
            }
            Terminal.print(table.render())
        }
    }

    struct Create: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Create a new work pool.",
            discussion: "Every pool gets a queue named 'default' (priority 1) that cannot be deleted.")

        @Argument(help: "The name of the work pool.") var name: String
        @Option(name: [.short, .long], help: "The type of work pool to create: process.") var type = "process"
        @Option(help: "What the pool is for.") var description: String?
        @Option(help: "Most runs of the pool in PENDING or RUNNING at once (default: unlimited).")
        var concurrencyLimit: String?
        @Flag(help: "Create the pool paused: it hands out no runs until resumed.") var paused = false
        @Option(
            help: ArgumentHelp(
                "Path to a JSON file with the base job template to use.",
                discussion: "Defaults to the type's template: `drover work-pool get-default-base-job-template`.",
                valueName: "file"))
        var baseJobTemplate: String?
        @OptionGroup var client: ClientOptions

        func validate() throws {
            if let concurrencyLimit { _ = try parseLimit(concurrencyLimit, of: "work pool '\(name)'") }
            if type.isEmpty {
                let known = WorkPoolType.allCases.map(\.rawValue).joined(separator: ", ")
                throw ValidationError("--type cannot be empty; choose from \(known).")
            }
        }

        func run() throws {
            let request = try Drover_V1_CreateWorkPool.with {
                $0.name = name
                $0.type = type
                $0.description_p = description ?? ""
                $0.paused = paused
                if let concurrencyLimit { $0.concurrencyLimit = try parseLimit(concurrencyLimit, of: "work pool '\(name)'") }
                if let baseJobTemplate { $0.baseJobTemplateJson = try readTemplate(baseJobTemplate) }
            }
            guard case .workPool(let pool) = try client.connect().call(.createWorkPool(request)) else {
                throw unexpectedReply
            }
            var text = "Created work pool '\(pool.name)'!\n"
            if !pool.isPaused {
                text += "\nTo start a worker for this work pool, run:\n\n\tdrover worker start --pool \(pool.name)\n"
            }
            text += """

                └── UUID: \(pool.id)
                └── Type: \(pool.type)
                └── Description: \(pool.description_p.isEmpty ? "None" : pool.description_p)
                └── Status: \(Formatting.poolStatusWords(pool.status))
                """
            Terminal.print(text)
        }
    }

    struct Inspect: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Inspect a work pool.")

        @Argument(help: "The name of the work pool.") var name: String
        @OptionGroup var client: ClientOptions
        @OptionGroup var output: OutputOptions

        func run() throws {
            let connection = try client.connect()
            guard case .workPool(let pool) = try connection.call(.getWorkPool(.with { $0.name = name })) else {
                throw unexpectedReply
            }
            if output.json {
                Terminal.print(try ProtoJSON.render(pool))
                return
            }
            Terminal.print(Describe.workPool(pool))
            guard case .workers(let list) = try connection.call(.listWorkers(.with { $0.workPoolName = name })) else {
                throw unexpectedReply
            }
            if list.workers.isEmpty {
                Terminal.print("No workers have joined this pool yet: drover worker start --pool \(name)")
            } else {
                Terminal.print("Workers:")
                for worker in list.workers {
                    Terminal.print(
                        "  \(worker.name): \(worker.status == .online ? "ONLINE" : "OFFLINE"), limit "
                            + "\(Formatting.limit(worker.hasLimit ? worker.limit : nil)), \(worker.activeRuns) active, "
                            + "last heartbeat \(Formatting.timestamp(worker.lastHeartbeat))")
                }
            }
        }
    }

    struct Update: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Update a work pool.")

        @Argument(help: "The name of the work pool.") var name: String
        @Option(help: "A new description.") var description: String?
        @Option(help: "A new concurrency limit.") var concurrencyLimit: String?
        @Option(help: ArgumentHelp("Path to a JSON file with a new base job template.", valueName: "file"))
        var baseJobTemplate: String?
        @OptionGroup var client: ClientOptions

        func validate() throws {
            if description == nil && concurrencyLimit == nil && baseJobTemplate == nil {
                throw ValidationError("Nothing to update: give --description, --concurrency-limit or --base-job-template.")
            }
            if let concurrencyLimit { _ = try parseLimit(concurrencyLimit, of: "work pool '\(name)'") }
        }

        func run() throws {
            let request = try Drover_V1_UpdateWorkPool.with {
                $0.name = name
                if let description { $0.description_p = description }
                if let concurrencyLimit { $0.concurrencyLimit = try parseLimit(concurrencyLimit, of: "work pool '\(name)'") }
                if let baseJobTemplate { $0.baseJobTemplateJson = try readTemplate(baseJobTemplate) }
            }
            try updatePool(request, client: client)
            Terminal.print("Updated work pool '\(name)'")
        }
    }

    struct Pause: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Pause a work pool: it hands out no runs until resumed.")

        @Argument(help: "The name of the work pool.") var name: String
        @OptionGroup var client: ClientOptions

        func run() throws {
            try updatePool(
                .with {
                    $0.name = name; $0.paused = true
                }, client: client)
            Terminal.print("Paused work pool '\(name)'")
        }
    }

    struct Resume: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Resume a paused work pool.")

        @Argument(help: "The name of the work pool.") var name: String
        @OptionGroup var client: ClientOptions

        func run() throws {
            try updatePool(
                .with {
                    $0.name = name; $0.paused = false
                }, client: client)
            Terminal.print("Resumed work pool '\(name)'")
        }
    }

    struct Delete: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Delete a work pool and its queues.")

        @Argument(help: "The name of the work pool.") var name: String
        @OptionGroup var client: ClientOptions

        func run() throws {
            guard case .deleted = try client.connect().call(.deleteWorkPool(.with { $0.name = name })) else {
                throw unexpectedReply
            }
            Terminal.print("Deleted work pool '\(name)'")
        }
    }

    struct SetConcurrencyLimit: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Set the concurrency limit for a work pool.")

        @Argument(help: "The name of the work pool.") var name: String
        @Argument(help: "The new concurrency limit: most runs in PENDING or RUNNING at once (0 holds them all).")
        var concurrencyLimit: String
        @OptionGroup var client: ClientOptions

        func validate() throws { _ = try parseLimit(concurrencyLimit, of: "work pool '\(name)'") }

        func run() throws {
            let limit = try parseLimit(concurrencyLimit, of: "work pool '\(name)'")
            try updatePool(
                .with {
                    $0.name = name; $0.concurrencyLimit = limit
                }, client: client)
            Terminal.print("Set concurrency limit for work pool '\(name)' to \(limit)")
        }
    }

    struct ClearConcurrencyLimit: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Clear the concurrency limit for a work pool.")

        @Argument(help: "The name of the work pool.") var name: String
        @OptionGroup var client: ClientOptions

        func run() throws {
            try updatePool(
                .with {
                    $0.name = name; $0.removeConcurrencyLimit = true
                }, client: client)
            Terminal.print("Cleared concurrency limit for work pool '\(name)'")
        }
    }

    struct GetDefaultBaseJobTemplate: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Print the default base job template of a work pool type (needs no server).")

        @Option(name: [.short, .long], help: "The work pool type: process.") var type = "process"
        @Option(help: ArgumentHelp("Write the template to this file instead of printing it.", valueName: "file"))
        var file: String?

        func run() throws {
            let text = try WorkPoolType.parse(type).defaultBaseJobTemplate.json.render(pretty: true) + "\n"
            guard let file else {
                Terminal.print(text)
                return
            }
            do {
                try Data(text.utf8).write(to: URL(fileURLWithPath: file))
            } catch {
                throw DroverError(.failedPrecondition, "Could not write \(file): \(error.localizedDescription)")
            }
            Terminal.print("Wrote the default base job template of type '\(type)' to \(file)")
        }
    }
}

extension WorkPoolCommand {
    struct Preview: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Preview the work pool's scheduled work for all queues.")

        @Argument(help: "The name of the work pool.") var name: String
        @Option(name: .customLong("hours"), help: "How many hours to look ahead (default 1).") var hours: UInt32 = 1
        @OptionGroup var client: ClientOptions
        @OptionGroup var output: OutputOptions

        func validate() throws {
            guard (1...8784).contains(hours) else { throw ValidationError("--hours must be between 1 and 8784 (a year).") }
        }

        func run() throws {
            let request = Drover_V1_PreviewWorkPool.with {
                $0.name = name; $0.hours = hours
            }
            guard case .flowRuns(let list) = try client.connect().call(.previewWorkPool(request)) else {
                throw unexpectedReply
            }
            if output.json {
                Terminal.print(try ProtoJSON.render(list.flowRuns))
                return
            }
            guard !list.flowRuns.isEmpty else {
                Terminal.print("No runs found - try increasing how far into the future you preview with the --hours flag")
                return
            }
            var table = Table(
                caption: "(**) denotes a late run",
                columns: [
                    .init(header: "Scheduled Start Time"), .init(header: "Run ID"), .init(header: "Name"),
                    .init(header: "Deployment ID"),
                ])
            let now = Date()
            for run in list.flowRuns {
                let late = run.expectedStartTime.date < now
                table.append([
                    Formatting.timestamp(run.expectedStartTime) + (late ? " (**)" : ""), run.id, run.name, run.deploymentID,
                ])
            }
            Terminal.print(table.render())
        }
    }
}

private func updatePool(_ request: Drover_V1_UpdateWorkPool, client: ClientOptions) throws {
    guard case .workPool = try client.connect().call(.updateWorkPool(request)) else { throw unexpectedReply }
}

/// Reads a template file given on the command line; the server validates its content.
private func readTemplate(_ path: String) throws -> String {
    let url = URL(fileURLWithPath: DroverEnvironment.expandingTilde(path))
    let attributes = try? FileManager.default.attributesOfItem(atPath: url.path)
    guard let size = attributes?[.size] as? Int else {
        throw DroverError(.invalidArgument, "Base job template file '\(path)' does not exist or cannot be read.")
    }
    guard size <= BaseJobTemplate.maximumBytes else {
        throw DroverError(
            .invalidArgument,
            "Base job template file '\(path)' is \(size) bytes; the most accepted is \(BaseJobTemplate.maximumBytes).")
    }
    let text: String
    do {
        text = try String(contentsOf: url, encoding: .utf8)
    } catch {
        throw DroverError(.invalidArgument, "Could not read base job template file '\(path)': \(error.localizedDescription)")
    }
    guard !text.allSatisfy(\.isWhitespace) else {
        throw DroverError(
            .invalidArgument,
            "Base job template file '\(path)' is empty. Start from `drover work-pool get-default-base-job-template`.")
    }
    return text
}

/// The server answered with a result of the wrong kind: a bug on one side or the other.
let unexpectedReply = DroverError(.malformedMessage, "The server answered with an unexpected kind of reply.")
