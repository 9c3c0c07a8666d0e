/// What to run for a flow run as a local process.
///
/// The command runs as `/bin/sh -c command`, so it may use the shell's syntax (pipes,
/// redirections, `&&`); a command that is not found is the shell's exit code 127, an outcome
/// rather than an error.
public struct ProcessSpec: Sendable, Equatable {
    /// The shell command line, passed to `/bin/sh -c` as one argument.
    public var command: String
    /// The complete environment of the child: nothing of the worker's environment is inherited.
    public var environment: [String: String]
    /// The directory the child starts in; `nil` keeps the worker's current directory.
    /// Runs without a configured directory should get one from `RunWorkingDirectory`.
    public var workingDirectory: String?

    /// A process that runs `command` with exactly `environment` in `workingDirectory`.
    public init(command: String, environment: [String: String] = [:], workingDirectory: String? = nil) {
        self.command = command
        self.environment = environment
        self.workingDirectory = workingDirectory
    }
}
