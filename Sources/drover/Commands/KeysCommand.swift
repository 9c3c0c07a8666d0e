import ArgumentParser
import DroverCore
import DroverLimits
import Foundation
import SwiftProtobuf

/// `drover keys`: the client keys of a `--secure` server (or limit service), managed on its
/// host, in its home.
struct KeysCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "keys",
        abstract: "Issue, list and revoke the keys clients and workers present to a --secure server.",
        discussion: """
            Run these on the server's host, with the server's home (--home or DROVER_HOME). A key \
            file holds the client's key pair and the server's public key; hand it to the client \
            and point the client at it with --key or DROVER_KEY. Roles: admin (everything), \
            worker (serves its pools, reads), viewer (reads).
            """,
        subcommands: [Create.self, List.self, Revoke.self, Rotate.self]
    )

    /// `--home`, shared by the subcommands.
    struct HomeOption: ParsableArguments {
        @Option(help: "The server's home (DROVER_HOME; default ~/.drover).")
        var home: String?

        var store: KeyStore {
            var environment = DroverEnvironment()
            if let home { environment.variables["DROVER_HOME"] = home }
            return KeyStore(home: environment.home)
        }
    }

    /// Where a new key file goes and what server it names, shared by `create` and `rotate`.
    struct KeyFileOptions: ParsableArguments {
        @Option(
            help: ArgumentHelp(
                "The server's control endpoint as the client reaches it, recorded in the key file.",
                discussion: "Defaults to DROVER_SERVER, then tcp://127.0.0.1:4201.", valueName: "endpoint"))
        var server: String?

        @Option(name: [.short, .long], help: "Where to write the key file (default: NAME.key here).")
        var output: String?

        /// The endpoint to record: --server, else DROVER_SERVER or its default.
        func endpoint() throws(DroverError) -> String {
            try DroverEnvironment().settings(flags: server.map { [Setting.server.name: $0] } ?? [:]).value(.server)
        }

        /// Where to write the key file of `name`; refused before anything is issued if a file is there.
        func path(for name: String) throws(DroverError) -> String {
            let path = output ?? "\(name).key"
            guard !FileManager.default.fileExists(atPath: path) else {
                throw .alreadyExists("\(path) already exists; remove it or write the key elsewhere with --output.")
            }
            return path
        }
    }

    struct Create: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Issue a key and write its key file (0600).",
            discussion: """
                The server admits it from its next connection on; no restart. Example: \
                drover keys create gpu-host-1 --role worker --pool gpu --server tcp://10.0.0.5:4201
                """)

        @Argument(help: "The key's name, shown in the server's log and in `drover keys ls`.")
        var name: String

        @Option(help: "admin, worker or viewer.")
        var role: KeyRole

        @Option(name: .customLong("pool"), help: "A pool a worker key serves (repeat for several; none: every pool).")
        var pools: [String] = []

        @OptionGroup var file: KeyFileOptions
        @OptionGroup var home: HomeOption

        func validate() throws {
            if !pools.isEmpty && role != .worker {
                throw ValidationError("--pool applies to worker keys only; \(role.keyPhrase) reaches every pool.")
            }
        }

        func run() throws {
            // The path is checked before the key is recorded, so nothing is issued for nobody.
            let path = try file.path(for: name)
            try home.store.issue(name: name, role: role, pools: pools, server: try file.endpoint()).write(to: path)
            Terminal.print("Issued \(role.rawValue) key '\(name)'\(pools.isEmpty ? "" : " for \(pools.joined(separator: ", "))"); key file \(path) (keep it secret).")
        }
    }

    struct List: ParsableCommand {
        static let configuration = CommandConfiguration(commandName: "ls", abstract: "List the keys issued, revoked ones too.")

        @OptionGroup var home: HomeOption
        @OptionGroup var output: OutputOptions

        func run() throws {
            let keys = try home.store.issued()
            if output.json {
                let encoder = JSONEncoder()
                encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
                encoder.dateEncodingStrategy = .iso8601
                Terminal.print(String(decoding: try encoder.encode(keys), as: UTF8.self))
                return
            }
            var table = Table(
                title: "Keys",
                columns: [.init(header: "Name"), .init(header: "Role"), .init(header: "Pools"), .init(header: "Created"),
                    .init(header: "Status")])
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
            abstract: "Revoke a key: the server refuses it from the next connection and request on.")

        @Argument(help: "The key's name.")
        var name: String

        @OptionGroup var home: HomeOption

        func run() throws {
            try home.store.revoke(name: name)
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

        @OptionGroup var file: KeyFileOptions
        @OptionGroup var home: HomeOption

        func run() throws {
            let path = try file.path(for: name)
            // The new file names the server the old one did, unless told another.
            try home.store.rotate(name: name, server: file.server == nil ? nil : try file.endpoint()).write(to: path)
            Terminal.print("Rotated key '\(name)': new key file \(path); the old one no longer connects.")
        }
    }
}

extension KeyRole: ExpressibleByArgument {}
