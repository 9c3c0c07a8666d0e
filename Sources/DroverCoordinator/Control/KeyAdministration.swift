import DroverCore
import DroverLimits
import DroverProto
import DroverWire
import Foundation
import Logging

/// Key requests on the control endpoint: an admin key issues, lists, revokes and rotates the
/// keys of the server it reached. They are answered beside the coordinator, not by it: keys
/// live in the server's key store (`DROVER_HOME/keys`), not in its database, and asking
/// for them never touches the coordinator's state. `ControlAccess` lets only admin keys
/// send them.
public struct KeyAdministration: Sendable {
    /// The server's security; nil when it is not `--secure`.
    let security: ServerSecurity?
    /// The control endpoint the server bound, named by a key file when the request names none.
    let controlEndpoint: String
    let logger: Logger

    public init(security: ServerSecurity?, controlEndpoint: String, logger: Logger) {
        self.security = security
        self.controlEndpoint = controlEndpoint
        self.logger = logger
    }

    /// The most pools one worker key may name.
    static let maxPools = 100
    /// The longest endpoint a key file may name.
    static let maxEndpointLength = 512

    /// Whether `operation` is a key request, answered here.
    public static func handles(_ operation: Drover_V1_ControlRequest.OneOf_Operation?) -> Bool {
        switch operation {
        case .createKey, .listKeys, .revokeKey, .rotateKey: true
        default: false
        }
    }

    /// The reply to a key request sent with the key named `admin`; failures become error
    /// replies, never thrown.
    public func answer(
        _ request: Drover_V1_ControlRequest, from admin: String, now: Date = Date()
    ) -> Drover_V1_ControlReply {
        do {
            var reply = try result(of: request.operation, from: admin, now: now)
            reply.requestID = request.requestID
            return reply
        } catch {
            return .failure(requestID: request.requestID, code: .init(error.code), message: error.message)
        }
    }

    private func result(
        of operation: Drover_V1_ControlRequest.OneOf_Operation?, from admin: String, now: Date
    ) throws(DroverError) -> Drover_V1_ControlReply {
        guard let security else {
            throw .failedPrecondition(
                "This server is not --secure: it checks no keys. Start it with --secure to use keys "
                    + "(or manage them on its host with `drover keys … --home`).")
        }
        let store = security.store
        switch operation {
        case .createKey(let create):
            guard let role = KeyRole(wire: create.role) else {
                throw .invalidArgument("A key needs a role: admin, worker or viewer.")
            }
            guard create.pools.isEmpty || role == .worker else {
                throw .invalidArgument("Pools apply to worker keys only; \(role.keyPhrase) reaches every pool.")
            }
            guard create.pools.count <= Self.maxPools else {
                throw .invalidArgument("A key may name at most \(Self.maxPools) pools; leave them out to serve every pool.")
            }
            let file = try store.issue(
                name: create.name, role: role, pools: create.pools, server: try endpoint(create.server) ?? controlEndpoint,
                now: now)
            logger.notice(
                "issued a key",
                metadata: ["key.name": "\(file.name)", "key.role": "\(role.rawValue)", "by": "\(admin)"])
            return .with { $0.newKeyFile = .init(file) }
        case .listKeys:
            let keys = try store.issued()
            let reply = Drover_V1_ControlReply.with { $0.keys.keys = keys.map(Drover_V1_Key.init) }
            // Past what one message carries, the client would drop the reply and wait in vain.
            let size = (try? reply.serializedBytes() as [UInt8])?.count ?? 0
            guard Int64(size) <= droverMaxFrameBytes - 1024 else {
                throw .failedPrecondition(
                    "The \(keys.count) keys issued are too many to list in one message (\(size / 1024) KiB). "
                        + "List them on the server's host: drover keys ls --home HOME.")
            }
            return reply
        case .revokeKey(let revoke):
            let key = try store.revoke(name: revoke.name, now: now)
            logger.notice("revoked a key", metadata: ["key.name": "\(key.name)", "by": "\(admin)"])
            return .with { $0.key = .init(key) }
        case .rotateKey(let rotate):
            let file = try store.rotate(name: rotate.name, server: try endpoint(rotate.server), now: now)
            logger.notice("rotated a key", metadata: ["key.name": "\(file.name)", "by": "\(admin)"])
            return .with { $0.newKeyFile = .init(file) }
        default:
            throw DroverError(.internal, "Not a key request.")
        }
    }

    /// The endpoint a request names for a key file, checked; nil when it names none.
    private func endpoint(_ text: String) throws(DroverError) -> String? {
        guard !text.isEmpty else { return nil }
        guard text.count <= Self.maxEndpointLength, !text.contains(where: { $0.isWhitespace || $0.asciiValue.map { $0 < 0x20 } == true })
        else {
            throw .invalidArgument("The server endpoint for the key file is not an endpoint such as tcp://10.0.0.5:4201.")
        }
        try Setting.server.validate(text)
        return text
    }
}
