import ArgumentParser
import DroverClient
import DroverCore
import DroverProto
import Foundation

/// `drover rate-limit NAME…`: waits for a slot of rate limits, as Prefect's `rate_limit()`
/// does, so a script can pace itself: `drover rate-limit api && curl …`.
struct RateLimitCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "rate-limit",
        abstract: "Wait until rate limits allow one more call, then exit 0.",
        discussion: """
            Takes slots of limits that have a slot decay per second (create one with \
            `drover gcl create NAME --limit N --slot-decay-per-second X`); the slots free themselves \
            at that rate, so nothing is held or released. Prints nothing once granted; exits 1 on a \
            timeout or a refusal.
              drover rate-limit github-api && curl https://api.github.com/…
            """)

    @Argument(help: "Rate limits to take slots of (global concurrency limits with a slot decay).")
    var names: [String] = []
    @Option(help: "Slots to take of each limit (default 1).") var slots: String?
    @Option(help: "Seconds to wait; 0 tries once without waiting (default: wait until granted).") var timeout: String?
    @Flag(help: "Refuse names that are no limit, instead of ignoring them.") var strict = false
    @OptionGroup var limits: LimitOptions

    func validate() throws {
        guard !names.isEmpty else { throw ValidationError("Give at least one rate limit name.") }
        _ = try request()
    }

    /// The Acquire the options ask for.
    func request() throws -> Drover_V1_Acquire {
        let timeoutMs = try timeout.map { try milliseconds($0, of: "--timeout", allowZero: true) }
        return try .with {
            $0.limits = names
            $0.slots =
                try slots.map { text in
                    guard let value = UInt32(text.trimmingCharacters(in: .whitespaces)), value >= 1,
                        value <= ConcurrencyLimit.maximum
                    else {
                        throw ValidationError(
                            "--slots must be a whole number from 1 to \(ConcurrencyLimit.maximum); got '\(text)'.")
                    }
                    return value
                } ?? 1
            // A holder lets Ctrl-C withdraw the wait.
            $0.holder = ConcurrencyCommand.holder()
            $0.wait = timeoutMs != 0
            $0.timeoutMs = timeoutMs ?? 0
            $0.mode = .rateLimit
            $0.strict = strict
        }
    }

    func run() throws {
        let signals = SignalRelay.install()
        let connection = try limits.connect()
        // Quiet while it waits: pacing a loop is what it is for.
        let outcome = try connection.acquire(try request(), cancellation: signals)
        switch outcome {
        case .granted:
            return
        case .denied(let denied):
            Terminal.error(denialMessage(denied, names: names))
            throw ExitCode(1)
        case .cancelled:
            Terminal.error("Stopped waiting for a slot of \(ConcurrencyCommand.list(names)).")
            throw ExitCode(128 + (SignalRelay.firstReceived ?? SIGINT))
        }
    }
}
