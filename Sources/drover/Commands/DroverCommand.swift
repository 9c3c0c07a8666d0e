import ArgumentParser
import DroverCore

/// `drover`: the root command.
struct DroverCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "drover",
        abstract: "Work pools, work queues and workers, with runs pushed over ZeroMQ.",
        discussion: """
            Start a server with `drover server start`, then manage it from any shell:
              drover work-pool create my-pool --type process
              drover work-pool ls
            Commands find the server through --server, DROVER_SERVER or the active profile \
            (see `drover config view`).
            """,
        version: DroverVersion.current,
        subcommands: [
            ServerCommand.self, WorkPoolCommand.self, WorkQueueCommand.self, WorkerCommand.self, DeploymentCommand.self,
            FlowRunCommand.self, ConcurrencyLimitCommand.self, GlobalConcurrencyLimitCommand.self,
            ConcurrencyCommand.self, RateLimitCommand.self, LimitServiceCommand.self, KeysCommand.self, BenchCommand.self,
            ConfigCommand.self,
        ]
    )
}
