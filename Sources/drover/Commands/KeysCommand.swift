import ArgumentParser
import DroverClient
import DroverCore
import DroverLimits
import DroverProto
import Foundation
import SwiftProtobuf

/// `drover keys`: the client keys of a `--secure` server (or limit service), managed on its
/// host in its home, or by an admin key over its control endpoint.
struct KeysCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "keys",
        abstract: "Issue, list, revoke and rotate the keys clients and workers present to a --secure server.",
        discussion: """
            On the server's host, these work in its home (--home or DROVER_HOME), with or without \
            the server running. Anywhere else, an admin key (--key or DROVER_KEY) sends them to \
            the server it reaches, over its control endpoint. A key file holds the client's key \
            pair and the server's public key; hand it to the client and point the client at it \
            with --key or DROVER_KEY. Roles: admin (everything), worker (serves its pools, \
            reads), viewer (reads).
            """,
        subcommands: [Create.self, List.self, Revoke.self, Rotate.self, ServerKey.self]
    )

    /// Where keys are managed: in a server's home on this host, or over a server's control
    /// endpoint with an admin key. Shared by the subcommands.
    struct TargetOptions: ParsableArguments {
        @Option(help: "The server's home, on its host (DROVER_HOME; default ~/.drover).")
        var home: String?

        @Option(
            help: ArgumentHelp(
                "An admin key: manage the keys of the server it reaches, over its control endpoint.",
                discussion: "Defaults to DROVER_KEY, then the active profile. --home wins over DROVER_KEY.",
                valueName: "file"))
        var key: String?

        @Option(
            help: ArgumentHelp(
                "The server's control endpoint: where an admin key's request goes, and what a new key file names.",
                discussion: "Defaults to DROVER_SERVER, then the admin key file's server, then tcp://127.0.0.1:4201.",
                valueName: "endpoint"))
        var server: String?

        enum Target {
            /// The key store of a home on this host.
            case home(KeyStore)
            /// A server reached with an admin key.
            case server(ControlClient)
        }

        func target() throws(DroverError) -> Target {
            if home != nil && key != nil {
                throw .invalidArgument(
                    "--home manages the keys on this host; --key sends the request to a server. Give one of them.")
            }
            var environment = DroverEnvironment()
            let settings = try environment.settings(flags: key.map { [Setting.key.name: $0] } ?? [:])
            if home == nil, !(try settings.value(.key)).isEmpty {
                return .server(try ClientOptions.connect(server: server, key: key))
            }
            if let home { environment.variables["DROVER_HOME"] = home }
            let serverKey = try settings.value(.serverKey)
            return .home(KeyStore(home: environment.home, serverKey: serverKey.isEmpty ? .asRecorded : .file(serverKey)))
        }

        /// The endpoint a key file issued in a home names: --server, else DROVER_SERVER or its default.
        func endpoint() throws(DroverError) -> String {
            try DroverEnvironment().settings(flags: server.map { [Setting.server.name: $0] } ?? [:]).value(.server)
        }
    }

    /// Where a new key file goes: a path, or `-` for standard output.
    struct OutputFileOption: ParsableArguments {
        @Option(name: [.short, .long], help: "Where to write the key file, or - for standard output (default: NAME.key here).")
        var output: String?

        /// Checks the destination of `name`'s file before anything is issued: no file may be there.
        func destination(for name: String) throws(DroverError) -> String {
            let path = output ?? "\(name).key"
            guard path == "-" || !FileManager.default.fileExists(atPath: path) else {
                throw .alreadyExists("\(path) already exists; remove it or write the key elsewhere with --output.")
            }
            return path
        }

        /// Writes `file` to `destination`, 0600; says what to do if the key was issued but not written.
        func write(_ file: KeyFile, to destination: String) throws(DroverError) {
            do {
                if destination == "-" {
                    FileHandle.standardOutput.write(Data(try file.encoded()))
                } else {
                    try file.write(to: destination)
                }
            } catch {
                throw .failedPrecondition(
                    "The key '\(file.name)' was issued but its file was not written: \(error.message) "
                        + "Revoke it with `drover keys revoke \(file.name)` and issue another.")
            }
        }

        /// Says what was written; to standard error when the key file went to standard output.
        func report(_ text: String, destination: String) {
            if destination == "-" { Terminal.error(text) } else { Terminal.print(text) }
        }
    }

    struct Create: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Issue a key and write its key file (0600).",
            discussion: """
                The server admits it from its next connection on; no restart. On the server's host: \
                drover keys create gpu-host-1 --role worker --pool gpu --server tcp://10.0.0.5:4201. \
                From elsewhere, with an admin key: drover keys create gpu-host-1 --role worker --pool \
                gpu --key admin.key
                """)

        @Argument(help: "The key's name, shown in the server's log and in `drover keys ls`.")
        var name: String

        @Option(help: "What the key may do: admin (everything), worker (serve its pools, read), viewer (read).")
        var role: KeyRole

        @Option(name: .customLong("pool"), help: "A pool a worker key serves (repeat for several; none: every pool).")
        var pools: [String] = []

        @OptionGroup var target: TargetOptions
        @OptionGroup var file: OutputFileOption

        func validate() throws {
            if !pools.isEmpty && role != .worker {
                throw ValidationError("--pool applies to worker keys only; \(role.keyPhrase) reaches every pool.")
            }
        }

        func run() throws {
            // The destination is checked before the key is issued, so nothing is issued for nobody.
            let destination = try file.destination(for: name)
            let issued: KeyFile
            switch try target.target() {
            case .home(let store):
                issued = try store.issue(name: name, role: role, pools: pools, server: try target.endpoint())
            case .server(let client):
                let request = Drover_V1_CreateKey.with {
                    $0.name = name
                    $0.role = .init(role)
                    $0.pools = pools
                    $0.server = client.endpoint
                }
                guard case .newKeyFile(let wire) = try client.call(.createKey(request)) else { throw unexpectedReply }
                issued = try KeysCommand.keyFile(wire)
            }
            try file.write(issued, to: destination)
            file.report(
                "Issued \(role.rawValue) key '\(name)'\(pools.isEmpty ? "" : " for \(pools.joined(separator: ", "))"); "
                    + "key file \(destination == "-" ? "written to standard output" : destination) (keep it secret).",
                destination: destination)
        }
    }

    struct List: ParsableCommand {
        static let configuration = CommandConfiguration(commandName: "ls", abstract: "List the keys issued, revoked ones too.")

        @OptionGroup var target: TargetOptions
        @OptionGroup var output: OutputOptions

        func run() throws {
            let keys: [IssuedKey]
            switch try target.target() {
            case .home(let store):
                keys = try store.issued()
            case .server(let client):
                guard case .keys(let list) = try client.call(.listKeys(.init())) else { throw unexpectedReply }
                keys = list.keys.compactMap(IssuedKey.init(wire:))
            }
            if output.json {
                let encoder = JSONEncoder()
                encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
                encoder.dateEncodingStrategy = .iso8601
                Terminal.print(String(decoding: try encoder.encode(keys), as: UTF8.self))
                return
            }
            var table = Table(
                title: "Keys",
                columns: [
                    .init(header: "Name"), .init(header: "Role"), .init(header: "Pools"), .init(header: "Created"),
                    .init(header: "Status"),
                ])
            for key in keys {
                table.append([
                    key.name, key.role.rawValue, key.pools.isEmpty ? (key.role == .worker ? "any" : "") : key.pools.joined(separator: ", "),
                    Formatting.timestamp(Google_Protobuf_Timestamp(date: key.created)),
                    key.revoked.map { "revoked \(Formatting.timestamp(Google_Protobuf_Timestamp(date: $0)))" } ?? "active",
                ])
            }
            Terminal.print(table.render())
        }
    }

    struct Revoke: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Revoke a key: the server refuses it from the next connection and request on.",
            discussion: "Its connected workers are dropped within a second.")

        @Argument(help: "The key's name.")
        var name: String

        @OptionGroup var target: TargetOptions

        func run() throws {
            switch try target.target() {
            case .home(let store):
                try store.revoke(name: name)
            case .server(let client):
                guard case .key = try client.call(.revokeKey(.with { $0.name = name })) else { throw unexpectedReply }
            }
            Terminal.print("Revoked key '\(name)'.")
        }
    }

    struct Rotate: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Give a key a new key pair (same name, role and pools) and write its new key file.",
            discussion: """
                The old pair is revoked at once: its workers are dropped within a second. Hand the \
                new file over first where downtime matters, or start the client again with it.
                """)

        @Argument(help: "The key's name.")
        var name: String

        @OptionGroup var target: TargetOptions
        @OptionGroup var file: OutputFileOption

        func run() throws {
            let destination = try file.destination(for: name)
            let rotated: KeyFile
            // The new file names the server the old one did, unless --server says another.
            switch try target.target() {
            case .home(let store):
                rotated = try store.rotate(name: name, server: target.server == nil ? nil : try target.endpoint())
            case .server(let client):
                let request = Drover_V1_RotateKey.with {
                    $0.name = name
                    $0.server = target.server == nil ? "" : client.endpoint
                }
                guard case .newKeyFile(let wire) = try client.call(.rotateKey(request)) else { throw unexpectedReply }
                rotated = try KeysCommand.keyFile(wire)
            }
            try file.write(rotated, to: destination)
            file.report(
                "Rotated key '\(name)': new key file \(destination == "-" ? "written to standard output" : destination); "
                    + "the old one no longer connects.",
                destination: destination)
        }
    }

    struct ServerKey: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "server-key",
            abstract: "Write a new key pair for a --secure server that keeps its key outside its home.",
            discussion: """
                For a server started with --server-key FILE (or DROVER_SERVER_KEY), such as one in \
                Kubernetes whose key is a Secret. A server without it makes its own key pair in \
                DROVER_HOME/keys on first start and needs none of this.
                """)

        @Option(name: [.short, .long], help: "Where to write the key pair (0600; never over an existing file).")
        var output = "server-key.json"

        func run() throws {
            let publicKey = try KeyStore.writeServerKeys(to: output)
            Terminal.print("Wrote a new server key pair to \(output) (keep it secret); its public key is \(publicKey).")
        }
    }

    /// The key file a server sent, checked.
    static func keyFile(_ wire: Drover_V1_NewKeyFile) throws(DroverError) -> KeyFile {
        guard let file = KeyFile(wire: wire) else {
            throw DroverError(.malformedMessage, "The server sent a key of a role this drover does not know; update drover.")
        }
        return file
    }
}

extension KeyRole: ExpressibleByArgument {}
