import DroverClient
import DroverCore
import DroverLimits
import DroverProto
import DroverTestSupport
import Foundation
import Testing

@testable import DroverCoordinator

/// Key requests over the control endpoint, without sockets: what an admin asks of the key
/// store, and what comes back.
@Suite struct KeyAdministrationTests {
    let home: TemporaryDirectory
    let security: ServerSecurity
    let keys: KeyAdministration

    init() throws {
        home = try TemporaryDirectory()
        security = try ServerSecurity(home: home.url)
        keys = KeyAdministration(security: security, controlEndpoint: "tcp://0.0.0.0:4201", logger: quietLogger)
    }

    private func ask(_ operation: Drover_V1_ControlRequest.OneOf_Operation) -> Drover_V1_ControlReply {
        keys.answer(
            .with {
                $0.requestID = 7; $0.operation = operation
            }, from: "admin")
    }

    @Test func aCreatedKeyComesBackWithItsSecretOnceAndIsAdmitted() throws {
        let reply = ask(
            .createKey(
                .with {
                    $0.name = "gpu-1"; $0.role = .worker; $0.pools = ["gpu"]; $0.server = "tcp://10.0.0.5:4201"
                }))
        #expect(reply.requestID == 7)
        guard case .newKeyFile(let wire) = reply.result, let file = KeyFile(wire: wire) else {
            Issue.record("no key file: \(reply)")
            return
        }
        #expect(file.role == .worker && file.pools == ["gpu"] && file.server == "tcp://10.0.0.5:4201")
        #expect(file.serverPublicKey == security.keys.publicKey)
        #expect(security.key(for: file.publicKey)?.name == "gpu-1")
        // The store keeps the public half only.
        let stored = try String(contentsOf: security.store.folder.appendingPathComponent("issued.json"), encoding: .utf8)
        #expect(!stored.contains(file.secretKey))
    }

    @Test func aKeyFileNamesTheBoundEndpointWhenTheRequestNamesNone() {
        guard
            case .newKeyFile(let wire) = ask(
                .createKey(
                    .with {
                        $0.name = "v"; $0.role = .viewer
                    })
            ).result
        else {
            Issue.record("no key file")
            return
        }
        #expect(wire.server == "tcp://0.0.0.0:4201")
    }

    @Test(arguments: [
        (Drover_V1_CreateKey.with { $0.name = "x" }, "needs a role"),
        (
            Drover_V1_CreateKey.with {
                $0.name = "x"; $0.role = .viewer; $0.pools = ["gpu"]
            }, "worker keys only"
        ),
        (
            Drover_V1_CreateKey.with {
                $0.name = "x"; $0.role = .worker; $0.pools = (0...100).map { "p\($0)" }
            }, "at most 100"
        ),
        (
            Drover_V1_CreateKey.with {
                $0.name = "a/b"; $0.role = .viewer
            }, "key"
        ),
        (
            Drover_V1_CreateKey.with {
                $0.name = "x"; $0.role = .viewer; $0.server = "http://x"
            }, "endpoint"
        ),
        (
            Drover_V1_CreateKey.with {
                $0.name = "x"; $0.role = .viewer; $0.server = "tcp://a\nb:1"
            }, "endpoint"
        ),
    ])
    func aBadCreateIsRefusedAndIssuesNothing(create: Drover_V1_CreateKey, says: String) throws {
        let reply = ask(.createKey(create))
        guard case .error(let error) = reply.result else {
            Issue.record("accepted: \(reply)")
            return
        }
        #expect(error.code == .invalidArgument && error.message.contains(says), "\(error.message)")
        #expect(try security.store.issued().isEmpty)
    }

    @Test func listRevokeAndRotate() throws {
        _ = ask(
            .createKey(
                .with {
                    $0.name = "w"; $0.role = .worker; $0.server = "tcp://10.0.0.5:4201"
                }))
        guard case .keys(let list) = ask(.listKeys(.init())).result else {
            Issue.record("no list")
            return
        }
        #expect(list.keys.map(\.name) == ["w"] && list.keys[0].role == .worker && !list.keys[0].hasRevoked)

        guard case .newKeyFile(let rotated) = ask(.rotateKey(.with { $0.name = "w" })).result else {
            Issue.record("not rotated")
            return
        }
        #expect(rotated.server == "tcp://10.0.0.5:4201", "the old key file's endpoint is kept")
        #expect(security.key(for: rotated.publicKey)?.name == "w")
        let old = list.keys[0].publicKey
        #expect(security.key(for: old) == nil)

        guard case .key(let revoked) = ask(.revokeKey(.with { $0.name = "w" })).result else {
            Issue.record("not revoked")
            return
        }
        #expect(revoked.hasRevoked && security.key(for: rotated.publicKey) == nil)
        guard case .error(let error) = ask(.revokeKey(.with { $0.name = "nobody" })).result else {
            Issue.record("revoked nobody")
            return
        }
        #expect(error.code == .notFound)
    }

    /// A list past what one message carries is refused, saying where to read it instead.
    @Test func aListTooLargeForOneMessageIsRefused() throws {
        let pools = (0..<100).map { "pool-\($0)-" + String(repeating: "x", count: 90) }
        for index in 0..<110 {
            _ = try security.store.issue(name: "w\(index)", role: .worker, pools: pools, server: "")
        }
        guard case .error(let error) = ask(.listKeys(.init())).result else {
            Issue.record("listed over 1 MiB in one message")
            return
        }
        #expect(error.code == .failedPrecondition && error.message.contains("drover keys ls --home"))
    }

    @Test func anInsecureServerHasNoKeysToManage() {
        let insecure = KeyAdministration(security: nil, controlEndpoint: "tcp://127.0.0.1:4201", logger: quietLogger)
        let reply = insecure.answer(.with { $0.operation = .listKeys(.init()) }, from: "no key")
        guard case .error(let error) = reply.result else {
            Issue.record("answered: \(reply)")
            return
        }
        #expect(error.code == .failedPrecondition && error.message.contains("not --secure"))
    }

    @Test func onlyAdminKeysSendKeyRequests() {
        for operation: Drover_V1_ControlRequest.OneOf_Operation in [
            .createKey(.init()), .listKeys(.init()), .revokeKey(.init()), .rotateKey(.init()),
        ] {
            #expect(KeyAdministration.handles(operation))
            #expect(ControlAccess.allows(.admin, operation))
            #expect(!ControlAccess.allows(.viewer, operation) && !ControlAccess.allows(.worker, operation))
            #expect(ControlAccess.refusal(for: "v", role: .viewer, operation).message.contains("only an admin key manages keys"))
        }
        #expect(!KeyAdministration.handles(.listWorkPools(.init())))
    }
}
