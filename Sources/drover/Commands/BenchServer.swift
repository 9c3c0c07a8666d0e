import DroverCore
import Foundation

#if canImport(Glibc)
import Glibc
#endif

/// A server the bench starts for itself: `drover server start` or `drover limit-service
/// start` on a temporary home and free ports, stopped (SIGINT, then SIGKILL) and its home
/// removed at the end.
final class BenchServer {
    let endpoint: String
    let pid: Int32
    private let process: Process
    private let home: URL
    /// Signalled when the server process ends.
    private let exited: DispatchSemaphore

    private init(endpoint: String, process: Process, home: URL, exited: DispatchSemaphore) {
        self.exited = exited
        self.endpoint = endpoint
        self.pid = process.processIdentifier
        self.process = process
        self.home = home
    }

    /// Runs this executable with `arguments` (a command that takes --home and prints
    /// "… listening on ENDPOINT …" once it serves) and returns once it serves.
    /// `prepare` runs on the new home before the server starts (to issue keys in it).
    static func start(_ arguments: [String], prepare: (URL) throws(DroverError) -> Void = { _ in }) throws -> BenchServer {
        let home = FileManager.default.temporaryDirectory.appendingPathComponent("drover-bench-\(UUID().uuidString)")
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/proc/self/exe").resolvingSymlinksInPath()
        process.arguments = arguments + ["--home", home.path, "--log-level", "warning"]
        let output = Pipe()
        try FileManager.default.createDirectory(at: home, withIntermediateDirectories: true)
        try prepare(home)
        let log = home.appendingPathComponent("server.log")
        _ = FileManager.default.createFile(atPath: log.path, contents: nil)
        process.standardOutput = output
        process.standardError = try FileHandle(forWritingTo: log)
        process.standardInput = FileHandle.nullDevice
        let exited = DispatchSemaphore(value: 0)
        process.terminationHandler = { _ in exited.signal() }
        try process.run()
        // It prints one line when it serves: "Drover server listening on tcp://…".
        var text = ""
        let deadline = Date(timeIntervalSinceNow: 30)
        while !text.contains("\n"), Date() < deadline, process.isRunning {
            let chunk = output.fileHandleForReading.availableData
            if chunk.isEmpty { break }
            text += String(decoding: chunk, as: UTF8.self)
        }
        guard let start = text.range(of: "listening on ")?.upperBound else {
            process.interrupt()
            let logged = (try? String(contentsOf: log, encoding: .utf8)) ?? ""
            throw DroverError(.unavailable, "The bench's own server did not start:\n\(text)\(logged)")
        }
        let endpoint = String(text[start...].prefix { !$0.isWhitespace })
        return BenchServer(endpoint: endpoint, process: process, home: home, exited: exited)
    }

    func stop() {
        if process.isRunning {
            process.interrupt()
            if exited.wait(timeout: .now() + 10) == .timedOut { kill(pid, SIGKILL) }
            process.waitUntilExit()
        }
        try? FileManager.default.removeItem(at: home)
    }
}
