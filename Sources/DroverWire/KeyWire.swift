import DroverCore
import DroverProto
import Foundation
import SwiftProtobuf

// Keys to and from their wire form, for the server and `drover keys` alike.

extension KeyRole {
    /// The Core role of a wire role; nil for an unspecified or unknown one.
    public init?(wire: Drover_V1_KeyRole) {
        switch wire {
        case .admin: self = .admin
        case .worker: self = .worker
        case .viewer: self = .viewer
        case .unspecified, .UNRECOGNIZED: return nil
        }
    }
}

extension Drover_V1_KeyRole {
    public init(_ role: KeyRole) {
        switch role {
        case .admin: self = .admin
        case .worker: self = .worker
        case .viewer: self = .viewer
        }
    }
}

extension Drover_V1_Key {
    public init(_ key: IssuedKey) {
        self = .with {
            $0.name = key.name
            $0.role = .init(key.role)
            $0.pools = key.pools
            $0.publicKey = key.publicKey
            $0.created = Google_Protobuf_Timestamp(date: key.created)
            if let revoked = key.revoked { $0.revoked = Google_Protobuf_Timestamp(date: revoked) }
            $0.server = key.server ?? ""
        }
    }
}

extension IssuedKey {
    /// The key a server listed; nil when its role is unknown to this client.
    public init?(wire: Drover_V1_Key) {
        guard let role = KeyRole(wire: wire.role) else { return nil }
        self.init(
            name: wire.name, role: role, pools: wire.pools, publicKey: wire.publicKey, created: wire.created.date,
            revoked: wire.hasRevoked ? wire.revoked.date : nil, server: wire.server.isEmpty ? nil : wire.server)
    }
}

extension Drover_V1_NewKeyFile {
    public init(_ file: KeyFile) {
        self = .with {
            $0.name = file.name
            $0.role = .init(file.role)
            $0.pools = file.pools
            $0.publicKey = file.publicKey
            $0.secretKey = file.secretKey
            $0.serverPublicKey = file.serverPublicKey
            $0.server = file.server
        }
    }
}

extension KeyFile {
    /// The key file a server issued; nil when its role is unknown to this client.
    public init?(wire: Drover_V1_NewKeyFile) {
        guard let role = KeyRole(wire: wire.role) else { return nil }
        self.init(
            name: wire.name, role: role, pools: wire.pools, publicKey: wire.publicKey, secretKey: wire.secretKey,
            serverPublicKey: wire.serverPublicKey, server: wire.server)
    }
}
