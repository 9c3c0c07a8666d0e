import Foundation
import Testing

#if canImport(Glibc)
import Glibc
#endif

/// A real `drover server start` on loopback, for one test.
///
/// `start` returns once the server printed its "listening on" line (it has bound its
/// endpoint and serves requests), never after a fixed sleep. Whoever starts a server
/// stops it: `stop(signal:)` to check how it exits, `terminate()` in a `defer` so nothing
/// is left running when a test fails early.
final class DroverServer: @unchecked Sendable {
    /// The server's `DROVER_HOME`, which the CLI commands of the test share.
    let home: URL
    /// The control endpoint it reported, such as `tcp://127.0.0.1:40123`.
    let endpoint: String
    /// The line it printed when ready.
    let listeningLine: String
    /// The network namespace it runs in (a `NetworkLab` host); CLI commands run there too.
    let namespace: String?
    /// The key file CLI commands and workers present by default (`DROVER_KEY`), for a
    /// `--secure` server; a `--key` of their own wins.
    let clientKey: String?
    private let child: ChildProcess

    /// Longest wait for the "listening on" line.
    static let readyGuardSeconds: Double = 20
    /// Longest wait for a stop signal to end the server before SIGKILL.
    static let stopGuardSeconds: Double = 15

    private init(
        home: URL, endpoint: String, listeningLine: String, namespace: String?, clientKey: String?, child: ChildProcess
    ) {
        self.clientKey = clientKey
        self.home = home
        self.endpoint = endpoint
        self.listeningLine = listeningLine
        self.namespace = namespace
        self.child = child
    }

    /// What launching a server led to.
    enum Launch {
        /// It is serving.
        case ready(DroverServer)
        /// It exited before it was ready, as a refused start does.
        case exited(ProcessExit, DroverResult)
    }

    /// Starts `drover server start --home HOME` plus `arguments` (by default a free
    /// port) and waits until it is ready or has exited.
    static func launch(
        home: URL, arguments: [String] = ["--control-port", "0", "--dispatch-port", "0", "--limits-port", "0"], env: [String: String] = [:],
        namespace: String? = nil, clientKey: String? = nil, sourceLocation: SourceLocation = #_sourceLocation
    ) async throws -> Launch {
        let settled = Latch()
        let line = LockedValue<String?>(nil)
        let fullArguments = ["server", "start", "--home", home.path] + arguments
        let environment = DroverBinary.baseEnvironment()
            .merging(["DROVER_HOME": home.path]) { _, new in new }
            .merging(env) { _, new in new }
        // Settled: the server is ready, or its stdout closed because it ended.
        let (executable, processArguments) = DroverBinary.invocation(fullArguments, namespace: namespace)
        let child = try ChildProcess(
            executable: executable, arguments: processArguments, environment: environment,
            onStdoutLine: { text in
                if text.contains("Drover server listening on "), line.set(ifNil: text) { settled.open() }
            },
            onStdoutEnd: { settled.open() })
        _ = await onOwnThread { settled.wait(seconds: readyGuardSeconds) }
        if let text = line.value, let endpoint = Self.endpoint(in: text) {
            return .ready(
                DroverServer(
                    home: home, endpoint: endpoint, listeningLine: text, namespace: namespace, clientKey: clientKey, child: child))
        }
        let exited = await onOwnThread { child.waitForExit(seconds: 5) }
        if !exited {
            child.killAndReap()
            let problem = "drover server did not report 'listening on' within \(readyGuardSeconds) s; killed it."
            Issue.record(
                "\(problem)\nstdout: \(child.stdout)\nstderr: \(child.stderr)", sourceLocation: sourceLocation)
            throw ServerStartFailure()
        }
        await onOwnThread { child.finishReading() }
        let status: Int32 = if case .exit(let code) = child.exit { code } else { -1 }
        return .exited(
            child.exit, DroverResult(arguments: fullArguments, status: status, stdout: child.stdout, stderr: child.stderr))
    }

