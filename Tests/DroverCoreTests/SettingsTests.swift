import DroverCore
import Testing

@Suite struct SettingsTests {
    // MARK: Precedence

    private let name = Setting.serverHost.name

    @Test func flagWinsOverEverything() {
        let settings = ResolvedSettings(
            profileName: "default", flags: [name: "flag.host"], environment: [name: "env.host"],
            profile: [name: "profile.host"])
        #expect(settings.resolve(.serverHost) == ("flag.host", .flag))
    }

    @Test func environmentWinsOverProfile() {
        let settings = ResolvedSettings(
            profileName: "default", environment: [name: "env.host"], profile: [name: "profile.host"])
        #expect(settings.resolve(.serverHost) == ("env.host", .environment))
    }

    @Test func profileWinsOverDefault() {
        let settings = ResolvedSettings(profileName: "default", environment: [:], profile: [name: "profile.host"])
        #expect(settings.resolve(.serverHost) == ("profile.host", .profile))
    }

    @Test func defaultWhenNothingElseGivesAValue() {
        let settings = ResolvedSettings(
            profileName: "default", environment: ["OTHER": "x"], profile: [Setting.server.name: "tcp://h:1"])
        #expect(settings.resolve(.serverHost) == ("127.0.0.1", .default))
    }

    @Test func emptyEnvironmentValueIsIgnored() {
        let withProfile = ResolvedSettings(
            profileName: "default", environment: [name: ""], profile: [name: "profile.host"])
        #expect(withProfile.resolve(.serverHost) == ("profile.host", .profile))
        let withoutProfile = ResolvedSettings(profileName: "default", environment: [name: ""], profile: [:])
        #expect(withoutProfile.resolve(.serverHost) == ("127.0.0.1", .default))
    }

    @Test func overridingAddsFlagsThatWin() {
        let base = ResolvedSettings(
            profileName: "dev", flags: [name: "old.flag"], environment: [name: "env.host"], profile: [:])
        let overridden = base.overriding([name: "new.flag"])
        #expect(overridden.resolve(.serverHost) == ("new.flag", .flag))
        #expect(overridden.profileName == "dev")
        #expect(base.resolve(.serverHost) == ("old.flag", .flag))
        #expect(base.overriding([:]).resolve(.serverHost) == ("old.flag", .flag))
    }

    @Test func sourcesReadAsConfigViewShowsThem() {
        #expect(SettingSource.flag.rawValue == "from flag")
        #expect(SettingSource.environment.rawValue == "from env")
        #expect(SettingSource.profile.rawValue == "from profile")
        #expect(SettingSource.default.rawValue == "from defaults")
    }

    // MARK: Validated values

    @Test func valueReturnsAValidValue() throws {
        let settings = ResolvedSettings(
            profileName: "default", environment: [Setting.serverControlPort.name: "8080"], profile: [:])
        #expect(try settings.value(.serverControlPort) == "8080")
        #expect(try settings.value(.clientTimeout) == "5")
    }

    @Test func valueErrorsNameTheSource() throws {
        let port = Setting.serverControlPort.name
        let cases: [(ResolvedSettings, SettingSource)] = [
            (ResolvedSettings(profileName: "p", flags: [port: "x"], environment: [:], profile: [:]), .flag),
            (ResolvedSettings(profileName: "p", environment: [port: "x"], profile: [:]), .environment),
            (ResolvedSettings(profileName: "p", environment: [:], profile: [port: "x"]), .profile),
        ]
        for (settings, source) in cases {
            let error = try #require(throws: DroverError.self) { try settings.value(.serverControlPort) }
            #expect(error.code == .invalidArgument)
            #expect(error.message.hasPrefix("Invalid value 'x' for DROVER_SERVER_CONTROL_PORT: "))
            #expect(error.message.hasSuffix("(\(source.rawValue))"))
        }
    }

