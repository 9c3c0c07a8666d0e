import ArgumentParser
import DroverClient
import DroverCore
import DroverProto
import DroverWire
import Foundation

/// `drover global-concurrency-limit …` (or `drover gcl …`), in the words of
/// `prefect global-concurrency-limit`: named limits that flow runs, scripts
/// (`drover concurrency acquire`) and rate limits (`drover rate-limit`) take slots of.
struct GlobalConcurrencyLimitCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "global-concurrency-limit",
        abstract: "Manage global concurrency limits.",
        discussion: """
            A limit with a slot decay per second above 0 is a rate limit: its slots free \
            themselves at that rate (see `drover rate-limit`). Tag limits are the ones named tag:TAG.
            """,
        subcommands: [
            List.self, Inspect.self, Create.self, Update.self, Enable.self, Disable.self, Delete.self,
        ],
        aliases: ["gcl"]
    )
}

extension GlobalConcurrencyLimitCommand {
    struct List: ParsableCommand {
        static let configuration = CommandConfiguration(commandName: "ls", abstract: "List all global concurrency limits.")

        @OptionGroup var limits: LimitOptions
        @OptionGroup var output: OutputOptions

        func run() throws {
            guard case .limits(let list) = try limits.connect().call(.listLimits(.init())) else { throw unexpectedReply }
            if output.json {
                Terminal.print(try ProtoJSON.render(list.limits))
                return
            }
            guard !list.limits.isEmpty else {
                Terminal.print("No global concurrency limits found.")
                return
            }
            var table = Table(
                title: "Global Concurrency Limits",
                caption: "List Global Concurrency Limits using `drover global-concurrency-limit ls`",
                columns: [
                    .init(header: "ID", alignment: .right), .init(header: "Name"), .init(header: "Active"),
                    .init(header: "Limit"), .init(header: "Active Slots"), .init(header: "Slot Decay Per Second"),
                    .init(header: "Created"), .init(header: "Updated"),
                ])
            let now = Date()
            for limit in list.limits {
                table.append([
                    limit.id, limit.name, Formatting.bool(limit.active), "\(limit.limit)", "\(limit.activeSlots)",
                    LimitText.decay(limit.slotDecayPerSecond), Formatting.timestamp(limit.created),
                    LimitText.ago(limit.updated, now: now),
                ])
            }
            Terminal.print(table.render())
        }
    }

