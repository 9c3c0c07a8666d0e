import ArgumentParser
import DroverClient
import DroverCore
import DroverProto
import DroverWire

/// `drover work-queue …`, in the words of `prefect work-queue`.
struct WorkQueueCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "work-queue",
        abstract: "Manage work queues.",
        subcommands: [
            Create.self, List.self, Inspect.self, Update.self, Pause.self, Resume.self, Delete.self,
            SetConcurrencyLimit.self, ClearConcurrencyLimit.self,
        ]
    )
}

/// `--pool`, which every queue command needs: queue names are unique only within a pool.
struct PoolOption: ParsableArguments {
    @Option(name: [.short, .long], help: "The name of the work pool the queue belongs to.")
    var pool: String
}

extension WorkQueueCommand {
    struct Create: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Create a work queue.")

        @Argument(help: "The unique name to assign this work queue.") var name: String
        @OptionGroup var pool: PoolOption
        @Option(name: [.short, .long], help: "The concurrency limit to set on the queue.") var limit: String?
        @Option(
            name: [.customShort("q"), .long],
            help: "Priority: 1 goes first. Defaults to after the pool's last queue; a taken priority moves that queue down.")
        var priority: UInt32?
        @Option(help: "What the queue is for.") var description: String?
        @Flag(help: "Create the queue paused.") var paused = false
        @OptionGroup var client: ClientOptions

        func validate() throws {
            if let limit { _ = try parseLimit(limit, of: "work queue '\(name)'") }
            if let priority { try validatePriority(priority) }
        }

