import ArgumentParser
import DroverCore
import Foundation

// Exit codes: 0 success, 1 a failed operation, 2 a usage error.
// ArgumentParser's own codes (64 for usage) are mapped onto these.

/// Runs an async command's `run()`; called on an existential, `run()` would pick the
/// synchronous requirement, which only prints help.
func runAsync<Command: AsyncParsableCommand>(_ command: Command) async throws {
    var command = command
    try await command.run()
}

/// No Drover command takes a negative number, and ArgumentParser would read `-1` as an
/// unknown option; say what is wrong, and where to get help, instead.
func rejectNegativeNumbers(_ arguments: [String]) -> String? {
    for argument in arguments.prefix(while: { $0 != "--" }) {
        if argument.count > 1, argument.hasPrefix("-"), argument.dropFirst().allSatisfy(\.isNumber) {
            return "Error: '\(argument)' is negative: limits, priorities and counts are 0 or more.\n"
                + "See '\(commandPath(arguments).joined(separator: " ")) --help'."
        }
    }
    return nil
}

/// The command words at the start of `arguments`, such as `drover work-pool create`.
func commandPath(_ arguments: [String]) -> [String] {
    var command: any ParsableCommand.Type = DroverCommand.self
    var path = ["drover"]
    for word in arguments {
        guard
            let next = command.configuration.subcommands.first(where: {
                $0._commandName == word || $0.configuration.aliases.contains(word)
            })
        else { break }
        command = next
        path.append(word)
    }
    return path
}

let code: Int32
do {
    let arguments = Array(CommandLine.arguments.dropFirst())
    if let usage = rejectNegativeNumbers(arguments) {
        Terminal.error(usage)
        exit(2)
    }
    var command = try DroverCommand.parseAsRoot(arguments)
    if let asyncCommand = command as? any AsyncParsableCommand {
        try await runAsync(asyncCommand)
    } else {
        try command.run()
    }
    code = 0
} catch let error as DroverError {
    Terminal.error(error.message)
    code = 1
} catch let error as ExitCode {
    code = error.rawValue
} catch {
    let exitCode = DroverCommand.exitCode(for: error)
    let message = DroverCommand.fullMessage(for: error)
    if exitCode == .success {
        Terminal.print(message)
        code = 0
    } else {
        Terminal.error(message)
        code = exitCode == .validationFailure ? 2 : 1
    }
}
exit(code)