    /// Starts a server that must come up; fails the test (and throws) if it does not.
    static func start(
        home: URL, arguments: [String] = ["--control-port", "0", "--dispatch-port", "0", "--limits-port", "0"], env: [String: String] = [:],
        namespace: String? = nil, clientKey: String? = nil, sourceLocation: SourceLocation = #_sourceLocation
    ) async throws -> DroverServer {
        switch try await launch(
            home: home, arguments: arguments, env: env, namespace: namespace, clientKey: clientKey, sourceLocation: sourceLocation)
        {
        case .ready(let server):
            return server
        case .exited(let exit, let result):
            Issue.record("drover server exited (\(exit)) before it was ready:\n\(result)", sourceLocation: sourceLocation)
            throw ServerStartFailure()
        }
    }

    /// The server's process id.
    var pid: Int32 { child.pid }

    /// The control port it bound.
    var port: Int { Int(endpoint.split(separator: ":").last!)! }

    /// Everything the server logged so far.
    var stderr: String { child.stderr }

    /// Sends `signal` and waits for the server to exit; returns how it ended. A server
    /// that outlives the guard is killed with SIGKILL and fails the test.
    @discardableResult
    func stop(signal: Int32 = SIGTERM, sourceLocation: SourceLocation = #_sourceLocation) async -> ProcessExit {
        let child = self.child
        let stopped = await onOwnThread { () -> Bool in
            child.send(signal)
            let stopped = child.waitForExit(seconds: DroverServer.stopGuardSeconds)
            child.killAndReap()
            return stopped
        }
        if !stopped {
            Issue.record(
                "drover server did not exit within \(Self.stopGuardSeconds) s of signal \(signal); killed it",
                sourceLocation: sourceLocation)
        }
        return child.exit
    }

    /// Kills the server if it still runs and waits for it to go. For `defer`: it blocks
    /// only while a SIGKILL takes effect, and does nothing after `stop`.
    func terminate() {
        child.killAndReap()
    }

    /// The environment that points a CLI command at this server: `DROVER_HOME` is the
    /// server's home and `DROVER_SERVER` its endpoint.
    var clientEnvironment: [String: String] {
        var environment = ["DROVER_HOME": home.path, "DROVER_SERVER": endpoint]
        if let clientKey { environment["DROVER_KEY"] = clientKey }
        return environment
    }

    /// Runs `drover ARGUMENTS` against this server (see `clientEnvironment`), with `env` added.
    func drover(
        _ arguments: String..., env: [String: String] = [:], sourceLocation: SourceLocation = #_sourceLocation
    ) async throws -> DroverResult {
        try await drover(arguments, env: env, sourceLocation: sourceLocation)
    }

    /// `drover(_:env:)` with the arguments as an array.
    func drover(
        _ arguments: [String], env: [String: String] = [:], sourceLocation: SourceLocation = #_sourceLocation
    ) async throws -> DroverResult {
        try await DroverIntegrationTests.drover(
            arguments, env: clientEnvironment.merging(env) { _, new in new }, namespace: namespace, sourceLocation: sourceLocation)
    }

    /// Runs a read command that must succeed and returns its stdout.
    func output(_ arguments: String..., sourceLocation: SourceLocation = #_sourceLocation) async throws -> String {
        let result = try await DroverIntegrationTests.drover(
            arguments, env: clientEnvironment, namespace: namespace, sourceLocation: sourceLocation)
        try #require(result.status == 0, "\(result)", sourceLocation: sourceLocation)
        return result.stdout
    }

    /// Every pool and queue the server holds: equal snapshots mean nothing changed.
    func snapshot(sourceLocation: SourceLocation = #_sourceLocation) async throws -> StateSnapshot {
        let pools = try await output("work-pool", "ls", "-o", "json", sourceLocation: sourceLocation)
        let queues = try await output("work-queue", "ls", "-o", "json", sourceLocation: sourceLocation)
        return try StateSnapshot(poolsJSON: pools, queuesJSON: queues)
    }

    private static func endpoint(in line: String) -> String? {
        guard let start = line.range(of: "listening on ")?.upperBound else { return nil }
        return line[start...].split(separator: " ").first.map(String.init)
    }

    deinit {
        child.killAndReap()
    }
}

/// Thrown after a server failed to start; the test already recorded why.
struct ServerStartFailure: Error {}