        func run() throws {
            let request = try Drover_V1_CreateWorkQueue.with {
                $0.name = name
                $0.workPoolName = pool.pool
                $0.description_p = description ?? ""
                $0.paused = paused
                if let limit { $0.concurrencyLimit = try parseLimit(limit, of: "work queue '\(name)'") }
                if let priority { $0.priority = priority }
            }
            guard case .workQueue(let queue) = try client.connect().call(.createWorkQueue(request)) else {
                throw unexpectedReply
            }
            Terminal.print(
                """

                Created work queue with properties:
                    name - '\(queue.name)'
                    work pool - '\(queue.workPoolName)'
                    id - \(queue.id)
                    priority - \(queue.priority)
                    concurrency limit - \(Formatting.limit(queue.hasConcurrencyLimit ? queue.concurrencyLimit : nil))
                Start a worker to pick up flow runs from the work queue:
                    drover worker start -q '\(queue.name)' -p '\(queue.workPoolName)'

                Inspect the work queue:
                    drover work-queue inspect '\(queue.name)' --pool '\(queue.workPoolName)'
                """)
        }
    }

    struct List: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "ls", abstract: "List the work queues of a pool, or of every pool.")

        @Option(name: [.short, .long], help: "Only this pool's queues.") var pool: String?
        @Flag(name: [.short, .long], help: "Show descriptions too.") var verbose = false
        @OptionGroup var client: ClientOptions
        @OptionGroup var output: OutputOptions

        func run() throws {
            let request = Drover_V1_ListWorkQueues.with { $0.workPoolName = pool ?? "" }
            guard case .workQueues(let list) = try client.connect().call(.listWorkQueues(request)) else {
                throw unexpectedReply
            }
            if output.json {
                Terminal.print(try ProtoJSON.render(list.workQueues))
                return
            }
            guard !list.workQueues.isEmpty else {
                Terminal.print("No work queues found.")
                return
            }
            var columns: [Table.Column] =
                pool == nil
                ? [
                    .init(header: "Name"), .init(header: "Pool"), .init(header: "ID", alignment: .right),
                    .init(header: "Priority"), .init(header: "Concurrency Limit"),
                ]
                : [.init(header: "Name"), .init(header: "Priority"), .init(header: "Concurrency Limit")]
            if verbose { columns.append(.init(header: "Description")) }
            var table = Table(
                title: pool.map { "Work Queues in Work Pool '\($0)'" } ?? "Work Queues",
                caption: "(**) denotes a paused queue", columns: columns)
            for queue in list.workQueues {
                let name = queue.isPaused ? "\(queue.name) (**)" : queue.name
                let limit = Formatting.limit(queue.hasConcurrencyLimit ? queue.concurrencyLimit : nil)
                var row =
                    pool == nil
                    ? [name, queue.workPoolName, queue.id, "\(queue.priority)", limit]
                    : [name, "\(queue.priority)", limit]
                if verbose { row.append(queue.description_p) }
                table.append(row)
            }
            Terminal.print(table.render())
        }
    }

    struct Inspect: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Inspect a work queue.")

        @Argument(help: "The name of the work queue.") var name: String
        @OptionGroup var pool: PoolOption
        @OptionGroup var client: ClientOptions
        @OptionGroup var output: OutputOptions

        func run() throws {
            let request = Drover_V1_GetWorkQueue.with {
                $0.name = name; $0.workPoolName = pool.pool
            }
            guard case .workQueue(let queue) = try client.connect().call(.getWorkQueue(request)) else {
                throw unexpectedReply
            }
            Terminal.print(output.json ? try ProtoJSON.render(queue) : Describe.workQueue(queue))
        }
    }

    struct Update: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Update a work queue.")

        @Argument(help: "The name of the work queue.") var name: String
        @OptionGroup var pool: PoolOption
        @Option(name: [.short, .long], help: "A new concurrency limit.") var limit: String?
        @Option(name: [.customShort("q"), .long], help: "A new priority (1 goes first).") var priority: UInt32?
        @Option(help: "A new description.") var description: String?
        @OptionGroup var client: ClientOptions

        func validate() throws {
            if limit == nil && priority == nil && description == nil {
                throw ValidationError("Nothing to update: give --limit, --priority or --description.")
            }
            if let limit { _ = try parseLimit(limit, of: "work queue '\(name)'") }
            if let priority { try validatePriority(priority) }
        }

        func run() throws {
            let request = try Drover_V1_UpdateWorkQueue.with {
                $0.name = name
                $0.workPoolName = pool.pool
                if let limit { $0.concurrencyLimit = try parseLimit(limit, of: "work queue '\(name)'") }
                if let priority { $0.priority = priority }
                if let description { $0.description_p = description }
            }
            try updateQueue(request, client: client)
            Terminal.print("Updated work queue '\(name)' in work pool '\(pool.pool)'")
        }
    }

    struct Pause: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Pause a work queue: it hands out no runs until resumed.")

        @Argument(help: "The name of the work queue.") var name: String
        @OptionGroup var pool: PoolOption
        @OptionGroup var client: ClientOptions

        func run() throws {
            try updateQueue(
                .with {
                    $0.name = name; $0.workPoolName = pool.pool; $0.paused = true
                }, client: client)
            Terminal.print("Paused work queue '\(name)' in work pool '\(pool.pool)'")
        }
    }

    struct Resume: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Resume a paused work queue.")

        @Argument(help: "The name of the work queue.") var name: String
        @OptionGroup var pool: PoolOption
        @OptionGroup var client: ClientOptions

        func run() throws {
            try updateQueue(
                .with {
                    $0.name = name; $0.workPoolName = pool.pool; $0.paused = false
                }, client: client)
            Terminal.print("Resumed work queue '\(name)' in work pool '\(pool.pool)'")
        }
    }

    struct Delete: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Delete a work queue (not a pool's default queue).")

        @Argument(help: "The name of the work queue.") var name: String
        @OptionGroup var pool: PoolOption
        @OptionGroup var client: ClientOptions

        func run() throws {
            let request = Drover_V1_DeleteWorkQueue.with {
                $0.name = name; $0.workPoolName = pool.pool
            }
            guard case .deleted = try client.connect().call(.deleteWorkQueue(request)) else { throw unexpectedReply }
            Terminal.print("Deleted work queue '\(name)' from work pool '\(pool.pool)'")
        }
    }

    struct SetConcurrencyLimit: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Set a concurrency limit on a work queue.")

        @Argument(help: "The name of the work queue.") var name: String
        @Argument(help: "Most runs of the queue in PENDING or RUNNING at once (0 holds them all).") var limit: String
        @OptionGroup var pool: PoolOption
        @OptionGroup var client: ClientOptions

        func validate() throws { _ = try parseLimit(limit, of: "work queue '\(name)'") }

        func run() throws {
            let value = try parseLimit(limit, of: "work queue '\(name)'")
            try updateQueue(
                .with {
                    $0.name = name; $0.workPoolName = pool.pool; $0.concurrencyLimit = value
                }, client: client)
            Terminal.print("Concurrency limit of \(value) set on work queue '\(name)' in work pool '\(pool.pool)'")
        }
    }

    struct ClearConcurrencyLimit: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Clear the concurrency limit of a work queue.")

        @Argument(help: "The name of the work queue.") var name: String
        @OptionGroup var pool: PoolOption
        @OptionGroup var client: ClientOptions

        func run() throws {
            try updateQueue(
                .with {
                    $0.name = name; $0.workPoolName = pool.pool; $0.removeConcurrencyLimit = true
                }, client: client)
            Terminal.print("Concurrency limits removed on work queue '\(name)' in work pool '\(pool.pool)'")
        }
    }
}

private func validatePriority(_ priority: UInt32) throws {
    do {
        try QueuePriority.validate(priority)
    } catch {
        throw ValidationError(error.message)
    }
}

private func updateQueue(_ request: Drover_V1_UpdateWorkQueue, client: ClientOptions) throws {
    guard case .workQueue = try client.connect().call(.updateWorkQueue(request)) else { throw unexpectedReply }
}
