import ArgumentParser
import DroverClient
import DroverCore
import DroverLimits
import Foundation

/// `--server`: which Drover server a command talks to.
struct ClientOptions: ParsableArguments {
    @Option(
        name: .long,
        help: ArgumentHelp(
            "Control endpoint of the Drover server.",
            discussion: "Defaults to DROVER_SERVER, then the active profile, then the key file's server, then tcp://127.0.0.1:4201.",
            valueName: "endpoint"))
    var server: String?

    @Option(
        name: .long,
        help: ArgumentHelp(
            "Key file to present to a --secure server (from `drover keys create`).",
            discussion: "Defaults to DROVER_KEY, then the active profile.", valueName: "file"))
    var key: String?

    /// A client for the resolved server endpoint, timeout and key.
    func connect() throws(DroverError) -> ControlClient {
        try Self.connect(server: server, key: key)
    }

    /// A client for `server` and `key` (nil: as the settings say), and the client timeout.
    /// With a key file and no endpoint set anywhere, the server is the one the key file names.
    static func connect(server: String?, key: String?) throws(DroverError) -> ControlClient {
        var flags: [String: String] = [:]
        if let server { flags[Setting.server.name] = server }
        if let key { flags[Setting.key.name] = key }
        let settings = try DroverEnvironment().settings(flags: flags)
        let keyFile = try Self.keyFile(settings)
        var endpoint = try settings.value(.server)
        if let keyFile, !keyFile.server.isEmpty, settings.resolve(.server).source == .default {
            try Setting.server.validate(keyFile.server)
            endpoint = keyFile.server
        }
        let seconds = Double(try settings.value(.clientTimeout)) ?? 5
        return try ControlClient(endpoint: endpoint, timeout: .milliseconds(Int64(seconds * 1000)), key: keyFile)
    }

    /// The key file `--key`, DROVER_KEY or the profile names, and its path; nil when none names one.
    func keyFile() throws(DroverError) -> (file: KeyFile, path: String)? {
        let path = try DroverEnvironment().settings(flags: key.map { [Setting.key.name: $0] } ?? [:]).value(.key)
        return path.isEmpty ? nil : (try KeyFile.read(from: path), path)
    }

    /// The key file the settings name, read; nil when they name none.
    static func keyFile(_ settings: ResolvedSettings) throws(DroverError) -> KeyFile? {
        let path = try settings.value(.key)
        return path.isEmpty ? nil : try KeyFile.read(from: path)
    }
}

/// `-o/--output json` for read commands.
struct OutputOptions: ParsableArguments {
    enum Format: String, ExpressibleByArgument, CaseIterable {
        case json
    }

    @Option(name: [.short, .long], help: "Print JSON (protobuf's JSON mapping) instead of text.")
    var output: Format?

    var json: Bool { output == .json }
}

/// Parses a concurrency limit argument, rejecting negative and non-numeric values.
func parseLimit(_ text: String, of subject: String) throws -> UInt32 {
    do {
        return try ConcurrencyLimit.parse(text, of: subject)
    } catch {
        throw ValidationError(error.message)
    }
}

/// `--secure` / `--insecure`, for the daemons that listen (`server start`, `limit-service start`).
struct SecurityOptions: ParsableArguments {
    @Flag(
        help: ArgumentHelp(
            "Admit only clients and workers with keys this home issued (CURVE on every endpoint).",
            discussion: "Makes the key pair in DROVER_HOME/keys on first use. Issue keys with `drover keys create`."))
    var secure = false

    @Flag(
        help: ArgumentHelp(
            "Listen beyond loopback (a --host other than 127.0.0.1) without security.",
            discussion: "Anyone who can reach the ports can then use them as an admin would. Without it, such a --host is refused."))
    var insecure = false

    @Option(
        help: ArgumentHelp(
            "With --secure: the key pair file to use instead of DROVER_HOME/keys/server.json.",
            discussion:
                "Defaults to DROVER_SERVER_KEY. Make one with `drover keys server-key -o FILE`; for a key kept in a Kubernetes Secret.",
            valueName: "file"))
    var serverKey: String?

    /// The security of a `--secure` daemon whose home is `home`; nil when it is not secure.
    func serverSecurity(home: URL) throws(DroverError) -> ServerSecurity? {
        let settings = try DroverEnvironment().settings(flags: serverKey.map { [Setting.serverKey.name: $0] } ?? [:])
        let keyFile = try settings.value(.serverKey)
        guard secure else {
            if serverKey != nil { throw .invalidArgument("--server-key applies to a --secure daemon; add --secure.") }
            return nil
        }
        return try ServerSecurity(home: home, keyFile: keyFile)
    }

    /// How `daemon` may listen on `host`, or the refusal to say what to do.
    func exposure(host: String, daemon: Exposure.Daemon) throws(DroverError) -> Exposure {
        try Exposure.check(host: host, secure: secure, insecure: insecure, daemon: daemon)
    }
}
