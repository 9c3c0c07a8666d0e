import DroverCore
import Foundation

/// The process environment as Drover reads it: `DROVER_HOME`, the profiles file in it,
/// and settings resolved flag > environment > profile > default.
struct DroverEnvironment {
    var variables: [String: String]

    init(variables: [String: String] = ProcessInfo.processInfo.environment) {
        self.variables = variables
    }

    /// `DROVER_HOME`, or `~/.drover`.
    var home: URL {
        if let path = variables["DROVER_HOME"], !path.isEmpty {
            return URL(fileURLWithPath: Self.expandingTilde(path), isDirectory: true)
        }
        return homeDefault
    }

    /// Where `home` came from, for `config view`.
    var homeSource: SettingSource {
        (variables["DROVER_HOME"]?.isEmpty ?? true) ? .default : .environment
    }

    private var homeDefault: URL {
        let user =
            variables["HOME"].map { URL(fileURLWithPath: $0) }
            ?? FileManager.default.homeDirectoryForCurrentUser
        return user.appendingPathComponent(".drover", isDirectory: true)
    }

    var profilesURL: URL { home.appendingPathComponent("profiles.toml") }

    /// The profiles file, or a fresh one with an empty `default` profile when there is none.
    func loadProfiles() throws(DroverError) -> ProfilesDocument {
        let url = profilesURL
        guard FileManager.default.fileExists(atPath: url.path) else { return ProfilesDocument() }
        let text: String
        do {
            text = try String(contentsOf: url, encoding: .utf8)
        } catch {
            throw DroverError(.failedPrecondition, "Could not read \(url.path): \(error.localizedDescription)")
        }
        do {
            return try ProfilesDocument(parsing: text)
        } catch {
            throw DroverError(.invalidArgument, "\(url.path): \(error.message). Fix or remove the file.")
        }
    }

    /// Writes the profiles file atomically, creating `DROVER_HOME` if needed.
    func saveProfiles(_ document: ProfilesDocument) throws(DroverError) {
        do {
            try FileManager.default.createDirectory(
                at: home, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700])
            try Data(document.render().utf8).write(to: profilesURL, options: .atomic)
        } catch {
            throw DroverError(.failedPrecondition, "Could not write \(profilesURL.path): \(error.localizedDescription)")
        }
    }

    /// The active profile's name: `DROVER_PROFILE`, else the file's `active`.
    func activeProfileName(in document: ProfilesDocument) -> String {
        if let name = variables["DROVER_PROFILE"], !name.isEmpty { return name }
        return document.active
    }

    /// Settings resolved for this process, with `flags` winning.
    func settings(flags: [String: String] = [:]) throws(DroverError) -> ResolvedSettings {
        let document = try loadProfiles()
        let name = activeProfileName(in: document)
        guard let profile = document.profiles[name] else {
            throw DroverError(
                .notFound,
                "Profile '\(name)' does not exist in \(profilesURL.path). "
                    + "Known profiles: \(document.profiles.keys.sorted().joined(separator: ", ")).")
        }
        return ResolvedSettings(profileName: name, flags: flags, environment: variables, profile: profile)
    }

    static func expandingTilde(_ path: String) -> String {
        guard path.hasPrefix("~") else { return path }
        return FileManager.default.homeDirectoryForCurrentUser.path + path.dropFirst()
    }
}
