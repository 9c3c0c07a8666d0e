/// Whether a server (or limit service) may listen on an address without security.
///
/// Anyone who reaches the control endpoint can create a deployment whose command runs on
/// every worker, so an endpoint off this machine's loopback is a remote shell for whoever
/// reaches it. Loopback needs nothing; anything else must be asked for in so many words.
public enum Exposure: Sendable, Equatable {
    /// Bound on loopback: only this machine can connect.
    case loopback
    /// Bound beyond loopback without security, because the user said `--insecure`.
    case insecure
    /// Every endpoint admits only CURVE clients with keys it issued (`--secure`), wherever bound.
    case secure

    /// What listens.
    public enum Daemon: Sendable {
        case server
        case limitService

        var name: String {
            switch self {
            case .server: "server"
            case .limitService: "limit service"
            }
        }

        /// What a stranger on its endpoints could do.
        public var risk: String {
            switch self {
            case .server: "anyone who can reach its ports could run commands on every worker"
            case .limitService: "anyone who can reach its port could take or free every concurrency slot"
            }
        }
    }

    /// Checks `host` (the `--host` value) for `daemon`.
    public static func check(host: String, secure: Bool = false, insecure: Bool, daemon: Daemon) throws(DroverError) -> Exposure {
        if secure {
            guard !insecure else { throw .invalidArgument("--secure and --insecure contradict each other; give one.") }
            return .secure
        }
        if isLoopback(host) { return .loopback }
        guard insecure else {
            throw DroverError(
                .failedPrecondition,
                "Refusing to start the \(daemon.name) on \(host) without security: \(daemon.risk). Start it with "
                    + "--secure (CURVE keys; see `drover keys create --help`), or bind it to 127.0.0.1 (the default), "
                    + "or, on a network you trust, add --insecure.")
        }
        return .insecure
    }

    /// Whether `host` is a loopback address: 127.0.0.0/8, ::1, or the name localhost. The
    /// wildcards (0.0.0.0, *, ::) are not: they listen on every interface.
    public static func isLoopback(_ host: String) -> Bool {
        var address = host.lowercased()
        if address.hasPrefix("["), address.hasSuffix("]") { address = String(address.dropFirst().dropLast()) }
        if address == "localhost" || address == "::1" || address == "0:0:0:0:0:0:0:1" { return true }
        if address.hasPrefix("::ffff:") { address = String(address.dropFirst("::ffff:".count)) }
        let octets = address.split(separator: ".", omittingEmptySubsequences: false)
        guard octets.count == 4, octets.allSatisfy({ octet in UInt8(octet) != nil && !octet.isEmpty }) else { return false }
        return octets[0] == "127"
    }
}
