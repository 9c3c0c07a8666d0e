import Foundation

/// The limit service's decisions: named limits, the leases that hold their slots, and the
/// Acquires waiting for room. A pure state machine: every step takes the time and returns
/// the changes to commit and the replies to send, so it is tested without sockets or clocks.
///
/// Rules it keeps:
/// - On every enforced (active) limit, the slots of its leases plus its undecayed
///   rate-limit slots never exceed its size (a limit lowered below what is taken lets no
///   one in until enough is released).
/// - An Acquire is granted all its slots at once or none.
/// - First come, first served per limit: a waiting Acquire is never passed by a later one
///   that needs any of the same enforced limits. Acquires that share no limit do not wait
///   for each other.
/// - A lease not renewed within its TTL expires and frees its slots; releasing is idempotent.
/// - A waiter is answered the moment room appears (a release, an expiry, a decay, a limit
///   raised, disabled or deleted): the step that makes room returns its grant.
public struct LimitBook: Sendable {
    /// Bounds and defaults of leases and waits.
    public struct Settings: Sendable {
        public var defaultLeaseTTL: TimeInterval = 30
        public var minimumLeaseTTL: TimeInterval = 1
        public var maximumLeaseTTL: TimeInterval = 86_400
        /// The most limits one Acquire may name.
        public var maximumNamesPerAcquire = 64

        public init() {}
    }

    public let settings: Settings
    private var limits: [String: LimitState] = [:]
    private var leases: [UUID: Lease] = [:]
    private var leasesByHolder: [String: Set<UUID>] = [:]
    /// In arrival order.
    private var waiting: [Waiter] = []
    private var nextSequence: UInt64 = 0
    private var expiries = MinHeap<Deadline>()
    private var timeouts = MinHeap<Deadline>()
    /// When decaying slots next make room for a blocked waiter.
    private var decayWake: Date?
    /// Grows with every change to the catalog.
    public private(set) var generation: UInt64 = 1

    private struct LimitState: Sendable {
        var limit: Limit
        /// Slots held by leases.
        var leased = 0
        /// Rate-limit slots as of `decayUpdated`.
        var decaying: Double = 0
        var decayUpdated: Date

        func decayingSlots(at now: Date) -> Double {
            guard decaying > 0 else { return 0 }
            guard limit.slotDecayPerSecond > 0 else { return decaying }
            return max(0, decaying - limit.slotDecayPerSecond * max(0, now.timeIntervalSince(decayUpdated)))
        }

        func taken(at now: Date) -> Double { Double(leased) + decayingSlots(at: now) }

        mutating func settle(at now: Date) {
            decaying = decayingSlots(at: now)
            decayUpdated = now
        }
    }

    private struct Waiter: Sendable {
        let sequence: UInt64
        var requester: SlotRequester
        let request: SlotRequest
        /// Every limit it names that exists, with the run-wide ones it asked for.
        let names: [String]
        let ttl: TimeInterval
        let deadline: Date?
    }

    private struct Deadline: Comparable, Sendable {
        let date: Date
        let key: UInt64
        let lease: UUID?

        static func < (lhs: Deadline, rhs: Deadline) -> Bool {
            (lhs.date, lhs.key) < (rhs.date, rhs.key)
        }
    }

    /// An empty book, or one restored from the store. Leases that expired meanwhile are
    /// reclaimed at the first `tick` (their deadline has passed), like any other.
    public init(
        settings: Settings = Settings(), limits: [Limit] = [], leases: [Lease] = [], now: Date
    ) {
        self.settings = settings
        for limit in limits { self.limits[limit.name] = LimitState(limit: limit, decayUpdated: now) }
        for lease in leases { adopt(lease) }
    }

    private mutating func adopt(_ lease: Lease) {
        var lease = lease
        lease.limits = lease.limits.filter { limits[$0] != nil }
        leases[lease.id] = lease
        leasesByHolder[lease.holder, default: []].insert(lease.id)
        for name in lease.limits { limits[name]?.leased += Int(lease.slots) }
        nextSequence += 1
        expiries.insert(Deadline(date: lease.expires, key: nextSequence, lease: lease.id))
    }

    // MARK: Reading

    /// The limit named `name`.
    public func limit(named name: String) throws(DroverError) -> Limit {
        guard let state = limits[name] else { throw Self.notFound(name) }
        return state.limit
    }

