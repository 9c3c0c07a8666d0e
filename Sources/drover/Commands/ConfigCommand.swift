import ArgumentParser
import DroverCore
import Foundation

/// `drover config …`: settings in profiles, as `prefect config` keeps them.
struct ConfigCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "config",
        abstract: "View and change settings of the active profile.",
        discussion: """
            Settings resolve as: command-line flag, then environment variable, then the active profile \
            in DROVER_HOME/profiles.toml, then the default. DROVER_PROFILE picks the active profile.
            """,
        subcommands: [View.self, Set.self, Unset.self]
    )
}

extension ConfigCommand {
    struct View: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Show the settings in force and where each came from.")

        @Flag(help: "Show settings that are at their default too.") var showDefaults = false
        @Flag(inversion: .prefixedNo, help: "Show where each value came from.") var showSources = true
        @OptionGroup var output: OutputOptions

        func run() throws {
            let environment = DroverEnvironment()
            let settings = try environment.settings()
            var rows: [(name: String, value: String, source: SettingSource)] = [
                ("DROVER_HOME", environment.home.path, environment.homeSource)
            ]
            for setting in Setting.all {
                let (value, source) = settings.resolve(setting)
                if source != .default || showDefaults { rows.append((setting.name, value, source)) }
            }
            if output.json {
                let members = Dictionary(
                    uniqueKeysWithValues: rows.map { row -> (String, JSONValue) in
                        (row.name, ["value": .string(row.value), "source": .string(Self.sourceName(row.source))])
                    })
                Terminal.print(
                    JSONValue.object(["profile": .string(settings.profileName), "settings": .object(members)])
                        .render(pretty: true))
                return
            }
            var lines = ["DROVER_PROFILE='\(settings.profileName)'"]
            for row in rows {
                lines.append("\(row.name)='\(row.value)'" + (showSources ? " (\(row.source.rawValue))" : ""))
            }
            Terminal.print(lines.joined(separator: "\n"))
        }

        private static func sourceName(_ source: SettingSource) -> String {
            switch source {
            case .flag: "flag"
            case .environment: "env"
            case .profile: "profile"
            case .default: "default"
            }
        }
    }

    struct Set: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Change settings in the active profile.")

        @Argument(help: ArgumentHelp("Settings to change, such as DROVER_SERVER=tcp://10.0.0.5:4201.", valueName: "KEY=VALUE"))
        var settings: [String]

        func validate() throws {
            guard !settings.isEmpty else { throw ValidationError("Give at least one KEY=VALUE.") }
            for pair in settings where !pair.contains("=") {
                throw ValidationError("'\(pair)' is not of the form KEY=VALUE.")
            }
        }

        func run() throws {
            let environment = DroverEnvironment()
            var document = try environment.loadProfiles()
            let profile = environment.activeProfileName(in: document)
            var changes: [(String, String)] = []
            for pair in settings {
                let key = String(pair.prefix { $0 != "=" })
                let value = String(pair.drop { $0 != "=" }.dropFirst())
                let setting = try Setting.named(key)
                try setting.validate(value)
                changes.append((key, value))
            }
            for (key, value) in changes { document.profiles[profile, default: [:]][key] = value }
            try environment.saveProfiles(document)
            for (key, value) in changes { Terminal.print("Set '\(key)' to '\(value)'.") }
            for (key, _) in changes where environment.variables[key].map({ !$0.isEmpty }) ?? false {
                Terminal.print("\(key) is also set by an environment variable, which will override your config value.")
            }
            Terminal.print("Updated profile '\(profile)'.")
        }
    }

    struct Unset: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Remove settings from the active profile.")

        @Argument(help: ArgumentHelp("Settings to remove, such as DROVER_SERVER.", valueName: "KEY"))
        var keys: [String]

        func validate() throws {
            guard !keys.isEmpty else { throw ValidationError("Give at least one setting name.") }
        }

        func run() throws {
            let environment = DroverEnvironment()
            var document = try environment.loadProfiles()
            let profile = environment.activeProfileName(in: document)
            for key in keys {
                _ = try Setting.named(key)
                guard document.profiles[profile]?[key] != nil else {
                    throw DroverError(.notFound, "'\(key)' is not set in profile '\(profile)'.")
                }
            }
            for key in keys { document.profiles[profile]![key] = nil }
            try environment.saveProfiles(document)
            for key in keys { Terminal.print("Unset '\(key)'.") }
            Terminal.print("Updated profile '\(profile)'.")
        }
    }
}