    struct Inspect: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Inspect a global concurrency limit.",
            discussion: "Shows the limit, the leases holding its slots and how many requests wait for one.")

        @Argument(help: "The name of the global concurrency limit.") var name: String
        @OptionGroup var limits: LimitOptions
        @OptionGroup var output: OutputOptions

        func run() throws {
            let connection = try limits.connect()
            let result = try connection.call(.getLimit(.with { $0.name = name }), ifMissing: missingLimit(name))
            guard case .limit(let limit) = result else { throw unexpectedReply }
            if output.json {
                Terminal.print(try ProtoJSON.render(limit))
                return
            }
            let now = Date()
            let fields: [(String, String)] = [
                ("ID", limit.id),
                ("Active", Formatting.bool(limit.active)),
                ("Limit", "\(limit.limit)"),
                ("Active slots", "\(limit.activeSlots)"),
                (
                    "Slot decay per second",
                    LimitText.decay(limit.slotDecayPerSecond)
                        + (limit.slotDecayPerSecond > 0 ? " (a rate limit)" : "")
                ),
                ("Applies to all runs", Formatting.bool(limit.appliesToAllRuns)),
                ("Waiting", "\(limit.waiting)"),
                ("Created", "\(Formatting.timestamp(limit.created)) (\(LimitText.ago(limit.created, now: now)))"),
                ("Updated", "\(Formatting.timestamp(limit.updated)) (\(LimitText.ago(limit.updated, now: now)))"),
            ]
            let width = fields.map(\.0.count).max()!
            var text = "Global concurrency limit '\(limit.name)'\n"
            for (label, value) in fields {
                text += "    \(label):" + String(repeating: " ", count: width - label.count + 1) + value + "\n"
            }
            if limit.leases.isEmpty {
                text += "No leases hold its slots."
            } else {
                var table = Table(
                    title: "Leases",
                    columns: [
                        .init(header: "Holder"), .init(header: "Slots"), .init(header: "Expires"),
                        .init(header: "Lease ID", alignment: .right),
                    ])
                for lease in limit.leases {
                    table.append([lease.holder, "\(lease.slots)", Formatting.timestamp(lease.expires), lease.id])
                }
                text += table.render()
            }
            Terminal.print(text)
        }
    }

    struct Create: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Create a global concurrency limit.")

        @Argument(help: "The name of the global concurrency limit.") var name: String
        @Option(name: [.short, .long], help: "Most slots taken at once (0 holds everything that needs one).")
        var limit: String
        @Option(
            parsing: .unconditional,
            help: "Slots that free themselves each second, making it a rate limit (default 0.0: none).")
        var slotDecayPerSecond: String?
        @Flag(help: "Create an inactive global concurrency limit: it is not enforced until enabled.") var disable = false
        @Flag(help: "Every flow run takes a slot of it, whatever its tags: a server-wide cap.") var allRuns = false
        @OptionGroup var limits: LimitOptions

        func validate() throws {
            _ = try parseLimit(limit, of: "'\(name)'")
            if let slotDecayPerSecond { _ = try parseDecay(slotDecayPerSecond) }
        }

        func run() throws {
            let request = try Drover_V1_CreateLimit.with {
                $0.name = name
                $0.limit = try parseLimit(limit, of: "'\(name)'")
                $0.disabled = disable
                $0.slotDecayPerSecond = try slotDecayPerSecond.map(parseDecay) ?? 0
                $0.appliesToAllRuns = allRuns
            }
            let connection = try limits.connect()
            let result: Drover_V1_LimitReply.OneOf_Result
            do throws(DroverError) {
                result = try connection.call(.createLimit(request))
            } catch {
                guard error.code == .alreadyExists else { throw error }
                throw DroverError(
                    .alreadyExists,
                    "Global concurrency limit '\(name)' already exists. Please try creating with a different name.")
            }
            guard case .limit(let created) = result else { throw unexpectedReply }
            Terminal.print(
                "Created global concurrency limit with name '\(created.name)' and ID '\(created.id)'. "
                    + "Run `drover gcl inspect \(created.name)` to view details.")
        }
    }

    struct Update: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Update a global concurrency limit.")

        /// `--enable` or `--disable`.
        enum Activity: String, EnumerableFlag {
            case enable, disable

            static func help(for value: Activity) -> ArgumentHelp? {
                switch value {
                case .enable: "Enforce the limit."
                case .disable: "Stop enforcing the limit."
                }
            }
        }

        @Argument(help: "The name of the global concurrency limit.") var name: String
        @Option(name: [.short, .long], help: "A new limit.") var limit: String?
        @Flag(exclusivity: .exclusive) var activity: Activity?
        @Option(parsing: .unconditional, help: "A new slot decay per second (0.0: not a rate limit).")
        var slotDecayPerSecond: String?
        @Flag(inversion: .prefixedNo, help: "Whether every flow run takes a slot of it, whatever its tags.")
        var allRuns: Bool?
        @OptionGroup var limits: LimitOptions

        func validate() throws {
            if limit == nil && activity == nil && slotDecayPerSecond == nil && allRuns == nil {
                throw ValidationError(
                    "Nothing to update: give --limit, --enable, --disable, --slot-decay-per-second, --all-runs or --no-all-runs.")
            }
            if let limit { _ = try parseLimit(limit, of: "'\(name)'") }
            if let slotDecayPerSecond { _ = try parseDecay(slotDecayPerSecond) }
        }

        func run() throws {
            let request = try Drover_V1_UpdateLimit.with {
                $0.name = name
                if let limit { $0.limit = try parseLimit(limit, of: "'\(name)'") }
                if let activity { $0.active = activity == .enable }
                if let slotDecayPerSecond { $0.slotDecayPerSecond = try parseDecay(slotDecayPerSecond) }
                if let allRuns { $0.appliesToAllRuns = allRuns }
            }
            try updateLimit(request, limits: limits)
            Terminal.print("Updated global concurrency limit with name '\(name)'.")
        }
    }

    struct Enable: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Enable a global concurrency limit.")

        @Argument(help: "The name of the global concurrency limit.") var name: String
        @OptionGroup var limits: LimitOptions

        func run() throws {
            try updateLimit(
                .with {
                    $0.name = name; $0.active = true
                }, limits: limits)
            Terminal.print("Enabled global concurrency limit with name '\(name)'.")
        }
    }

    struct Disable: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Disable a global concurrency limit.", discussion: "A disabled limit is not enforced.")

        @Argument(help: "The name of the global concurrency limit.") var name: String
        @OptionGroup var limits: LimitOptions

        func run() throws {
            try updateLimit(
                .with {
                    $0.name = name; $0.active = false
                }, limits: limits)
            Terminal.print("Disabled global concurrency limit with name '\(name)'.")
        }
    }

    struct Delete: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Delete a global concurrency limit.",
            discussion: "Holders of its slots keep running; requests waiting for it go ahead.")

        @Argument(help: "The name of the global concurrency limit.") var name: String
        @OptionGroup var limits: LimitOptions

        func run() throws {
            let connection = try limits.connect()
            let result = try connection.call(.deleteLimit(.with { $0.name = name }), ifMissing: missingLimit(name))
            guard case .deleted = result else { throw unexpectedReply }
            Terminal.print("Deleted global concurrency limit with name '\(name)'.")
        }
    }
}

private func updateLimit(_ request: Drover_V1_UpdateLimit, limits: LimitOptions) throws {
    let result = try limits.connect().call(.updateLimit(request), ifMissing: missingLimit(request.name))
    guard case .limit = result else { throw unexpectedReply }
}

/// Prefect's words for a global concurrency limit that does not exist.
private func missingLimit(_ name: String) -> String { "Global concurrency limit '\(name)' not found." }

/// Parses a slot decay per second argument: a number from 0 up.
func parseDecay(_ text: String) throws -> Double {
    guard let value = Double(text.trimmingCharacters(in: .whitespaces)), value.isFinite else {
        throw ValidationError("Slot decay per second must be a number such as 0.5; got '\(text)'.")
    }
    do {
        try Limit.validate(slotDecayPerSecond: value)
    } catch {
        throw ValidationError(error.message)
    }
    return value
}
