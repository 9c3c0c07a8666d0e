import DroverCore
import DroverLimits
import DroverProto
import DroverStore
import Foundation

/// Everything `drover server start` can be told.
public struct CoordinatorConfiguration: Sendable {
    /// The address every endpoint binds on.
    public var host: String
    /// The control endpoint's port; 0 picks a free one.
    public var controlPort: Int
    /// The dispatch endpoint's port, where workers connect; 0 picks a free one.
    public var dispatchPort: Int
    /// `DROVER_HOME`: the store and the server lock live here.
    public var home: URL
    /// Frames larger than this disconnect their sender.
    public var maxFrameBytes: Int64
    /// fsync policy of the store.
    public var durability: SQLiteStore.Durability
    /// Heartbeat and cancellation tunables.
    public var coordinator: Coordinator.Settings
    /// Where the limit service runs.
    public var limits: LimitServicePlacement
    /// With it (`--secure`), every endpoint admits only CURVE clients with keys this home
    /// issued, and each request is checked against its key's role.
    public var security: ServerSecurity?
    /// The key this server uses with a standalone secure limit service (one that service's
    /// home issued); the embedded one knows the server's own key.
    public var limitServiceKey: KeyFile?

    public init(
        host: String = "127.0.0.1", controlPort: Int = 4201, dispatchPort: Int = 4202, home: URL,
        maxFrameBytes: Int64 = droverMaxFrameBytes, durability: SQLiteStore.Durability = .full,
        coordinator: Coordinator.Settings = Coordinator.Settings(), limits: LimitServicePlacement = .embedded(port: 4203),
        security: ServerSecurity? = nil, limitServiceKey: KeyFile? = nil
    ) {
        self.security = security
        self.limitServiceKey = limitServiceKey
        self.host = host
        self.controlPort = controlPort
        self.dispatchPort = dispatchPort
        self.limits = limits
        self.coordinator = coordinator
        self.home = home
        self.maxFrameBytes = maxFrameBytes
        self.durability = durability
    }

    /// A ZeroMQ TCP endpoint on `host` at `port` (IPv6 hosts are bracketed).
    func endpoint(port: Int) -> String {
        RouterEndpoint.tcp(host: host, port: port)
    }

    var usesIPv6: Bool { host.contains(":") }
}

/// The endpoints a running server bound, by role.
public struct ServerEndpoints: Sendable, Equatable {
    /// Where clients send control requests, with the real port when 0 was asked for.
    public var control: String
    /// Where workers connect.
    public var dispatch: String
    /// The limit service the server uses: its own, or a shared one.
    public var limits: String

    /// Every endpoint by role name, as `ServerInfo` reports them.
    public var byRole: [String: String] { ["control": control, "dispatch": dispatch, "limits": limits] }
}

/// Where a server's limit service runs.
public enum LimitServicePlacement: Sendable, Equatable {
    /// In the server's process, bound on the server's host at `port` (0 picks a free one).
    case embedded(port: Int)
    /// A standalone limit service (`drover limit-service start`), shared with other servers.
    case remote(endpoint: String)
}
