import Foundation

/// A flow run as `drover flow-run inspect ID -o json` shows it.
struct FlowRunRecord: CustomStringConvertible {
    /// One entry of `state_history`.
    struct StateEntry {
        let type: String
        let name: String
        let message: String
        let timestamp: Date
    }

    let json: [String: Any]

    var id: String { json["id"] as? String ?? "" }
    var name: String { json["name"] as? String ?? "" }
    /// `state_type`, such as `RUNNING`.
    var state: String { json["state_type"] as? String ?? "" }
    var attempt: Int? { json["attempt"] as? Int }
    var exitCode: Int? { json["exit_code"] as? Int }
    var workerName: String? { json["worker_name"] as? String }
    var workPoolName: String { json["work_pool_name"] as? String ?? "" }
    var endTime: Date? { (json["end_time"] as? String).flatMap(Timestamp.parse) }

    /// The states it went through, oldest first.
    var history: [StateEntry] {
        (json["state_history"] as? [[String: Any]] ?? []).compactMap { entry in
            guard let type = entry["type"] as? String, let stamp = (entry["timestamp"] as? String).flatMap(Timestamp.parse)
            else { return nil }
            return StateEntry(
                type: type, name: entry["name"] as? String ?? "", message: entry["message"] as? String ?? "",
                timestamp: stamp)
        }
    }

    /// The state types of `history`, in order.
    var stateTypes: [String] { history.map(\.type) }

    /// When it first entered state `type`.
    func firstTime(in type: String) -> Date? {
        history.first { $0.type == type }?.timestamp
    }

    /// The pid its RUNNING entry reports ("Started as pid N."): the leader of the run's
    /// process group.
    var startedPID: Int32? {
        guard let message = history.first(where: { $0.type == "RUNNING" })?.message,
            let range = message.range(of: "pid ")
        else { return nil }
        return Int32(message[range.upperBound...].prefix { $0.isNumber })
    }

    /// Whether it is in a state it never leaves.
    var isTerminal: Bool { FlowRunRecord.terminalStates.contains(state) }

    static let terminalStates: Set<String> = ["COMPLETED", "FAILED", "CRASHED", "CANCELLED"]

    var description: String {
        (try? JSON.canonical(value: json)) ?? "\(json)"
    }
}
