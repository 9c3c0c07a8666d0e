import DroverCore
import Foundation

#if canImport(Glibc)
import Glibc
#endif

/// Part of a fleet in a child process (`drover bench fleet`), for fleets larger than one
/// process may hold: a ZeroMQ context holds 1,023 sockets unless told otherwise, and a
/// process 20,000 file descriptors here.
///
/// The child prints `progress WELCOMED FINISHED` as its counts change and, once its stdin
/// closes, stops its workers and prints `measurements JSON`. This side adds the progress to
/// the bench's tally and keeps the measurements.
final class FleetChild: @unchecked Sendable {
    private let process = Process()
    private let input = Pipe()
    private let output = Pipe()
    private let tally: FleetTally
    /// The reader's result, guarded by `condition`.
    private let condition = NSCondition()
    private var measurements: SimulatedFleet.Measurements?
    private var ended = false
    private var errorText = ""

    /// Starts `executable` with `arguments` and reads what it prints on a thread of its own.
    init(executable: URL, arguments: [String], tally: FleetTally) throws {
        self.tally = tally
        process.executableURL = executable
        process.arguments = arguments
        process.standardInput = input
        process.standardOutput = output
        let errors = Pipe()
        process.standardError = errors
        try process.run()
        let reader = Thread { [self] in read(errors: errors) }
        reader.name = "drover-bench-fleet-child"
        reader.start()
    }

    /// Asks the child to stop its workers and report. Any thread.
    func stop() {
        try? input.fileHandleForWriting.close()
    }

    /// Kills the child if it still runs.
    func kill() {
        if process.isRunning { Glibc.kill(process.processIdentifier, SIGKILL) }
    }

    /// What the child measured, once it reported; throws if it ended without, or `deadline` passed.
    func result(until deadline: Date) throws -> SimulatedFleet.Measurements {
        condition.lock()
        defer { condition.unlock() }
        while !ended {
            guard condition.wait(until: deadline) else { break }
        }
        if let measurements { return measurements }
        throw DroverError(
            .unavailable,
            "A fleet process (pid \(process.processIdentifier)) ended without measurements"
                + (errorText.isEmpty ? "." : ":\n\(errorText)"))
    }

    private func read(errors: Pipe) {
        var buffer = Data()
        var last = (welcomed: 0, finished: 0)
        var decoded: SimulatedFleet.Measurements?
        let handle = output.fileHandleForReading
        while true {
            let chunk = handle.availableData
            if chunk.isEmpty { break }
            buffer.append(chunk)
            while let newline = buffer.firstIndex(of: UInt8(ascii: "\n")) {
                let line = String(decoding: buffer[buffer.startIndex..<newline], as: UTF8.self)
                buffer.removeSubrange(buffer.startIndex...newline)
                if line.hasPrefix("progress ") {
                    let numbers = line.split(separator: " ").dropFirst().compactMap { Int($0) }
                    guard numbers.count == 2 else { continue }
                    tally.add(welcomed: numbers[0] - last.welcomed, finished: numbers[1] - last.finished)
                    last = (numbers[0], numbers[1])
                } else if line.hasPrefix("measurements ") {
                    decoded = try? JSONDecoder().decode(
                        SimulatedFleet.Measurements.self, from: Data(line.dropFirst("measurements ".count).utf8))
                }
            }
        }
        let stderr = String(decoding: errors.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        process.waitUntilExit()
        condition.withLock {
            measurements = decoded
            errorText = stderr.trimmingCharacters(in: .whitespacesAndNewlines)
            ended = true
            condition.broadcast()
        }
        tally.partEnded()
    }
}

/// The child's side of `FleetChild`: what `drover bench fleet` runs.
public enum FleetChildProcess {
    /// Connects `workers` simulated workers to `dispatch` for `pool`, reports progress on
    /// stdout until stdin closes or `timeout` passes, then prints its measurements.
    public static func serve(
        dispatch: String, pool: String, workers: Int, limit: UInt32, runDuration: Duration, firstWorker: Int,
        timeout: Duration, process: [String]? = nil, key: KeyFile? = nil
    ) throws {
        let tally = FleetTally()
        let fleet = SimulatedFleet(
            configuration: .init(
                dispatchEndpoint: dispatch, pool: pool, workers: workers, limit: limit, runDuration: runDuration,
                expectedRuns: 0, firstWorker: firstWorker, process: process, key: key),
            tally: tally)
        let outcome = FleetOutcome()
        let deadline = ContinuousClock.now + timeout
        let worker = Thread { outcome.finish(Result { try fleet.run(deadline: deadline) }) }
        worker.name = "drover-bench-fleet"
        worker.start()
        let stdinWatcher = Thread {
            _ = FileHandle.standardInput.readDataToEndOfFile()
            fleet.stop()
        }
        stdinWatcher.start()

        var printed = FleetTally.Counts()
        while true {
            let counts = tally.wait(until: Date(timeIntervalSinceNow: 0.02)) { $0.partsEnded > 0 }
            if counts.welcomed != printed.welcomed || counts.finished != printed.finished {
                write("progress \(counts.welcomed) \(counts.finished)\n")
                printed = counts
            }
            if counts.partsEnded > 0 { break }
        }
        let measurements = try outcome.wait(until: .now + .seconds(10))
        write("measurements " + String(decoding: try JSONEncoder().encode(measurements), as: UTF8.self) + "\n")
    }

    private static func write(_ text: String) {
        FileHandle.standardOutput.write(Data(text.utf8))
    }
}