    /// A limit with what is taken of it now.
    public func status(of name: String, now: Date) throws(DroverError) -> LimitStatus {
        guard let state = limits[name] else { throw Self.notFound(name) }
        let held = leases.values.filter { $0.limits.contains(name) }.sorted {
            ($0.created, $0.id.uuidString) < ($1.created, $1.id.uuidString)
        }
        return LimitStatus(
            // Rounded up, but with the slack `hasRoom` grants with, so a full limit never reads one over.
            limit: state.limit, activeSlots: UInt32(min(Double(UInt32.max), max(0, (state.taken(at: now) - Self.slack).rounded(.up)))),
            leases: held, waiting: waiting.filter { $0.names.contains(name) }.count)
    }

    /// Every limit, by name.
    public func statuses(now: Date) -> [LimitStatus] {
        limits.keys.sorted().compactMap { try? status(of: $0, now: now) }
    }

    /// The names clients watch.
    public func catalog() -> LimitCatalogView {
        let active = limits.values.filter(\.limit.isActive)
        return LimitCatalogView(
            names: active.map(\.limit.name).sorted(),
            runLimitNames: active.filter(\.limit.appliesToAllRuns).map(\.limit.name).sorted(),
            generation: generation)
    }

    /// A lease by id.
    public func lease(_ id: UUID) -> Lease? { leases[id] }

    /// How many Acquires wait.
    public var waitingCount: Int { waiting.count }

    /// The earliest moment `tick` has work: a lease expires, a wait times out, or decay makes room.
    public func nextDeadline() -> Date? {
        [expiries.first?.date, timeouts.first?.date, decayWake].compactMap { $0 }.min()
    }

    // MARK: Limits

    /// Adds a limit.
    public mutating func create(_ limit: Limit) throws(DroverError) -> LimitEffects {
        try Limit.validate(name: limit.name, slots: limit.slots, slotDecayPerSecond: limit.slotDecayPerSecond)
        guard limits[limit.name] == nil else {
            throw .alreadyExists("A concurrency limit named '\(limit.name)' already exists.")
        }
        limits[limit.name] = LimitState(limit: limit, decayUpdated: limit.created)
        generation += 1
        var effects = LimitEffects()
        effects.changes.append(.saveLimit(limit))
        effects.catalogChanged = true
        return effects
    }

    /// The fields of a limit an update may change; nil leaves one as it is.
    public struct Update: Sendable, Equatable {
        public var slots: UInt32?
        public var isActive: Bool?
        public var slotDecayPerSecond: Double?
        public var appliesToAllRuns: Bool?

        public init(
            slots: UInt32? = nil, isActive: Bool? = nil, slotDecayPerSecond: Double? = nil, appliesToAllRuns: Bool? = nil
        ) {
            self.slots = slots
            self.isActive = isActive
            self.slotDecayPerSecond = slotDecayPerSecond
            self.appliesToAllRuns = appliesToAllRuns
        }
    }

    /// Changes a limit; waiters it now lets in are granted.
    public mutating func update(_ name: String, _ update: Update, now: Date) throws(DroverError) -> (Limit, LimitEffects) {
        guard var state = limits[name] else { throw Self.notFound(name) }
        if let slots = update.slots { try ConcurrencyLimit.validate(slots, of: "'\(name)'") }
        if let decay = update.slotDecayPerSecond { try Limit.validate(slotDecayPerSecond: decay) }
        state.settle(at: now)
        if let slots = update.slots { state.limit.slots = slots }
        if let active = update.isActive { state.limit.isActive = active }
        if let decay = update.slotDecayPerSecond { state.limit.slotDecayPerSecond = decay }
        if let all = update.appliesToAllRuns { state.limit.appliesToAllRuns = all }
        state.limit.updated = now
        limits[name] = state
        generation += 1
        var effects = LimitEffects()
        effects.changes.append(.saveLimit(state.limit))
        effects.catalogChanged = true
        effects.append(grantWaiting(now: now))
        return (state.limit, effects)
    }

    /// Removes a limit: leases stop holding it, and waiters no longer wait for it.
    public mutating func delete(_ name: String, now: Date) throws(DroverError) -> (Limit, LimitEffects) {
        guard let state = limits.removeValue(forKey: name) else { throw Self.notFound(name) }
        generation += 1
        var effects = LimitEffects()
        effects.changes.append(.deleteLimit(state.limit.id))
        effects.changes += drop(name)
        effects.catalogChanged = true
        effects.append(grantWaiting(now: now))
        return (state.limit, effects)
    }

