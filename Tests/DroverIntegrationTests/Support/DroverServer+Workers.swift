import Foundation
import Testing

extension DroverServer {
    /// `worker ls [--pool POOL] -o json`, parsed; the command must succeed.
    func workers(pool: String? = nil, sourceLocation: SourceLocation = #_sourceLocation) async throws -> [[String: Any]] {
        let arguments = ["worker", "ls"] + (pool.map { ["--pool", $0] } ?? []) + ["-o", "json"]
        let result = try await drover(arguments, sourceLocation: sourceLocation)
        try #require(result.status == 0, "\(result)", sourceLocation: sourceLocation)
        return try JSON.array(result.stdout)
    }

    /// The dispatch endpoint workers connect to, from the "listening on" line.
    var dispatchEndpoint: String {
        guard let start = listeningLine.range(of: "workers connect to ")?.upperBound else { return "" }
        return String(listeningLine[start...].prefix { !$0.isWhitespace && $0 != ";" })
    }

    /// The limit service endpoint it uses, from the "listening on" line.
    var limitsEndpoint: String {
        guard let start = listeningLine.range(of: "limits at ")?.upperBound else { return "" }
        return String(listeningLine[start...].prefix { !$0.isWhitespace && $0 != ";" })
    }

    /// The dispatch port it bound.
    var dispatchPort: Int { Int(dispatchEndpoint.split(separator: ":").last ?? "") ?? 0 }
}

extension DroverServer {
    /// Reads `worker ls` every 50 ms until worker `name` of `pool` has `status` (such as
    /// `ONLINE`); fails the test after `seconds` (a failure guard).
    func awaitWorker(
        _ name: String, pool: String, status: String, seconds: Double = 30,
        sourceLocation: SourceLocation = #_sourceLocation
    ) async throws {
        let deadline = Date(timeIntervalSinceNow: seconds)
        while true {
            let worker = element(named: name, in: try await workers(pool: pool, sourceLocation: sourceLocation))
            if worker?["status"] as? String == status { return }
            try #require(
                Date() < deadline, "worker \(name) was not \(status) within \(seconds) s: \(worker ?? [:])",
                sourceLocation: sourceLocation)
            try await Task.sleep(for: .milliseconds(50))
        }
    }
}
