import Foundation

/// The Python of `deploy/test.sh` (`.build/test-python`, with croniter and python-dateutil),
/// for tests that check Drover against independent implementations.
public enum ReferencePython {
    public struct Failure: Error, CustomStringConvertible {
        public let description: String
    }

    /// `DROVER_TEST_PYTHON`, or the package's `.build/test-python/bin/python3`.
    public static var executable: URL {
        if let path = ProcessInfo.processInfo.environment["DROVER_TEST_PYTHON"], !path.isEmpty {
            return URL(fileURLWithPath: path)
        }
        // This file is Tests/DroverTestSupport/ReferencePython.swift in the package.
        let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent()
        return root.appendingPathComponent(".build/test-python/bin/python3")
    }

    /// Runs `script` with `input` on its stdin and returns its stdout; throws with its
    /// stderr when it fails, when it runs longer than `timeout` seconds (it is killed), or
    /// when the environment is missing (run `bash deploy/test.sh` once to create it).
    public static func run(_ script: String, input: Data = Data(), timeout: Double = 120) throws -> Data {
        let python = executable
        guard FileManager.default.isExecutableFile(atPath: python.path) else {
            throw Failure(
                description: "No reference Python at \(python.path): run `bash deploy/test.sh` once, "
                    + "or set DROVER_TEST_PYTHON to a python3 with croniter and python-dateutil.")
        }
        let process = Process()
        process.executableURL = python
        process.arguments = ["-c", script]
        let stdin = Pipe()
        let stdout = Pipe()
        let stderr = Pipe()
        let exited = DispatchSemaphore(value: 0)
        process.terminationHandler = { _ in exited.signal() }
        process.standardInput = stdin
        process.standardOutput = stdout
        process.standardError = stderr
        try process.run()
        // Write and read on separate threads so neither pipe fills up and blocks the other.
        let writer = Thread {
            stdin.fileHandleForWriting.write(input)
            try? stdin.fileHandleForWriting.close()
        }
        writer.start()
        let errors = LockedData()
        let errorsRead = DispatchSemaphore(value: 0)
        let errorReader = Thread {
            errors.set(stderr.fileHandleForReading.readDataToEndOfFile())
            errorsRead.signal()
        }
        errorReader.start()
        let output = LockedData()
        let outputRead = DispatchSemaphore(value: 0)
        let outputReader = Thread {
            output.set(stdout.fileHandleForReading.readDataToEndOfFile())
            outputRead.signal()
        }
        outputReader.start()
        if exited.wait(timeout: .now() + timeout) == .timedOut {
            process.terminate()
            kill(process.processIdentifier, SIGKILL)
            exited.wait()
            throw Failure(description: "The reference script ran longer than \(Int(timeout)) s and was killed.")
        }
        outputRead.wait()
        errorsRead.wait()
        guard process.terminationStatus == 0 else {
            throw Failure(
                description: "The reference script failed (\(process.terminationStatus)):\n\(String(decoding: errors.data, as: UTF8.self))")
        }
        return output.data
    }

    /// Bytes one thread reads and another takes.
    private final class LockedData: @unchecked Sendable {
        private let lock = NSLock()
        private var value = Data()
        func set(_ data: Data) { lock.withLock { value = data } }
        var data: Data { lock.withLock { value } }
    }
}
