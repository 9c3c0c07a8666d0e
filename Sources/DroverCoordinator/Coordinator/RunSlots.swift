import DroverCore
import DroverProto
import Foundation

/// The coordinator's side of the limit service: which runs wait for slots (and the worker
/// kept for each), which hold them, and the catalog of limit names it last heard of.
///
/// A run takes one slot of each limit of its tags (`tag:<tag>`) and of every limit that
/// applies to all runs. Leases are held under the run's holder name (`flow-run/<id>`),
/// so every request is idempotent: resending an Acquire after a lost reply or a restart
/// of either side returns the lease the run already has, and releasing by holder needs
/// no lease id. No sockets here: requests collect in `outbox` for the event loop.
struct RunSlots {
    /// Active limit names, as of the last catalog; nil until one arrives.
    private(set) var catalog: Set<String>?
    /// Whether some active limit applies to every run (assumed until a catalog says otherwise).
    var hasRunLimits: Bool { catalog == nil || !runLimitNames.isEmpty }
    /// The active limits that apply to every run, as of the last catalog.
    private var runLimitNames: Set<String> = []
    /// Runs waiting for their slots, with the worker whose credit is kept for them.
    private(set) var waiting: [UUID: String] = [:]
    /// Runs holding their slots.
    private(set) var holding: Set<UUID> = []
    /// Which run each outstanding Acquire is for.
    private var acquires: [UInt64: UUID] = [:]
    /// Each run's outstanding Acquire, the other way round.
    private var acquireOf: [UUID: UInt64] = [:]
    /// The limits each run's last Acquire asked for, as far as the catalog then told.
    private var asked: [UUID: Set<String>] = [:]
    private var nextRequestID: UInt64 = 1
    /// The request id of the catalog watch; catalog updates answer it.
    private var watchRequestID: UInt64 = 0
    /// Requests for the limit service, in order; the loop sends and empties it.
    var outbox: [Drover_V1_LimitRequest] = []
    /// The last time leases were renewed and the watch and waiting Acquires resent.
    private(set) var lastRefresh: Date

    init(now: Date) {
        lastRefresh = now
        // Ids go on from the clock (microseconds), not from 1, so that a reply to an earlier
        // life of the coordinator, still on its way, seldom meets an id this life uses.
        // Grants never rely on it (see `receive`); waiting runs' positions and refusals do.
        nextRequestID = max(1, UInt64(max(0, now.timeIntervalSince1970) * 1_000_000))
    }

    /// The limits `run` must hold slots of, as far as the catalog tells; with no catalog
    /// yet, every tag's limit (the service ignores names that are no limit).
    func limitNames(for tags: [String]) -> [String] {
        let names = tags.map(Limit.name(ofTag:))
        guard let catalog else { return names }
        return names.filter(catalog.contains)
    }

    /// Whether a run with `tags` must get slots before it is sent.
    func needsSlots(tags: [String]) -> Bool {
        hasRunLimits || !limitNames(for: tags).isEmpty
    }

    // MARK: Requests

    /// Subscribes to the catalog (again: a watch lapses when the service restarts).
    mutating func watch() {
        watchRequestID = takeRequestID()
        outbox.append(
            .with {
                $0.requestID = watchRequestID; $0.watchLimits = .init()
            })
    }

    /// Asks for `run`'s slots, keeping `worker`'s credit for it until they are granted.
    ///
    /// Asking again for a waiting run whose limits changed meanwhile (a limit created,
    /// deleted, enabled or disabled) first withdraws the old Acquire: the service would
    /// otherwise keep both in line and grant both, and the lease of the old one would hold
    /// its slots, unknown to anyone, until it expired.
    mutating func request(_ run: UUID, tags: [String], worker: String?, leaseTTL: TimeInterval) {
        let names = catalog.map { _ in Set(limitNames(for: tags)).union(runLimitNames) }
        if waiting[run] != nil, let before = asked[run], let names, before != names {
            outbox.append(
                .with {
                    $0.requestID = takeRequestID(); $0.release = .with { $0.holders = [Lease.holder(ofRun: run)] }
                })
        }
        asked[run] = names
        if let worker { waiting[run] = worker }
        let requestID = takeRequestID()
        forgetAcquire(of: run)
        acquires[requestID] = run
        acquireOf[run] = requestID
        outbox.append(
            .with {
                $0.requestID = requestID
                $0.acquire = .with {
                    $0.limits = limitNames(for: tags)
                    $0.slots = 1
                    $0.holder = Lease.holder(ofRun: run)
                    $0.leaseTtlMs = UInt32(leaseTTL * 1000)
                    $0.wait = true
                    $0.includeRunLimits = true
                }
            })
    }

    /// Runs that were in flight when the coordinator stopped hold their slots: renew their
    /// leases by holder at once. A lease the service no longer knows (it expired meanwhile)
    /// comes back as `lost`, and is asked for again with `reacquire`.
    mutating func adopt(_ runs: [UUID]) {
        guard !runs.isEmpty else { return }
        holding.formUnion(runs)
        renew(runs)
    }

