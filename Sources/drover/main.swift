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
/// unknown option; say what is wrong instead.
func rejectNegativeNumbers(_ arguments: [String]) throws {
    for argument in arguments.prefix(while: { $0 != "--" }) {
        if argument.count > 1, argument.hasPrefix("-"), argument.dropFirst().allSatisfy(\.isNumber) {
            throw ValidationError(
                "'\(argument)' is negative: limits, priorities and counts are 0 or more.")
        }
    }
}

let code: Int32
do {
    let arguments = Array(CommandLine.arguments.dropFirst())
    try rejectNegativeNumbers(arguments)
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
