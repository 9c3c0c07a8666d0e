/// The invariants a chaos soak checks from its journal: no limit was ever exceeded, by
/// what really ran. Pure: the journal, the limits and the moments workers were killed go
/// in; the violations come out.
public struct ChaosCheck: Sendable {
    /// The limits in force during the soak.
    public struct Limits: Sendable {
        /// The pool of each deployment.
        public var poolOfDeployment: [String: String]
        public var poolLimits: [String: Int]
        /// Every worker's `--limit`, by the name the journal carries.
        public var workerLimits: [String: Int]
        /// Deployments whose runs carry the limited tag, and the tag's limit.
        public var taggedDeployments: Set<String>
        public var tagLimit: Int?
        /// The server-wide (`--all-runs`) limit.
        public var allRunsLimit: Int?

        public init(
            poolOfDeployment: [String: String], poolLimits: [String: Int], workerLimits: [String: Int],
            taggedDeployments: Set<String>, tagLimit: Int?, allRunsLimit: Int?
        ) {
            self.poolOfDeployment = poolOfDeployment
            self.poolLimits = poolLimits
            self.workerLimits = workerLimits
            self.taggedDeployments = taggedDeployments
            self.tagLimit = tagLimit
            self.allRunsLimit = allRunsLimit
        }
    }

    /// A moment when more attempts ran at once than a limit allows.
    public struct Violation: Sendable, Equatable, CustomStringConvertible {
        /// "pool chaos-a", "worker a1", "tag chaos", "all runs".
        public let limit: String
        public let allowed: Int
        /// The attempts running at that moment (`RUN#ATTEMPT`).
        public let running: [String]
        public let at: UInt64

        public var description: String {
            "\(limit) allows \(allowed), \(running.count) ran at once: \(running.joined(separator: ", "))"
        }
    }

    public let limits: Limits

    public init(limits: Limits) {
        self.limits = limits
    }

    /// Every limit exceeded, once per limit and episode. An attempt without an end lasted
    /// until its worker was killed (`workerDeaths`, nanoseconds) or, failing that, `horizon`.
    public func violations(of attempts: [ChaosJournal.Attempt], workerDeaths: [String: UInt64], horizon: UInt64) -> [Violation] {
        var groups: [String: (allowed: Int, members: [ChaosJournal.Attempt])] = [:]
        func add(_ name: String, _ allowed: Int?, _ attempt: ChaosJournal.Attempt) {
            guard let allowed else { return }
            groups[name, default: (allowed, [])].members.append(attempt)
        }
        for attempt in attempts {
            if let pool = limits.poolOfDeployment[attempt.deployment] { add("pool \(pool)", limits.poolLimits[pool], attempt) }
            add("worker \(attempt.worker)", limits.workerLimits[attempt.worker], attempt)
            if limits.taggedDeployments.contains(attempt.deployment) { add("tag", limits.tagLimit, attempt) }
            add("all runs", limits.allRunsLimit, attempt)
        }
        var found: [Violation] = []
        for name in groups.keys.sorted() {
            let (allowed, members) = groups[name]!
            // Ends sort before starts at the same instant: a slot freed and taken at once is no overlap.
            var events: [(at: UInt64, isStart: Bool, key: String)] = []
            for attempt in members {
                let end = attempt.end ?? workerDeaths[attempt.worker].map { max($0, attempt.start) } ?? horizon
                events.append((attempt.start, true, attempt.key))
                events.append((end, false, attempt.key))
            }
            events.sort { ($0.at, $0.isStart ? 1 : 0) < ($1.at, $1.isStart ? 1 : 0) }
            var running: Set<String> = []
            var inViolation = false
            for event in events {
                if event.isStart { running.insert(event.key) } else { running.remove(event.key) }
                if running.count > allowed && !inViolation {
                    found.append(Violation(limit: name, allowed: allowed, running: running.sorted(), at: event.at))
                }
                inViolation = running.count > allowed
            }
        }
        return found
    }
}