    /// A run that is already running and whose lease is gone takes its slots again,
    /// without being held back: it waits in line like any other, but keeps running.
    mutating func reacquire(_ run: UUID, tags: [String], leaseTTL: TimeInterval) {
        holding.insert(run)
        request(run, tags: tags, worker: nil, leaseTTL: leaseTTL)
    }

    /// Frees what `run` holds or waits for. Idempotent; nothing is sent for a run with neither.
    mutating func release(_ run: UUID) {
        let waited = waiting.removeValue(forKey: run) != nil
        let held = holding.remove(run) != nil
        forgetAcquire(of: run)
        asked[run] = nil
        guard waited || held else { return }
        outbox.append(
            .with {
                $0.requestID = takeRequestID(); $0.release = .with { $0.holders = [Lease.holder(ofRun: run)] }
            })
    }

    /// Renews every held lease, resubscribes, and resends waiting Acquires, so that a
    /// restarted limit service learns again what this coordinator holds and waits for.
    mutating func refresh(now: Date, tags: (UUID) -> [String]?, leaseTTL: TimeInterval) {
        lastRefresh = now
        watch()
        if !holding.isEmpty { renew(Array(holding)) }
        for (run, worker) in waiting.sorted(by: { $0.key.uuidString < $1.key.uuidString }) {
            guard let runTags = tags(run) else { continue }
            request(run, tags: runTags, worker: worker, leaseTTL: leaseTTL)
        }
    }

    // MARK: Replies

    /// What a reply from the limit service means for the coordinator.
    enum Answer {
        /// The run's slots are granted: send it to the worker kept for it.
        case granted(UUID, worker: String)
        /// The run waits in line.
        case queued(UUID, position: UInt32, blocking: [String])
        /// The run's request failed; it keeps waiting and is asked for again at the next refresh.
        case refused(UUID, String)
        /// Leases the service no longer knows, for runs still holding: ask again.
        case lost([UUID])
        case nothing
    }

    mutating func receive(_ reply: Drover_V1_LimitReply) -> Answer {
        switch reply.result {
        case .catalog(let catalog) where reply.requestID == watchRequestID:
            self.catalog = Set(catalog.names)
            runLimitNames = Set(catalog.runLimitNames)
            return .nothing
        case .granted(let granted):
            // The lease's holder names the run, not the request id: ids start again at every
            // start of the coordinator, and a grant of an Acquire an earlier life of it sent
            // (still in the service's line) carries an id this life may have given another
            // run. Trusting the id sent that other run without a slot.
            guard let run = Lease.flowRunID(ofHolder: granted.lease.holder) else { return .nothing }
            guard waiting[run] != nil || acquireOf[run] != nil else {
                // Not ours any more (released meanwhile), unless already held: give it back.
                if !holding.contains(run) {
                    outbox.append(
                        .with {
                            $0.requestID = takeRequestID(); $0.release = .with { $0.holders = [granted.lease.holder] }
                        })
                }
                return .nothing
            }
            forgetAcquire(of: run)
            holding.insert(run)
            asked[run] = nil
            guard let worker = waiting.removeValue(forKey: run) else { return .nothing }
            return .granted(run, worker: worker)
        case .queued(let queued):
            guard let run = acquires[reply.requestID], waiting[run] != nil else { return .nothing }
            return .queued(run, position: queued.position, blocking: queued.blockingLimits)
        case .denied(let denied):
            guard let run = takeAcquire(reply.requestID) else { return .nothing }
            return .refused(run, denied.message)
        case .error(let error):
            guard let run = takeAcquire(reply.requestID) else { return .nothing }
            return .refused(run, error.message)
        case .renewed(let renewed):
            let lost = renewed.unknownHolders.compactMap(Lease.flowRunID(ofHolder:)).filter(holding.contains)
            return lost.isEmpty ? .nothing : .lost(lost.sorted { $0.uuidString < $1.uuidString })
        default:
            return .nothing
        }
    }

    /// Renews the leases of `runs`, by holder, in as few requests as the service takes
    /// (`LimitRequestBounds.maximumLeasesPerRequest` holders each).
    private mutating func renew(_ runs: [UUID]) {
        let holders = runs.map(Lease.holder(ofRun:)).sorted()
        for start in stride(from: 0, to: holders.count, by: LimitRequestBounds.maximumLeasesPerRequest) {
            let batch = Array(holders[start..<min(start + LimitRequestBounds.maximumLeasesPerRequest, holders.count)])
            outbox.append(
                .with {
                    $0.requestID = takeRequestID(); $0.renew = .with { $0.holders = batch }
                })
        }
    }

    private mutating func forgetAcquire(of run: UUID) {
        if let requestID = acquireOf.removeValue(forKey: run) { acquires[requestID] = nil }
    }

    /// The run an answered Acquire was for; the Acquire is no longer outstanding.
    private mutating func takeAcquire(_ requestID: UInt64) -> UUID? {
        guard let run = acquires.removeValue(forKey: requestID) else { return nil }
        if acquireOf[run] == requestID { acquireOf[run] = nil }
        return run
    }

    private mutating func takeRequestID() -> UInt64 {
        defer { nextRequestID += 1 }
        return nextRequestID
    }
}