    /// Frees every slot of a limit: its leases stop counting against it, its rate slots are gone.
    public mutating func reset(_ name: String, now: Date) throws(DroverError) -> (Limit, LimitEffects) {
        guard var state = limits[name] else { throw Self.notFound(name) }
        state.decaying = 0
        state.decayUpdated = now
        state.limit.updated = now
        limits[name] = state
        var effects = LimitEffects()
        effects.changes.append(.saveLimit(state.limit))
        effects.changes += drop(name)
        effects.append(grantWaiting(now: now))
        return (state.limit, effects)
    }

    /// Takes `name` out of every lease.
    private mutating func drop(_ name: String) -> [LimitStoreChange] {
        var changes: [LimitStoreChange] = []
        for (id, lease) in leases where lease.limits.contains(name) {
            leases[id]!.limits.removeAll { $0 == name }
            changes.append(.saveLease(leases[id]!))
        }
        limits[name]?.leased = 0
        return changes
    }

    // MARK: Slots

    /// An Acquire: granted now, queued (when it may wait), or denied. Throws for a request
    /// that is wrong in itself (a bad name, a strict name that is no limit, more slots than
    /// a limit has).
    public mutating func acquire(
        _ request: SlotRequest, from requester: SlotRequester, now: Date
    ) throws(DroverError) -> LimitEffects {
        let (names, ttl) = try resolve(request)
        var effects = LimitEffects()
        // The same holder asking again (a resent request, a coordinator after a restart)
        // gets what it already has.
        if !request.holder.isEmpty {
            let wanted = Set(names)
            for id in leasesByHolder[request.holder] ?? [] where request.mode == .concurrency {
                guard var lease = leases[id], Set(lease.limits) == wanted, lease.slots == request.slots else { continue }
                lease.expires = now.addingTimeInterval(lease.ttl)
                renewed(lease)
                effects.changes.append(.saveLease(lease))
                effects.replies.append((requester, .granted(lease)))
                return effects
            }
            // A rate-limit wait resent by its holder keeps its place too.
            if let index = waiting.firstIndex(where: {
                $0.request.holder == request.holder && $0.request.mode == request.mode && Set($0.names) == wanted
            }) {
                waiting[index].requester = requester
                effects.replies.append((requester, queued(at: index, now: now)))
                return effects
            }
        }
        let enforced = self.enforced(names)
        let blocked = waiting.contains { waiter in waiter.names.contains { enforced.contains($0) } }
        if !blocked && hasRoom(enforced, slots: request.slots, now: now) {
            effects.append(grant(request, names: names, ttl: ttl, to: requester, now: now))
            return effects
        }
        guard request.wait else {
            effects.replies.append(
                (
                    requester,
                    .denied(
                        SlotDenial(.busy, busyMessage(enforced, now: now), retryAfter: retryHint(enforced, slots: request.slots, now: now)))
                ))
            return effects
        }
        nextSequence += 1
        let deadline = request.timeout.map { now.addingTimeInterval($0) }
        waiting.append(
            Waiter(sequence: nextSequence, requester: requester, request: request, names: names, ttl: ttl, deadline: deadline))
        if let deadline { timeouts.insert(Deadline(date: deadline, key: nextSequence, lease: nil)) }
        effects.replies.append((requester, queued(at: waiting.count - 1, now: now)))
        // Decay may be all that blocks it.
        refreshDecayWake(now: now)
        return effects
    }

