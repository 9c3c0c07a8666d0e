/// The endpoints a server reports (in `ServerInfo` and a worker's `Welcome`) are the ones it
/// bound. Bound to a wildcard address (`--host 0.0.0.0`, as in a container), such an endpoint
/// names no host a peer can reach; a peer then reaches it on the host it reached the control
/// endpoint on, which is the same server.
public enum AdvertisedEndpoint {
    /// `advertised` with a wildcard host replaced by the host of `contacted`; unchanged when
    /// its host is a real one or either is not a TCP endpoint.
    ///
    ///     reachable("tcp://0.0.0.0:4202", via: "tcp://drover-server:4201") == "tcp://drover-server:4202"
    public static func reachable(_ advertised: String, via contacted: String) -> String {
        guard let (host, port) = split(advertised), isWildcard(host), let (reachedHost, _) = split(contacted),
            !isWildcard(reachedHost)
        else { return advertised }
        return "tcp://\(reachedHost):\(port)"
    }

    /// Whether `host` is an address that means "every interface" rather than one host.
    public static func isWildcard(_ host: String) -> Bool {
        ["*", "0.0.0.0", "::", "[::]", "[*]"].contains(host)
    }

    /// Host (brackets kept around an IPv6 address) and port of a `tcp://HOST:PORT` endpoint.
    static func split(_ endpoint: String) -> (host: String, port: Substring)? {
        guard endpoint.hasPrefix("tcp://") else { return nil }
        let address = endpoint.dropFirst("tcp://".count)
        guard let colon = address.lastIndex(of: ":") else { return nil }
        let host = String(address[..<colon])
        let port = address[address.index(after: colon)...]
        guard !host.isEmpty, !port.isEmpty, port.allSatisfy(\.isNumber) else { return nil }
        // An unbracketed IPv6 address has colons of its own; only "::" is accepted bare.
        guard host == "::" || !host.contains(":") || (host.hasPrefix("[") && host.hasSuffix("]")) else { return nil }
        return (host, port)
    }
}
