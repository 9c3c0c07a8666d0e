/// The kinds of infrastructure a work pool's workers run flow runs on.
public enum WorkPoolType: String, Sendable, CaseIterable, Codable {
    /// Each run is a local process started by the worker.
    case process

    /// Parses a type name, or throws with the list of known types.
    public static func parse(_ name: String) throws(DroverError) -> WorkPoolType {
        guard let type = WorkPoolType(rawValue: name) else {
            let known = allCases.map(\.rawValue).sorted().joined(separator: ", ")
            throw .invalidArgument("Unknown work pool type '\(ResourceName.printable(name))'. Please choose from \(known).")
        }
        return type
    }

    /// The base job template a pool of this type gets unless one is given.
    public var defaultBaseJobTemplate: BaseJobTemplate {
        switch self {
        case .process: .process
        }
    }
}