    /// Checks a request and works out the limits it takes and its lease's TTL.
    private func resolve(_ request: SlotRequest) throws(DroverError) -> (names: [String], ttl: TimeInterval) {
        guard request.slots >= 1, request.slots <= ConcurrencyLimit.maximum else {
            throw .invalidArgument("An Acquire takes 1 to \(ConcurrencyLimit.maximum) slots; got \(request.slots).")
        }
        guard request.limits.count <= settings.maximumNamesPerAcquire else {
            throw .invalidArgument(
                "An Acquire names at most \(settings.maximumNamesPerAcquire) limits; got \(request.limits.count).")
        }
        guard !request.limits.isEmpty || request.includeRunLimits else {
            throw .invalidArgument("An Acquire must name at least one limit.")
        }
        try LimitRequestBounds.validate(holder: request.holder)
        let ttl = request.leaseTTL ?? settings.defaultLeaseTTL
        guard ttl.isFinite, ttl >= settings.minimumLeaseTTL, ttl <= settings.maximumLeaseTTL else {
            throw .invalidArgument(
                "A lease lasts \(Int(settings.minimumLeaseTTL)) s to \(Int(settings.maximumLeaseTTL)) s; got \(ttl) s.")
        }
        if let timeout = request.timeout, !(timeout.isFinite && timeout >= 0) {
            throw .invalidArgument("A timeout must be 0 s or more; got \(timeout) s.")
        }
        var names: [String] = []
        for name in request.limits {
            try ResourceName.validate(name, kind: "concurrency limit")
            guard let state = limits[name] else {
                if request.strict { throw Self.notFound(name) }
                continue
            }
            if request.mode == .rateLimit && !state.limit.isRateLimit {
                throw .invalidArgument(
                    "'\(name)' is not a rate limit: it has no slot decay. Give it one with "
                        + "`drover gcl update \(name) --slot-decay-per-second N`, or hold its slots with `drover concurrency acquire`.")
            }
            try Self.checkFits(request.slots, in: state.limit)
            if !names.contains(name) { names.append(name) }
        }
        if request.includeRunLimits {
            for state in limits.values.sorted(by: { $0.limit.name < $1.limit.name })
            where state.limit.isActive && state.limit.appliesToAllRuns && !names.contains(state.limit.name) {
                try Self.checkFits(request.slots, in: state.limit)
                names.append(state.limit.name)
            }
        }
        return (names, ttl)
    }

    /// Throws for more slots than an enforced limit has: such an Acquire could never be granted.
    private static func checkFits(_ slots: UInt32, in limit: Limit) throws(DroverError) {
        if limit.isActive, limit.slots > 0, slots > limit.slots {
            throw .invalidArgument(
                "'\(limit.name)' has \(limit.slots) slot\(limit.slots == 1 ? "" : "s"); asking for \(slots) "
                    + "could never be granted. Ask for fewer, or raise the limit.")
        }
    }

    /// Extends leases, named by id or holder; the ones it does not know are reported back.
    public mutating func renew(
        leaseIDs: [UUID], holders: [String], now: Date
    ) -> (renewed: [Lease], unknownLeaseIDs: [UUID], unknownHolders: [String], effects: LimitEffects) {
        var effects = LimitEffects()
        var done: [Lease] = []
        var unknownIDs: [UUID] = []
        var unknownHolders: [String] = []
        func extend(_ id: UUID) {
            guard var lease = leases[id] else { return }
            lease.expires = now.addingTimeInterval(lease.ttl)
            renewed(lease)
            effects.changes.append(.saveLease(lease))
            done.append(lease)
        }
        var seen: Set<UUID> = []
        for id in leaseIDs where seen.insert(id).inserted {
            if leases[id] == nil { unknownIDs.append(id) } else { extend(id) }
        }
        for holder in holders {
            let ids = leasesByHolder[holder] ?? []
            if ids.isEmpty && !waiting.contains(where: { $0.request.holder == holder }) { unknownHolders.append(holder) }
            for id in ids.sorted(by: { $0.uuidString < $1.uuidString }) where seen.insert(id).inserted { extend(id) }
        }
        return (done, unknownIDs, unknownHolders, effects)
    }

    private mutating func renewed(_ lease: Lease) {
        leases[lease.id] = lease
        nextSequence += 1
        // The old entry stays in the heap and is skipped when it comes up.
        expiries.insert(Deadline(date: lease.expires, key: nextSequence, lease: lease.id))
    }

    /// Frees leases and withdraws waiting Acquires, named by lease id or holder. Releasing
    /// what is gone does nothing.
    public mutating func release(
        leaseIDs: [UUID], holders: [String], now: Date
    ) -> (leases: Int, waiters: Int, effects: LimitEffects) {
        var effects = LimitEffects()
        var ids = Set(leaseIDs.filter { leases[$0] != nil })
        for holder in holders { ids.formUnion(leasesByHolder[holder] ?? []) }
        for id in ids.sorted(by: { $0.uuidString < $1.uuidString }) { effects.changes += free(id) }
        let holderSet = Set(holders)
        let before = waiting.count
        waiting.removeAll { holderSet.contains($0.request.holder) && !$0.request.holder.isEmpty }
        let withdrawn = before - waiting.count
        if !ids.isEmpty || withdrawn > 0 { effects.append(grantWaiting(now: now)) }
        return (ids.count, withdrawn, effects)
    }