    @Test func everyDefaultIsValid() throws {
        let settings = ResolvedSettings(profileName: "default", environment: [:], profile: [:])
        for setting in Setting.all {
            #expect(try settings.value(setting) == setting.defaultValue)
        }
        #expect(
            Setting.all.map(\.name) == [
                "DROVER_SERVER", "DROVER_LIMITS", "DROVER_CLIENT_TIMEOUT", "DROVER_KEY", "DROVER_SERVER_KEY", "DROVER_SERVER_HOST",
                "DROVER_SERVER_CONTROL_PORT",
                "DROVER_SERVER_DISPATCH_PORT", "DROVER_SERVER_LIMITS_PORT", "DROVER_SERVER_RUN_LEASE_TTL", "DROVER_SERVER_LATE_AFTER",
                "DROVER_SCHEDULER_MAX_RUNS", "DROVER_SCHEDULER_MIN_RUNS", "DROVER_SCHEDULER_MAX_SCHEDULED_TIME",
                "DROVER_SCHEDULER_MIN_SCHEDULED_TIME", "DROVER_SCHEDULER_LOOP_SECONDS", "DROVER_HEARTBEAT_INTERVAL",
                "DROVER_LOGGING_LEVEL",
            ])
    }

    // MARK: Validators

    private func accepts(_ setting: Setting, _ value: String) -> Bool {
        do {
            try setting.validate(value)
            return true
        } catch {
            #expect(error.code == .invalidArgument)
            #expect(error.message.contains(setting.name))
            return false
        }
    }

    @Test(arguments: ["tcp://127.0.0.1:4201", "tcp://*:5555", "ipc:///tmp/drover.sock", "ipc://a", "inproc://x"])
    func endpointAcceptsZeroMQEndpoints(_ value: String) {
        #expect(accepts(.server, value))
    }

    @Test(arguments: ["", "127.0.0.1:4201", "http://h:1", "tcp://", "ipc://", "inproc://", "tcp:/h:1"])
    func endpointRejectsOthers(_ value: String) {
        #expect(!accepts(.server, value))
    }

    @Test func hostValidation() {
        for good in ["127.0.0.1", "localhost", "::1", "0.0.0.0", "example.com"] {
            #expect(accepts(.serverHost, good), "\(good)")
        }
        for bad in ["", "my host", "a/b", " x", "tab\there"] {
            #expect(!accepts(.serverHost, bad), "\(bad)")
        }
    }

    @Test func portValidation() {
        for good in ["0", "1", "4201", "65535"] {
            #expect(accepts(.serverControlPort, good), "\(good)")
        }
        for bad in ["-1", "65536", "", "http", "80.5", " 80"] {
            #expect(!accepts(.serverControlPort, bad), "\(bad)")
        }
    }

    @Test func positiveSecondsValidation() {
        for good in ["5", "0.5", "120", "1e-3"] {
            #expect(accepts(.clientTimeout, good), "\(good)")
        }
        for bad in ["0", "-1", "", "abc", "inf", "nan"] {
            #expect(!accepts(.clientTimeout, bad), "\(bad)")
        }
    }

    @Test func logLevelValidation() {
        for good in Setting.logLevels + ["INFO", "Debug"] {
            #expect(accepts(.loggingLevel, good), "\(good)")
        }
        for bad in ["", "verbose", "warn", "info "] {
            #expect(!accepts(.loggingLevel, bad), "\(bad)")
        }
    }

    @Test func validationMessageSaysWhatIsExpected() throws {
        let error = try #require(throws: DroverError.self) { try Setting.serverControlPort.validate("70000") }
        #expect(
            error
                == .invalidArgument(
                    "Invalid value '70000' for DROVER_SERVER_CONTROL_PORT: expected a port number from 0 to 65535 (0 picks a free port)."))
        let escaped = try #require(throws: DroverError.self) { try Setting.serverHost.validate("a\nb") }
        #expect(escaped.message.hasPrefix("Invalid value 'a\\nb' for DROVER_SERVER_HOST"))
    }

    // MARK: Lookup

    @Test func namedFindsEachSetting() throws {
        for setting in Setting.all {
            #expect(try Setting.named(setting.name) == setting)
        }
    }

    @Test func namedRejectsUnknownNamesListingTheKnownOnes() throws {
        let error = try #require(throws: DroverError.self) { try Setting.named("DROVER_NOPE") }
        #expect(
            error
                == .invalidArgument(
                    "Unknown setting name 'DROVER_NOPE'. Known settings: DROVER_SERVER, DROVER_LIMITS, DROVER_CLIENT_TIMEOUT, "
                        + "DROVER_KEY, DROVER_SERVER_KEY, DROVER_SERVER_HOST, DROVER_SERVER_CONTROL_PORT, DROVER_SERVER_DISPATCH_PORT, DROVER_SERVER_LIMITS_PORT, "
                        + "DROVER_SERVER_RUN_LEASE_TTL, DROVER_SERVER_LATE_AFTER, DROVER_SCHEDULER_MAX_RUNS, DROVER_SCHEDULER_MIN_RUNS, "
                        + "DROVER_SCHEDULER_MAX_SCHEDULED_TIME, DROVER_SCHEDULER_MIN_SCHEDULED_TIME, DROVER_SCHEDULER_LOOP_SECONDS, "
                        + "DROVER_HEARTBEAT_INTERVAL, DROVER_LOGGING_LEVEL."))
    }
}
