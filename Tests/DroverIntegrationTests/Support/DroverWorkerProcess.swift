import Foundation
import Testing

#if canImport(Glibc)
import Glibc
#endif

/// A real `drover worker start` serving a pool of a test's server.
///
/// `start` returns once the worker printed "Worker 'NAME' started!" (the server welcomed
/// it), never after a fixed sleep. Whoever starts a worker stops it: `stop(signal:)` or
/// `awaitExit` to check how it ends, `terminate()` in a `defer` so nothing is left
/// running when a test fails early.
final class DroverWorkerProcess: @unchecked Sendable {
    /// The name the worker was started with.
    let name: String
    private let child: ChildProcess
    private let lines: OutputLines

    /// Longest wait for the "started!" line.
    static let startGuardSeconds: Double = 20
    /// Longest wait for the worker to exit once it should.
    static let exitGuardSeconds: Double = 20

    private init(name: String, child: ChildProcess, lines: OutputLines) {
        self.name = name
        self.child = child
        self.lines = lines
    }

    /// What launching a worker led to.
    enum Launch {
        /// It was welcomed and serves the pool.
        case started(DroverWorkerProcess)
        /// It exited before it was welcomed, as a refused start does.
        case exited(ProcessExit, DroverResult)
    }

    /// Starts `drover worker start --pool POOL --name NAME` plus `arguments` against
    /// `server` and waits until it is welcomed or has exited.
    ///
    /// - Parameter ignoringSIGINT: start it through `/bin/sh -c 'trap "" INT; exec …'`, as a
    ///   script's `&` would, so it begins life with SIGINT ignored.
    static func launch(
        on server: DroverServer, pool: String, name: String, arguments: [String] = [], ignoringSIGINT: Bool = false,
        namespace: String? = nil, sourceLocation: SourceLocation = #_sourceLocation
    ) async throws -> Launch {
        let workerArguments = ["worker", "start", "--pool", pool, "--name", name] + arguments
        let environment = DroverBinary.baseEnvironment().merging(server.clientEnvironment) { _, new in new }
        let executable: URL
        let processArguments: [String]
        if ignoringSIGINT {
            executable = URL(fileURLWithPath: "/bin/sh")
            processArguments = ["-c", #"trap "" INT; exec "$0" "$@""#, DroverBinary.url.path] + workerArguments
        } else {
            (executable, processArguments) = DroverBinary.invocation(workerArguments, namespace: namespace)
        }
        let lines = OutputLines()
        let child = try ChildProcess(
            executable: executable, arguments: processArguments, environment: environment,
            onStdoutLine: { lines.append($0) }, onStdoutEnd: { lines.end() })
        let greeting = "Worker '\(name)' started!"
        let welcomed = await onOwnThread { lines.wait(seconds: startGuardSeconds) { $0 == greeting } != nil }
        if welcomed {
            return .started(DroverWorkerProcess(name: name, child: child, lines: lines))
        }
        let exited = await onOwnThread { child.waitForExit(seconds: 5) }
        if !exited {
            child.killAndReap()
            let problem =
                "drover \(workerArguments.joined(separator: " ")) did not print \(greeting) within "
                + "\(startGuardSeconds) s; killed it."
            Issue.record(
                "\(problem)\nstdout: \(child.stdout)\nstderr: \(child.stderr)", sourceLocation: sourceLocation)
            throw WorkerStartFailure()
        }
        await onOwnThread { child.finishReading() }
        let status: Int32 = if case .exit(let code) = child.exit { code } else { -1 }
        return .exited(
            child.exit,
            DroverResult(arguments: workerArguments, status: status, stdout: child.stdout, stderr: child.stderr))
    }

    /// Starts a worker that must be welcomed; fails the test (and throws) if it is not.
    static func start(
        on server: DroverServer, pool: String, name: String, arguments: [String] = [], ignoringSIGINT: Bool = false,
        namespace: String? = nil, sourceLocation: SourceLocation = #_sourceLocation
    ) async throws -> DroverWorkerProcess {
        let launch = try await launch(
            on: server, pool: pool, name: name, arguments: arguments, ignoringSIGINT: ignoringSIGINT,
            namespace: namespace, sourceLocation: sourceLocation)
        switch launch {
        case .started(let worker):
            return worker
        case .exited(let exit, let result):
            Issue.record("drover worker exited (\(exit)) before it was welcomed:\n\(result)", sourceLocation: sourceLocation)
            throw WorkerStartFailure()
        }
    }

    /// The worker's process id.
    var pid: Int32 { child.pid }

    /// Whether it has not exited yet.
    var isRunning: Bool { child.isRunning }

    /// Everything it printed so far.
    var stdout: String { child.stdout }

    /// Everything it logged so far.
    var stderr: String { child.stderr }

    /// Sends `signal` to the worker if it still runs.
    func send(_ signal: Int32) {
        child.send(signal)
    }

    /// Waits (bounded) for a line of its stdout that contains `text`; records an issue
    /// and returns false if none came.
    @discardableResult
    func awaitLine(
        containing text: String, seconds: Double = 20, sourceLocation: SourceLocation = #_sourceLocation
    ) async -> Bool {
        let lines = self.lines
        let found = await onOwnThread { lines.wait(seconds: seconds) { $0.contains(text) } != nil }
        if !found {
            Issue.record(
                "worker '\(name)' printed no line containing \(text) within \(seconds) s.\nstdout: \(stdout)\nstderr: \(stderr)",
                sourceLocation: sourceLocation)
        }
        return found
    }

    /// Waits for the worker to exit on its own and returns how it ended. A worker that
    /// outlives the guard is killed with SIGKILL and fails the test.
    func awaitExit(
        seconds: Double = exitGuardSeconds, sourceLocation: SourceLocation = #_sourceLocation
    ) async -> ProcessExit {
        let child = self.child
        let exited = await onOwnThread { () -> Bool in
            let exited = child.waitForExit(seconds: seconds)
            child.killAndReap()
            child.finishReading()
            return exited
        }
        if !exited {
            Issue.record(
                "worker '\(name)' did not exit within \(seconds) s; killed it.\nstdout: \(stdout)\nstderr: \(stderr)",
                sourceLocation: sourceLocation)
        }
        return child.exit
    }

    /// Sends `signal` and waits (bounded) for the worker to exit; see `awaitExit`.
    @discardableResult
    func stop(signal: Int32 = SIGINT, sourceLocation: SourceLocation = #_sourceLocation) async -> ProcessExit {
        send(signal)
        return await awaitExit(sourceLocation: sourceLocation)
    }

    /// Kills the worker if it still runs and waits for it to go. For `defer`: it blocks
    /// only while a SIGKILL takes effect, and does nothing after the worker exited.
    func terminate() {
        child.killAndReap()
    }

    deinit {
        child.killAndReap()
    }
}

/// Thrown after a worker failed to start; the test already recorded why.
struct WorkerStartFailure: Error {}
