import ArgumentParser
import DroverBench
import DroverCore
import Foundation

/// `drover bench fleet`: part of a large fleet of simulated workers, started by `drover bench`
/// in a child process; not for people.
struct BenchFleetCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "fleet",
        abstract: "Run part of a bench's simulated workers (started by drover bench).",
        shouldDisplay: false
    )

    @Option var dispatch: String
    @Option var pool: String
    @Option var workers: Int
    @Option var limit: UInt32
    @Option var runDuration: Double = 0
    @Option var firstWorker = 1
    @Option var timeout: Double = 300
    /// The command each run starts, as a JSON array of arguments.
    @Option var processArgv: String?
    /// The key file the workers present to a `--secure` server.
    @Option var key: String?

    func validate() throws {
        guard (1...Bench.workersPerProcess).contains(workers) else {
            throw ValidationError("--workers must be from 1 to \(Bench.workersPerProcess); got \(workers).")
        }
    }

    func run() throws {
        try FleetChildProcess.serve(
            dispatch: dispatch, pool: pool, workers: workers, limit: limit,
            runDuration: .milliseconds(Int64(runDuration * 1000)), firstWorker: firstWorker,
            timeout: .milliseconds(Int64(timeout * 1000)),
            process: try processArgv.map { try JSONDecoder().decode([String].self, from: Data($0.utf8)) },
            key: try key.map { path throws(DroverError) in try KeyFile.read(from: path) })
    }
}
