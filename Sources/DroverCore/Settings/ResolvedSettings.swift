/// Where a setting's value came from.
public enum SettingSource: String, Sendable, Hashable {
    case flag = "from flag"
    case environment = "from env"
    case profile = "from profile"
    case `default` = "from defaults"
}

/// Settings resolved the way Prefect resolves them: a flag wins over the environment,
/// the environment over the active profile, the profile over the default.
public struct ResolvedSettings: Sendable {
    public let profileName: String
    private let flags: [String: String]
    private let environment: [String: String]
    private let profile: [String: String]

    public init(
        profileName: String, flags: [String: String] = [:], environment: [String: String],
        profile: [String: String]
    ) {
        self.profileName = profileName
        self.flags = flags
        self.environment = environment
        self.profile = profile
    }

    /// A copy where `flags` win over everything else.
    public func overriding(_ more: [String: String]) -> ResolvedSettings {
        ResolvedSettings(
            profileName: profileName, flags: flags.merging(more) { _, new in new },
            environment: environment, profile: profile)
    }

    /// The value of `setting` and where it came from.
    public func resolve(_ setting: Setting) -> (value: String, source: SettingSource) {
        if let value = flags[setting.name] { return (value, .flag) }
        if let value = environment[setting.name], !value.isEmpty { return (value, .environment) }
        if let value = profile[setting.name] { return (value, .profile) }
        return (setting.defaultValue, .default)
    }

    /// The value of `setting`, validated.
    public func value(_ setting: Setting) throws(DroverError) -> String {
        let (value, source) = resolve(setting)
        do {
            try setting.validate(value)
        } catch {
            throw DroverError(.invalidArgument, "\(error.message) (\(source.rawValue))")
        }
        return value
    }
}
