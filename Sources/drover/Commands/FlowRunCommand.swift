import ArgumentParser
import DroverClient
import DroverCore
import DroverProto
import DroverWire
import Foundation

/// `drover flow-run …`
struct FlowRunCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "flow-run",
        abstract: "Interact with flow runs.",
        subcommands: [List.self, Inspect.self, Logs.self, Cancel.self, Delete.self]
    )
}

extension FlowRunCommand {
    struct List: ParsableCommand {
        static let configuration = CommandConfiguration(commandName: "ls", abstract: "List recent flow runs, newest first.")

        @Option(name: [.short, .long], help: "Only runs of this pool.") var pool: String?
        @Option(name: [.short, .long], help: "Only runs of this deployment.") var deployment: String?
        @Option(name: [.short, .long], help: "Only runs in this state, such as RUNNING (repeatable).") var state: [String] = []
        @Option(help: "At most this many runs (default 20).") var limit: UInt32 = 20
        @OptionGroup var client: ClientOptions
        @OptionGroup var output: OutputOptions

        func validate() throws {
            for name in state {
                do { _ = try StateType.parse(name) } catch { throw ValidationError(error.message) }
            }
        }

        func run() throws {
            let request = try Drover_V1_ListFlowRuns.with {
                $0.workPoolName = pool ?? ""
                $0.deploymentName = deployment ?? ""
                $0.stateTypes = try state.map { Drover_V1_StateType(try StateType.parse($0)) }
                $0.limit = limit
            }
            guard case .flowRuns(let list) = try client.connect().call(.listFlowRuns(request)) else { throw unexpectedReply }
            if output.json {
                Terminal.print(try ProtoJSON.render(list.flowRuns))
                return
            }
            guard !list.flowRuns.isEmpty else {
                Terminal.print("No flow runs found.")
                return
            }
            var table = Table(
                title: "Flow Runs",
                columns: [
                    .init(header: "ID", alignment: .right), .init(header: "Deployment"), .init(header: "Name"),
                    .init(header: "State"), .init(header: "When"),
                ])
            for run in list.flowRuns {
                table.append([
                    run.id, run.deploymentName, run.name,
                    "\(Formatting.stateType(run.stateType))"
                        + (run.stateName.uppercased() == Formatting.stateType(run.stateType) ? "" : " (\(run.stateName))"),
                    Formatting.timestamp(run.hasStartTime ? run.startTime : run.expectedStartTime),
                ])
            }
            Terminal.print(table.render())
        }
    }

    struct Inspect: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Show a flow run with its state history.")

        @Argument(help: "The flow run's id.") var id: String
        @OptionGroup var client: ClientOptions
        @OptionGroup var output: OutputOptions

        func run() throws {
            guard case .flowRun(let run) = try client.connect().call(.getFlowRun(.with { $0.id = id })) else {
                throw unexpectedReply
            }
            Terminal.print(output.json ? try ProtoJSON.render(run) : Describe.flowRun(run))
        }
    }

    struct Logs: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Show a flow run's logs.")

        @Argument(help: "The flow run's id.") var id: String
        @Flag(name: [.short, .long], help: "Keep printing new lines until the run ends.") var follow = false
        @OptionGroup var client: ClientOptions
        @OptionGroup var output: OutputOptions

        func validate() throws {
            if follow && output.json { throw ValidationError("--follow prints text; leave out -o json.") }
        }

        func run() throws {
            let connection = try client.connect()
            if output.json {
                Terminal.print(try ProtoJSON.render(try allLines(connection).lines))
                return
            }
            if follow {
                _ = try FlowRunWatcher(connection: connection, runID: id).follow(printStates: false)
                return
            }
            let (lines, run) = try allLines(connection)
            for line in lines { Terminal.print(LogFormat.line(line, runName: run.name)) }
        }

        /// Every stored line of the run, read a page at a time, and the run as it is now.
        private func allLines(_ connection: ControlClient) throws -> (lines: [Drover_V1_LogLine], run: Drover_V1_FlowRun) {
            var lines: [Drover_V1_LogLine] = []
            var after: UInt64 = 0
            while true {
                let request = Drover_V1_ReadFlowRunLogs.with {
                    $0.id = id; $0.afterSequence = after; $0.limit = 1000
                }
                guard case .logs(let page) = try connection.call(.readFlowRunLogs(request)) else { throw unexpectedReply }
                lines += page.lines
                guard let last = page.lines.last, page.more else { return (lines, page.flowRun) }
                after = last.sequence
            }
        }
    }

    struct Cancel: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Cancel a flow run.")

        @Argument(help: "The flow run's id.") var id: String
        @OptionGroup var client: ClientOptions

        func run() throws {
            guard case .flowRun(let run) = try client.connect().call(.cancelFlowRun(.with { $0.id = id })) else {
                throw unexpectedReply
            }
            Terminal.print(
                "Flow run '\(run.id)' was successfully scheduled for cancellation with status: "
                    + Formatting.stateType(run.stateType))
        }
    }

    struct Delete: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Delete a flow run that is not running.")

        @Argument(help: "The flow run's id.") var id: String
        @OptionGroup var client: ClientOptions

        func run() throws {
            guard case .deleted = try client.connect().call(.deleteFlowRun(.with { $0.id = id })) else {
                throw unexpectedReply
            }
            Terminal.print("Successfully deleted flow run '\(id)'.")
        }
    }
}
