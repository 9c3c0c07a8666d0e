import Testing

/// A server's pools and queues (`work-pool ls -o json` and `work-queue ls -o json`),
/// compared by content: key order in the JSON text does not matter, every field does.
struct StateSnapshot: Equatable, CustomTestStringConvertible {
    /// Canonical JSON (keys sorted) of the pools, then of the queues.
    let pools: String
    let queues: String
    /// Names and `updated` stamps, which is what a failure message needs to show.
    let summary: String

    init(poolsJSON: String, queuesJSON: String) throws {
        pools = try JSON.canonical(poolsJSON)
        queues = try JSON.canonical(queuesJSON)
        let poolLines = try JSON.array(poolsJSON).map { "pool \($0["name"] ?? "?") updated \($0["updated"] ?? "?")" }
        let queueLines = try JSON.array(queuesJSON).map {
            "queue \($0["work_pool_name"] ?? "?")/\($0["name"] ?? "?") updated \($0["updated"] ?? "?")"
        }
        summary = (poolLines + queueLines).joined(separator: "; ")
    }

    static func == (lhs: StateSnapshot, rhs: StateSnapshot) -> Bool {
        lhs.pools == rhs.pools && lhs.queues == rhs.queues
    }

    var testDescription: String { "[\(summary)]" }
}
