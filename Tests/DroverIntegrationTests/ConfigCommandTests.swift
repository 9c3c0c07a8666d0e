import DroverTestSupport
import Foundation
import Testing

/// `drover config view | set | unset`: profiles in `DROVER_HOME/profiles.toml`, and the
/// order in which settings resolve (flag, environment, profile, default).
@Suite(.timeLimit(.minutes(2)))
struct ConfigCommandTests {
    @Test func setViewAndUnsetKeepProfilesInHome() async throws {
        let home = try TemporaryDirectory()
        let env = ["DROVER_HOME": home.path]
        let profiles = home.file("profiles.toml")

        let fresh = try await drover("config", "view", env: env)
        #expect(fresh.status == 0, "\(fresh)")
        #expect(fresh.stdout == "DROVER_PROFILE='default'\nDROVER_HOME='\(home.path)' (from env)\n", "\(fresh)")
        let defaults = try await drover("config", "view", "--show-defaults", env: env)
        for line in [
            "DROVER_SERVER='tcp://127.0.0.1:4201' (from defaults)", "DROVER_CLIENT_TIMEOUT='5' (from defaults)",
            "DROVER_SERVER_HOST='127.0.0.1' (from defaults)", "DROVER_SERVER_CONTROL_PORT='4201' (from defaults)",
            "DROVER_LOGGING_LEVEL='info' (from defaults)",
        ] {
            #expect(defaults.stdout.contains(line + "\n"), "missing \(line) in \(defaults)")
        }
        #expect(!FileManager.default.fileExists(atPath: profiles.path), "viewing writes nothing")

        let set = try await drover(
            "config", "set", "DROVER_SERVER=tcp://127.0.0.1:1234", "DROVER_CLIENT_TIMEOUT=2", env: env)
        #expect(set.status == 0, "\(set)")
        #expect(
            set.stdout == """
                Set 'DROVER_SERVER' to 'tcp://127.0.0.1:1234'.
                Set 'DROVER_CLIENT_TIMEOUT' to '2'.
                Updated profile 'default'.

                """, "\(set)")
        let file = try String(contentsOf: profiles, encoding: .utf8)
        #expect(file.contains("[profiles.default]"), "\(file)")
        #expect(file.contains("DROVER_SERVER = \"tcp://127.0.0.1:1234\""), "\(file)")
        #expect(file.contains("DROVER_CLIENT_TIMEOUT = \"2\""), "\(file)")

        let view = try await drover("config", "view", env: env)
        #expect(view.stdout.contains("DROVER_SERVER='tcp://127.0.0.1:1234' (from profile)\n"), "\(view)")
        #expect(view.stdout.contains("DROVER_CLIENT_TIMEOUT='2' (from profile)\n"), "\(view)")
        let bare = try await drover("config", "view", "--no-show-sources", env: env)
        #expect(bare.stdout.contains("DROVER_SERVER='tcp://127.0.0.1:1234'\n"), "\(bare)")

        // The environment wins over the profile.
        let overridden = try await drover("config", "view", env: env.merging(["DROVER_CLIENT_TIMEOUT": "3"]) { $1 })
        #expect(overridden.stdout.contains("DROVER_CLIENT_TIMEOUT='3' (from env)\n"), "\(overridden)")

        let json = try JSON.object(try await drover("config", "view", "-o", "json", env: env).stdout)
        #expect(json["profile"] as? String == "default")
        let settings = try #require(json["settings"] as? [String: [String: String]])
        #expect(settings["DROVER_SERVER"] == ["value": "tcp://127.0.0.1:1234", "source": "profile"])
        #expect(settings["DROVER_HOME"] == ["value": home.path, "source": "env"])

