import Foundation

/// What becomes of scheduled runs missed while the server was down or the pool was paused.
public enum CatchUpPolicy: String, Sendable, Hashable, CaseIterable {
    /// Run them all, oldest first.
    case all
    /// Run only the newest of each schedule; cancel the rest, saying why.
    case latest
    /// Cancel them all, saying why.
    case none
}

extension CatchUpPolicy {
    /// Of a deployment's late runs that a schedule made and nobody tried yet, the ones this
    /// policy cancels: with `latest`, all but the newest of each schedule; with `none`, all.
    public func runsToCancel(late: [(id: UUID, slug: String, time: Date)]) -> [UUID] {
        switch self {
        case .all: return []
        case .none: return late.map(\.id)
        case .latest:
            var newest: [String: (id: UUID, time: Date)] = [:]
            for run in late where newest[run.slug].map({ run.time > $0.time }) ?? true {
                newest[run.slug] = (run.id, run.time)
            }
            let kept = Set(newest.values.map(\.id))
            return late.map(\.id).filter { !kept.contains($0) }
        }
    }
}
