import Foundation
import Testing

#if canImport(Glibc)
import Glibc
#endif

/// The `drover` executable under test: the one SwiftPM built next to this test bundle
/// (the test target depends on it), or else the one `DROVER_BINARY` names.
enum DroverBinary {
    static let url: URL = locate()

    /// How long any single CLI command may take before it is killed and the test fails.
    static let commandGuardSeconds: Double = 30

    private static func locate() -> URL {
        let executable = URL(fileURLWithPath: "/proc/self/exe").resolvingSymlinksInPath()
        let sibling = executable.deletingLastPathComponent().appendingPathComponent("drover")
        if FileManager.default.isExecutableFile(atPath: sibling.path) { return sibling }
        if let path = ProcessInfo.processInfo.environment["DROVER_BINARY"], !path.isEmpty {
            return URL(fileURLWithPath: path)
        }
        return sibling
    }

    /// How to run `drover ARGUMENTS`: directly, or inside network namespace `namespace`
    /// (a host of a `NetworkLab`) through `ip netns exec`, which becomes `drover` itself.
    static func invocation(_ arguments: [String], namespace: String?) -> (executable: URL, arguments: [String]) {
        guard let namespace else { return (url, arguments) }
        return (NetworkLab.ip, ["netns", "exec", namespace, url.path] + arguments)
    }

    /// The environment every child starts from: nothing of the developer's own
    /// `DROVER_*` settings, and a `HOME` that holds no profiles.
    static func baseEnvironment() -> [String: String] {
        var environment = ["HOME": "/nonexistent-drover-test-home", "LANG": "C.UTF-8"]
        if let path = ProcessInfo.processInfo.environment["PATH"] { environment["PATH"] = path }
        return environment
    }
}

/// What one `drover` command did.
struct DroverResult: Sendable, CustomStringConvertible {
    let arguments: [String]
    /// The exit code (0 success, 1 failed operation, 2 usage error); -1 if a signal ended it.
    let status: Int32
    let stdout: String
    let stderr: String

    var description: String {
        "drover \(arguments.joined(separator: " ")) -> \(status)\n--- stdout\n\(stdout)--- stderr\n\(stderr)"
    }
}

/// Runs `drover ARGUMENTS` with `env` added to a clean environment and returns its exit
/// code and output. A command still running after 30 s is killed and fails the test.
func drover(
    _ arguments: String..., env: [String: String] = [:], sourceLocation: SourceLocation = #_sourceLocation
) async throws -> DroverResult {
    try await drover(arguments, env: env, sourceLocation: sourceLocation)
}

/// `drover(_:env:)` with the arguments as an array.
func drover(
    _ arguments: [String], env: [String: String] = [:], namespace: String? = nil, sourceLocation: SourceLocation = #_sourceLocation
) async throws -> DroverResult {
    let environment = DroverBinary.baseEnvironment().merging(env) { _, new in new }
    let (executable, processArguments) = DroverBinary.invocation(arguments, namespace: namespace)
    let child = try ChildProcess(executable: executable, arguments: processArguments, environment: environment)
    let finished = await onOwnThread {
        defer { child.killAndReap() }
        let finished = child.waitForExit(seconds: DroverBinary.commandGuardSeconds)
        child.killAndReap()
        child.finishReading()
        return finished
    }
    if !finished {
        Issue.record(
            "drover \(arguments.joined(separator: " ")) did not finish within \(DroverBinary.commandGuardSeconds) s; killed it",
            sourceLocation: sourceLocation)
    }
    let status: Int32 = if case .exit(let code) = child.exit { code } else { -1 }
    return DroverResult(arguments: arguments, status: status, stdout: child.stdout, stderr: child.stderr)
}