    /// Withdraws the waiting Acquires of a requester that is gone, or a grant it could not be
    /// told of: nothing it asked for stays taken.
    public mutating func requesterGone(_ requester: SlotRequester, lease: UUID?, now: Date) -> LimitEffects {
        var effects = LimitEffects()
        if let lease { effects.changes += free(lease) }
        waiting.removeAll { $0.requester == requester }
        effects.append(grantWaiting(now: now))
        return effects
    }

    private mutating func free(_ id: UUID) -> [LimitStoreChange] {
        guard let lease = leases.removeValue(forKey: id) else { return [] }
        leasesByHolder[lease.holder]?.remove(id)
        if leasesByHolder[lease.holder]?.isEmpty == true { leasesByHolder[lease.holder] = nil }
        for name in lease.limits { limits[name]?.leased -= Int(lease.slots) }
        return [.deleteLease(id)]
    }

    // MARK: Time

    /// Expires leases, times out waits, and grants what expiry and decay made room for.
    public mutating func tick(now: Date) -> LimitEffects {
        var effects = LimitEffects()
        var freed = false
        while let next = expiries.first, next.date <= now {
            expiries.removeFirst()
            guard let id = next.lease, let lease = leases[id], lease.expires <= now else { continue }
            effects.changes += free(id)
            freed = true
        }
        while let next = timeouts.first, next.date <= now {
            timeouts.removeFirst()
            guard let index = waiting.firstIndex(where: { $0.sequence == next.key }) else { continue }
            let waiter = waiting.remove(at: index)
            let blocking = enforced(waiter.names)
            effects.replies.append(
                (
                    waiter.requester,
                    .denied(SlotDenial(.timedOut, "Timed out waiting for a slot of \(Self.list(blocking)).", retryAfter: nil))
                ))
            freed = true  // those behind it may go now
        }
        if freed || (decayWake.map { $0 <= now } ?? false) { effects.append(grantWaiting(now: now)) }
        return effects
    }

    // MARK: Granting

    /// Allowance for floating-point error in decayed slots: room within it counts as room.
    private static let slack = 1e-9

    /// The limits among `names` that are enforced now (they exist and are active).
    private func enforced(_ names: [String]) -> [String] {
        names.filter { limits[$0]?.limit.isActive == true }
    }

    private func hasRoom(_ enforced: [String], slots: UInt32, now: Date) -> Bool {
        enforced.allSatisfy { name in
            guard let state = limits[name] else { return true }
            return state.taken(at: now) + Double(slots) <= Double(state.limit.slots) + Self.slack
        }
    }

    private mutating func grant(
        _ request: SlotRequest, names: [String], ttl: TimeInterval, to requester: SlotRequester, now: Date
    ) -> LimitEffects {
        var effects = LimitEffects()
        switch request.mode {
        case .rateLimit:
            for name in names {
                limits[name]?.settle(at: now)
                limits[name]?.decaying += Double(request.slots)
            }
            let receipt = Lease(
                id: UUID(uuid: (0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0)), holder: request.holder, limits: [],
                slots: request.slots, ttl: 0, expires: now, created: now)
            effects.replies.append((requester, .granted(receipt)))
        case .concurrency:
            // A waiter's limit may have been deleted since it asked: the lease holds only those that exist.
            let held = names.filter { limits[$0] != nil }
            let lease = Lease(
                id: UUIDv7.make(at: now), holder: request.holder, limits: held, slots: request.slots, ttl: ttl,
                expires: now.addingTimeInterval(ttl), created: now)
            adopt(lease)
            effects.changes.append(.saveLease(lease))
            effects.replies.append((requester, .granted(lease)))
        }
        return effects
    }

