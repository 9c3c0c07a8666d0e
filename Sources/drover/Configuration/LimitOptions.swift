import ArgumentParser
import DroverClient
import DroverCore
import DroverProto

/// `--limits` with `--server`: which limit service a command talks to.
struct LimitOptions: ParsableArguments {
    @Option(
        name: .long,
        help: ArgumentHelp(
            "Endpoint of the limit service.",
            discussion: "Defaults to DROVER_LIMITS, then the active profile, then the one the server serves.",
            valueName: "endpoint"))
    var limits: String?

    @OptionGroup var client: ClientOptions

    /// A client for the resolved limit service endpoint, asking the server for it when
    /// neither --limits nor DROVER_LIMITS names one.
    func connect() throws(DroverError) -> LimitClient {
        var flags: [String: String] = [:]
        if let limits { flags[Setting.limits.name] = limits }
        if let key = client.key { flags[Setting.key.name] = key }
        let settings = try DroverEnvironment().settings(flags: flags)
        let configured = try settings.value(.limits)
        let seconds = Double(try settings.value(.clientTimeout)) ?? 5
        let endpoint = try LimitClient.endpoint(configured: configured) { () throws(DroverError) in try client.connect() }
        return try LimitClient(
            endpoint: endpoint, timeout: .milliseconds(Int64(seconds * 1000)), key: try ClientOptions.keyFile(settings))
    }
}

extension LimitClient {
    /// `call`, with a NOT_FOUND answer told in the command's own words (`missing`), as
    /// Prefect words it for tags and for global limits.
    func call(
        _ operation: Drover_V1_LimitRequest.OneOf_Operation, ifMissing missing: String
    ) throws(DroverError) -> Drover_V1_LimitReply.OneOf_Result {
        do {
            return try call(operation)
        } catch {
            guard error.code == .notFound else { throw error }
            throw DroverError(.notFound, missing)
        }
    }
}
