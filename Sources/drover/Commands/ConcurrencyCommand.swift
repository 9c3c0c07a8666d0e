import ArgumentParser
import DroverClient
import DroverCore
import DroverProto
import Foundation

#if canImport(Glibc)
import Glibc
#endif

/// `drover concurrency …`: slots of limits for scripts, as Prefect's `concurrency()`
/// context manager gives them to Python code.
struct ConcurrencyCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "concurrency",
        abstract: "Hold slots of concurrency limits while a command runs.",
        subcommands: [Acquire.self]
    )

    /// Who holds the slots, for `inspect`: "pid 42 on host", after "flow-run/ID " inside a flow run.
    static func holder(environment: [String: String] = ProcessInfo.processInfo.environment) -> String {
        var name = [CChar](repeating: 0, count: 256)
        let host =
            gethostname(&name, name.count - 1) == 0
            ? String(decoding: name.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self) : "unknown host"
        let process = "pid \(getpid()) on \(host)"
        guard let run = environment["DROVER_FLOW_RUN_ID"], !run.isEmpty else { return process }
        return Lease.flowRunHolderPrefix + run + " " + process
    }

    /// Limit names as messages list them: 'a', 'b'.
    static func list(_ names: [String]) -> String {
        names.map { "'\($0)'" }.joined(separator: ", ")
    }
}

extension ConcurrencyCommand {
    struct Acquire: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Run a command while holding a slot of each named limit.",
            usage:
                "drover concurrency acquire <names> ... [--slots <n>] [--timeout <seconds>] [--lease-ttl <seconds>] [--strict] -- <command> ...",
            discussion: """
                Waits until every named limit has room (all at once, first come first served), runs \
                COMMAND with this terminal, renews the lease while it runs and releases it when it \
                exits. Exits with COMMAND's exit code, or 128+N when signal N ended it. SIGINT, \
                SIGTERM and SIGHUP are passed on to COMMAND. On a timeout or a refusal, COMMAND does \
                not run and the exit code is 1.
                  drover concurrency acquire database -- ./backup.sh --full
                  drover concurrency acquire tag:gpu --timeout 60 -- python train.py
                """)

        @Argument(
            help: ArgumentHelp(
                "Limits to take slots of, then -- and the command to run with its arguments.",
                discussion: "Limits are global concurrency limit names; a tag's limit is tag:TAG.",
                valueName: "names"))
        var words: [String] = []
        @Option(help: "Slots to take of each limit (default 1).") var slots: String?
        @Option(help: "Seconds to wait for the slots; 0 tries once without waiting (default: wait until granted).")
        var timeout: String?
        @Option(help: "Seconds the lease lasts unless renewed; it is renewed every third of that (default: the service's).")
        var leaseTtl: String?
        @Flag(help: "Refuse names that are no limit, instead of ignoring them.") var strict = false
        @OptionGroup var limits: LimitOptions

        /// The limit names: the words before `--`.
        var names: [String] { split(CommandLine.arguments).names }
        /// The command and its arguments: the words after `--`.
        var command: [String] { split(CommandLine.arguments).command }

        /// ArgumentParser hands every positional word over in one array, those after the
        /// terminator last; the command line says how many came after it.
        func split(_ arguments: [String]) -> (names: [String], command: [String]) {
            guard let terminator = arguments.firstIndex(of: "--") else { return (words, []) }
            let after = min(arguments.count - terminator - 1, words.count)
            return (Array(words.dropLast(after)), Array(words.suffix(after)))
        }

        func validate() throws {
            guard !names.isEmpty else { throw ValidationError("Give at least one limit name.") }
            guard !command.isEmpty else {
                throw ValidationError(
                    "Give the command to run after --, such as: drover concurrency acquire \(names[0]) -- ./backup.sh")
            }
            _ = try request()
        }

        /// The Acquire the options ask for.
        func request() throws -> Drover_V1_Acquire {
            let timeoutMs = try timeout.map { try milliseconds($0, of: "--timeout", allowZero: true) }
            let names = self.names
            return try .with {
                $0.limits = names
                $0.slots = try slots.map(parseSlots) ?? 1
                $0.holder = ConcurrencyCommand.holder()
                $0.leaseTtlMs = try leaseTtl.map { try milliseconds($0, of: "--lease-ttl", allowZero: false) } ?? 0
                $0.wait = timeoutMs != 0
                $0.timeoutMs = timeoutMs ?? 0
                $0.mode = .concurrency
                $0.strict = strict
            }
        }

        func run() throws {
            let (names, command) = split(CommandLine.arguments)
            let signals = SignalRelay.install()
            let connection = try limits.connect()
            let request = try request()
            let outcome = try connection.acquire(request, cancellation: signals) { queued in
                let blocking = queued.blockingLimits.isEmpty ? names : queued.blockingLimits
                Terminal.error("Waiting for a slot of \(ConcurrencyCommand.list(blocking)) (position \(queued.position))")
            }
            let lease: Drover_V1_Lease
            switch outcome {
            case .granted(let granted):
                lease = granted
            case .denied(let denied):
                Terminal.error(denialMessage(denied, names: names))
                throw ExitCode(1)
            case .cancelled:
                Terminal.error("Stopped waiting for a slot of \(ConcurrencyCommand.list(names)).")
                throw ExitCode(128 + (SignalRelay.firstReceived ?? SIGINT))
            }
            if let signal = SignalRelay.firstReceived {
                // Stopped as the grant came: the command never starts.
                _ = try? connection.release(leaseIDs: [lease.id])
                Terminal.error("Stopped before running '\(command[0])'.")
                throw ExitCode(128 + signal)
            }
            let unknown = names.filter { !lease.limits.contains($0) }
            if !unknown.isEmpty {
                Terminal.error(
                    "Note: no limit is named \(ConcurrencyCommand.list(unknown)); it limits nothing here "
                        + "(--strict refuses such names).")
            }
            let code = LeasedCommand(command: command, lease: lease, connection: connection, signals: signals).run()
            if code != 0 { throw ExitCode(code) }
        }
    }
}

/// What to print when an Acquire is turned down.
func denialMessage(_ denied: Drover_V1_Denied, names: [String]) -> String {
    if !denied.message.isEmpty { return denied.message }
    switch denied.reason {
    case .timedOut: return "Timed out waiting for a slot of \(ConcurrencyCommand.list(names))."
    case .busy: return "No free slot of \(ConcurrencyCommand.list(names)) right now."
    default: return "The limit service refused slots of \(ConcurrencyCommand.list(names))."
    }
}

/// Parses --slots: a whole number from 1.
private func parseSlots(_ text: String) throws -> UInt32 {
    guard let value = UInt32(text.trimmingCharacters(in: .whitespaces)), value >= 1,
        value <= ConcurrencyLimit.maximum
    else {
        throw ValidationError("--slots must be a whole number from 1 to \(ConcurrencyLimit.maximum); got '\(text)'.")
    }
    return value
}

/// Parses a number of seconds into milliseconds, as the wire counts them.
func milliseconds(_ text: String, of option: String, allowZero: Bool) throws -> UInt32 {
    let most = Double(UInt32.max / 1000)
    guard let seconds = Double(text.trimmingCharacters(in: .whitespaces)), seconds.isFinite, seconds >= 0,
        seconds <= most, allowZero || seconds > 0
    else {
        let least = allowZero ? "0" : "more than 0"
        throw ValidationError("\(option) must be a number of seconds from \(least) to \(Int(most)); got '\(text)'.")
    }
    let value = UInt32((seconds * 1000).rounded(.up))
    return allowZero || value > 0 ? value : 1
}