        let unset = try await drover("config", "unset", "DROVER_CLIENT_TIMEOUT", env: env)
        #expect(unset.status == 0, "\(unset)")
        #expect(unset.stdout == "Unset 'DROVER_CLIENT_TIMEOUT'.\nUpdated profile 'default'.\n", "\(unset)")
        let after = try await drover("config", "view", env: env)
        #expect(!after.stdout.contains("DROVER_CLIENT_TIMEOUT"), "\(after)")
        #expect(after.stdout.contains("DROVER_SERVER='tcp://127.0.0.1:1234' (from profile)"), "\(after)")
        #expect(try !String(contentsOf: profiles, encoding: .utf8).contains("DROVER_CLIENT_TIMEOUT"))

        // Another profile, picked by DROVER_PROFILE.
        let staging = env.merging(["DROVER_PROFILE": "staging"]) { $1 }
        let setStaging = try await drover("config", "set", "DROVER_LOGGING_LEVEL=debug", env: staging)
        #expect(setStaging.status == 0 && setStaging.stdout.hasSuffix("Updated profile 'staging'.\n"), "\(setStaging)")
        let viewStaging = try await drover("config", "view", env: staging)
        #expect(viewStaging.stdout.hasPrefix("DROVER_PROFILE='staging'\n"), "\(viewStaging)")
        #expect(viewStaging.stdout.contains("DROVER_LOGGING_LEVEL='debug' (from profile)"), "\(viewStaging)")
        #expect(!viewStaging.stdout.contains("DROVER_SERVER="), "profiles do not mix: \(viewStaging)")
    }

    @Test func commandsFindTheServerThroughProfileEnvironmentAndFlag() async throws {
        let home = try TemporaryDirectory()
        let server = try await DroverServer.start(home: home.url)
        defer { server.terminate() }
        // Nothing listens on port 1; a command that used it would fail after the timeout.
        let nowhere = "tcp://127.0.0.1:1"
        let env = ["DROVER_HOME": home.path, "DROVER_CLIENT_TIMEOUT": "5"]

        #expect(try await drover("config", "set", "DROVER_SERVER=\(server.endpoint)", env: env).status == 0)
        let viaProfile = try await drover("work-pool", "create", "from-profile", env: env)
        #expect(viaProfile.status == 0, "\(viaProfile)")

        #expect(try await drover("config", "set", "DROVER_SERVER=\(nowhere)", env: env).status == 0)
        let viaEnvironment = try await drover(
            "work-pool", "inspect", "from-profile", env: env.merging(["DROVER_SERVER": server.endpoint]) { $1 })
        #expect(viaEnvironment.status == 0, "the environment wins over the profile: \(viaEnvironment)")
        let viaFlag = try await drover(
            "work-pool", "inspect", "from-profile", "--server", server.endpoint,
            env: env.merging(["DROVER_SERVER": nowhere]) { $1 })
        #expect(viaFlag.status == 0, "--server wins over the environment: \(viaFlag)")

        // Setting a value the environment overrides says so.
        let shadowed = try await drover(
            "config", "set", "DROVER_SERVER=\(server.endpoint)", env: env.merging(["DROVER_SERVER": nowhere]) { $1 })
        #expect(shadowed.status == 0, "\(shadowed)")
        #expect(
            shadowed.stdout.contains(
                "DROVER_SERVER is also set by an environment variable, which will override your config value."),
            "\(shadowed)")

        #expect(await server.stop() == .exit(0))
    }

    @Test func badSettingsAreRefusedAndChangeNothing() async throws {
        let home = try TemporaryDirectory()
        let env = ["DROVER_HOME": home.path]
        let profiles = home.file("profiles.toml")
        #expect(try await drover("config", "set", "DROVER_CLIENT_TIMEOUT=2", env: env).status == 0)
        let original = try Data(contentsOf: profiles)

        let known =
            "Known settings: DROVER_SERVER, DROVER_LIMITS, DROVER_CLIENT_TIMEOUT, DROVER_KEY, DROVER_SERVER_KEY, DROVER_SERVER_HOST, "
            + "DROVER_SERVER_CONTROL_PORT, DROVER_SERVER_DISPATCH_PORT, DROVER_SERVER_LIMITS_PORT, "
            + "DROVER_SERVER_RUN_LEASE_TTL, DROVER_SERVER_LATE_AFTER, DROVER_SCHEDULER_MAX_RUNS, DROVER_SCHEDULER_MIN_RUNS, "
            + "DROVER_SCHEDULER_MAX_SCHEDULED_TIME, DROVER_SCHEDULER_MIN_SCHEDULED_TIME, DROVER_SCHEDULER_LOOP_SECONDS, "
            + "DROVER_HEARTBEAT_INTERVAL, DROVER_LOGGING_LEVEL."
        let cases: [(arguments: [String], status: Int32, message: String)] = [
            (["config", "set", "FOO=bar"], 1, "Unknown setting name 'FOO'. \(known)"),
            // One bad pair spoils the whole command: the good one is not written either.
            (["config", "set", "DROVER_LOGGING_LEVEL=debug", "FOO=bar"], 1, "Unknown setting name 'FOO'."),
            (
                ["config", "set", "DROVER_SERVER=http://example.com"], 1,
                "Invalid value 'http://example.com' for DROVER_SERVER: expected an endpoint such as tcp://127.0.0.1:4201."
            ),
            (
                ["config", "set", "DROVER_CLIENT_TIMEOUT=0"], 1,
                "Invalid value '0' for DROVER_CLIENT_TIMEOUT: expected a number of seconds above 0."
            ),
            (
                ["config", "set", "DROVER_CLIENT_TIMEOUT=-1"], 1,
                "Invalid value '-1' for DROVER_CLIENT_TIMEOUT: expected a number of seconds above 0."
            ),
            (
                ["config", "set", "DROVER_SERVER_CONTROL_PORT=70000"], 1,
                "Invalid value '70000' for DROVER_SERVER_CONTROL_PORT: expected a port number from 0 to 65535"
            ),
            (["config", "set", "DROVER_LOGGING_LEVEL=loud"], 1, "Invalid value 'loud' for DROVER_LOGGING_LEVEL"),
            (["config", "set", "DROVER_SERVER"], 2, "Error: 'DROVER_SERVER' is not of the form KEY=VALUE."),
            (["config", "set"], 2, "Error: Missing expected argument '<KEY=VALUE> ...'"),
            (["config", "unset", "FOO"], 1, "Unknown setting name 'FOO'. \(known)"),
            (["config", "unset", "DROVER_SERVER"], 1, "'DROVER_SERVER' is not set in profile 'default'."),
            (
                ["config", "unset", "DROVER_CLIENT_TIMEOUT", "DROVER_SERVER"], 1,
                "'DROVER_SERVER' is not set in profile 'default'."
            ),
            (["config", "unset"], 2, "Error: Missing expected argument '<KEY> ...'"),
        ]
        for (arguments, status, message) in cases {
            let result = try await drover(arguments, env: env)
            #expect(result.status == status, "\(result)")
            #expect(result.stderr.contains(message), "\(result)")
            #expect(result.stdout.isEmpty, "\(result)")
            #expect(try Data(contentsOf: profiles) == original, "profiles.toml changed after \(arguments)")
        }

        let missing = try await drover("config", "view", env: env.merging(["DROVER_PROFILE": "missing"]) { $1 })
        #expect(missing.status == 1, "\(missing)")
        #expect(
            missing.stderr == "Profile 'missing' does not exist in \(profiles.path). Known profiles: default.\n",
            "\(missing)")

        try Data("this is not toml\n".utf8).write(to: profiles)
        let broken = try await drover("config", "view", env: env)
        #expect(broken.status == 1, "\(broken)")
        #expect(broken.stderr.contains("profiles.toml line 1: expected KEY = \"value\". Fix or remove the file."), "\(broken)")
        let brokenSet = try await drover("config", "set", "DROVER_CLIENT_TIMEOUT=3", env: env)
        #expect(brokenSet.status == 1, "\(brokenSet)")
        #expect(try String(contentsOf: profiles, encoding: .utf8) == "this is not toml\n", "a broken file is not overwritten")
    }
}
