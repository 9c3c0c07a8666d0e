import DroverCore
import DroverProto
import DroverStore
import Foundation

/// Everything a limit service, embedded or standalone, can be told.
public struct LimitServiceConfiguration: Sendable {
    /// The address the limits endpoint binds on.
    public var host: String
    /// The limits endpoint's port; 0 picks a free one.
    public var port: Int
    /// Where `limits.sqlite` lives.
    public var home: URL
    public var durability: SQLiteStore.Durability
    public var maxFrameBytes: Int64
    /// Lease bounds and defaults.
    public var book: LimitBook.Settings
    /// The flag that sets `port`, named when the port cannot be bound.
    public var portOption: String
    /// With it, the endpoint admits only CURVE clients with keys the home issued (`--secure`).
    public var security: ServerSecurity?

    public init(
        host: String = "127.0.0.1", port: Int = 4203, home: URL, durability: SQLiteStore.Durability = .full,
        maxFrameBytes: Int64 = droverMaxFrameBytes, book: LimitBook.Settings = LimitBook.Settings(),
        portOption: String = "--limits-port", security: ServerSecurity? = nil
    ) {
        self.portOption = portOption
        self.security = security
        self.host = host
        self.port = port
        self.home = home
        self.durability = durability
        self.maxFrameBytes = maxFrameBytes
        self.book = book
    }

    /// The limit store's file.
    public var storePath: String { home.appendingPathComponent("limits.sqlite").path }
}