    /// Grants waiters in arrival order; a waiter that cannot go blocks its limits for
    /// everyone behind it.
    private mutating func grantWaiting(now: Date) -> LimitEffects {
        var effects = LimitEffects()
        var blocked: Set<String> = []
        var index = 0
        while index < waiting.count {
            let waiter = waiting[index]
            let enforced = self.enforced(waiter.names)
            if let lowered = enforced.first(where: { name in
                let size = limits[name]!.limit.slots
                return size > 0 && waiter.request.slots > size
            }) {
                waiting.remove(at: index)
                effects.replies.append(
                    (
                        waiter.requester,
                        .denied(
                            SlotDenial(
                                .withdrawn,
                                "'\(lowered)' now has \(limits[lowered]!.limit.slots) slots, fewer than the \(waiter.request.slots) asked for."
                            ))
                    ))
                continue
            }
            if enforced.contains(where: blocked.contains) || !hasRoom(enforced, slots: waiter.request.slots, now: now) {
                blocked.formUnion(enforced)
                index += 1
                continue
            }
            waiting.remove(at: index)
            effects.append(grant(waiter.request, names: waiter.names, ttl: waiter.ttl, to: waiter.requester, now: now))
        }
        refreshDecayWake(now: now)
        return effects
    }

    /// The first moment decay alone makes room for a waiter at the head of its limits.
    private mutating func refreshDecayWake(now: Date) {
        decayWake = nil
        var blocked: Set<String> = []
        for waiter in waiting {
            let enforced = self.enforced(waiter.names)
            defer { blocked.formUnion(enforced) }
            guard !enforced.contains(where: blocked.contains),
                let wait = decayWait(enforced, slots: waiter.request.slots, now: now)
            else { continue }
            var wake = now.addingTimeInterval(wait)
            // `now + wait` is rounded to a Date; step to the first instant at which the room is really there,
            // or a tick at this deadline finds none and the next deadline is no later.
            var steps = 0
            while steps < 16, !hasRoom(enforced, slots: waiter.request.slots, now: wake) {
                wake = Date(timeIntervalSinceReferenceDate: wake.timeIntervalSinceReferenceDate.nextUp)
                steps += 1
            }
            decayWake = min(decayWake ?? wake, wake)
        }
    }

    /// How long until decay makes room on every one of `names`; nil when leases block too.
    private func decayWait(_ names: [String], slots: UInt32, now: Date) -> TimeInterval? {
        var longest: TimeInterval = 0
        for name in names {
            guard let state = limits[name] else { continue }
            let excess = state.taken(at: now) + Double(slots) - Double(state.limit.slots)
            guard excess > Self.slack else { continue }
            let decaying = state.decayingSlots(at: now)
            // With the slack of `hasRoom`: for a request of all the slots, `excess` is `decaying` give or take rounding.
            guard state.limit.slotDecayPerSecond > 0, decaying + Self.slack >= excess else { return nil }
            longest = max(longest, excess / state.limit.slotDecayPerSecond)
        }
        return longest
    }

    /// When decay alone will make room; nil when leases or earlier waiters stand in the way.
    private func retryHint(_ names: [String], slots: UInt32, now: Date) -> TimeInterval? {
        guard let wait = decayWait(names, slots: slots, now: now), wait > 0 else { return nil }
        return wait
    }

    private func queued(at index: Int, now: Date) -> SlotOutcome {
        let waiter = waiting[index]
        let enforced = self.enforced(waiter.names)
        let ahead = waiting[..<index].filter { other in other.names.contains { enforced.contains($0) } }.count
        let blocking = enforced.filter { name in
            !hasRoom([name], slots: waiter.request.slots, now: now) || waiting[..<index].contains { $0.names.contains(name) }
        }
        return .queued(position: ahead + 1, blocking: blocking)
    }

    private func busyMessage(_ names: [String], now: Date) -> String {
        let full = names.filter { limits[$0].map { $0.taken(at: now) >= Double($0.limit.slots) } ?? false }
        return "No free slot of \(Self.list(full.isEmpty ? names : full)) right now."
    }

    private static func list(_ names: [String]) -> String {
        names.map { "'\($0)'" }.joined(separator: ", ")
    }

    /// No limit has that name: `invalidArgument` when no limit could (too long, a banned
    /// character), else `notFound`.
    private static func notFound(_ name: String) -> DroverError {
        do {
            try ResourceName.validate(name, kind: "concurrency limit")
        } catch {
            return error
        }
        return .notFound("No concurrency limit named '\(ResourceName.printable(name))'.")
    }
}
