/// What the runs of a chaos soak wrote about themselves: each run's process appends
/// `DEPLOYMENT RUN_ID ATTEMPT WORKER start NANOS` when it begins and the same with `end`
/// when it ends (also on SIGTERM). It is the ground truth the soak checks the server
/// against: which attempts really ran, where, and when.
public struct ChaosJournal: Sendable {
    /// One attempt of a run as its process recorded it.
    public struct Attempt: Sendable, Equatable {
        public let deployment: String
        public let runID: String
        public let attempt: UInt32
        public let worker: String
        /// Wall-clock nanoseconds since 1970.
        public let start: UInt64
        /// nil: the process wrote no end (it was killed with its worker).
        public var end: UInt64?

        public var key: String { "\(runID)#\(attempt)" }
    }

    public private(set) var attempts: [Attempt] = []
    /// Attempts whose process started more than once.
    public private(set) var startedTwice: [String] = []
    /// Lines that are not journal lines (a torn write, if ever).
    public private(set) var unreadable = 0

    /// Reads the journal's text.
    public init(_ text: String) {
        var index: [String: Int] = [:]
        for line in text.split(separator: "\n") {
            let fields = line.split(separator: " ")
            guard fields.count == 6, let attempt = UInt32(fields[2]), let nanos = UInt64(fields[5]) else {
                unreadable += 1
                continue
            }
            let key = "\(fields[1])#\(attempt)"
            switch fields[4] {
            case "start":
                if index[key] != nil {
                    startedTwice.append(key)
                    continue
                }
                index[key] = attempts.count
                attempts.append(
                    Attempt(
                        deployment: String(fields[0]), runID: String(fields[1]), attempt: attempt, worker: String(fields[3]),
                        start: nanos))
            case "end":
                if let position = index[key], attempts[position].end == nil { attempts[position].end = nanos }
            default:
                unreadable += 1
            }
        }
    }

    /// The shell command a deployment's runs execute: journal the start, sleep (or fail),
    /// journal the end; SIGTERM journals the end too. `CHAOS_WORKER` names the worker (the
    /// soak sets it in each worker's environment, which runs inherit).
    public static func command(deployment: String, journal: String, seconds: Double, exitCode: Int = 0) -> String {
        let stamp = "\(deployment) $DROVER_FLOW_RUN_ID $DROVER_FLOW_RUN_ATTEMPT $CHAOS_WORKER"
        let file = "'\(journal)'"
        return "trap 'echo \"\(stamp) end $(date +%s%N)\" >> \(file); exit 143' TERM; "
            + "echo \"\(stamp) start $(date +%s%N)\" >> \(file); "
            + "sleep \(seconds) & wait $!; "
            + "echo \"\(stamp) end $(date +%s%N)\" >> \(file); exit \(exitCode)"
    }
}
