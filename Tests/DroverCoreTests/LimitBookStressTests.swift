import DroverCore
import DroverTestSupport
import Foundation
import Testing

/// Random sequences of Acquires, releases, renewals, limit changes and ticks against a
/// model the test keeps from the replies it sees. After every step: no enforced limit holds
/// more than its size (unless it was lowered below what was already taken), every waiter is
/// answered at most once, no grant passes an earlier waiter on a shared limit, nothing waits
/// that could go, and expired leases are reclaimed. At the end everything drains to zero.
@Suite struct LimitBookStressTests {
    @Test(arguments: 1...12 as ClosedRange<UInt64>)
    func limitsHoldAndEveryWaiterIsAnsweredUnderRandomSteps(seed: UInt64) {
        var harness = LimitBookHarness(seed: seed)
        for step in 0..<2_500 {
            harness.randomStep(step)
            if harness.violations.count > 20 { break }
        }
        harness.drain(byExpiry: seed % 2 == 1)
        #expect(harness.violations.isEmpty, "seed \(seed): \(harness.violations.prefix(10).joined(separator: "\n"))")
        // The sequence exercised what it should have.
        let counts = harness.counts
        #expect(counts.grantedAtOnce > 100, "seed \(seed): \(counts)")
        #expect(counts.grantedLater > 20, "seed \(seed): \(counts)")
        #expect(counts.busy > 20, "seed \(seed): \(counts)")
        #expect(counts.timedOut > 0, "seed \(seed): \(counts)")
        #expect(counts.expired > 0, "seed \(seed): \(counts)")
        #expect(counts.resent > 0, "seed \(seed): \(counts)")
    }
}

private struct LimitBookHarness {
    struct LimitModel {
        var size: UInt32
        var active: Bool
        let allRuns: Bool
        /// Set while the limit may hold more than its size: it was lowered or enabled below
        /// what was already taken. Cleared once use is within the size again.
        var overcommitted = false
    }

    struct LeaseModel {
        let requester: SlotRequester
        let holder: String
        var limits: [String]
        let slots: UInt32
        let ttl: TimeInterval
        var expires: Date
    }

    struct WaiterModel {
        var requester: SlotRequester
        let holder: String
        /// The names the book resolved: the limits that existed then, with run limits.
        let names: [String]
        let slots: UInt32
        let ttl: TimeInterval
        let deadline: Date?
    }

    struct Counts: CustomStringConvertible {
        var grantedAtOnce = 0
        var grantedLater = 0
        var queued = 0
        var busy = 0
        var timedOut = 0
        var withdrawn = 0
        var expired = 0
        var resent = 0
        var errors = 0

        var description: String {
            "at once \(grantedAtOnce), later \(grantedLater), queued \(queued), busy \(busy), timed out \(timedOut), "
                + "withdrawn \(withdrawn), expired \(expired), resent \(resent), errors \(errors)"
        }
    }

    static let names = ["l0", "l1", "l2", "tag:t", "runs"]
    static let holders = (0..<10).map { "h\($0)" }

    var random: SeededGenerator
    var book: LimitBook
    var now = TestDates.at(0)
    var limits: [String: LimitModel] = [:]
    var leases: [UUID: LeaseModel] = [:]
    /// In arrival order.
    var waiters: [WaiterModel] = []
    /// Requesters given a final answer (granted or denied).
    var answered: Set<SlotRequester> = []
    var nextRequestID: UInt64 = 0
    var violations: [String] = []
    var counts = Counts()
    var step = 0
    var event = ""

    init(seed: UInt64) {
        random = SeededGenerator(state: seed)
        var initial: [Limit] = []
        for name in Self.names {
            let model = LimitModel(size: UInt32(random.next() % 4) + 1, active: true, allRuns: name == "runs")
            limits[name] = model
            initial.append(Limit(name: name, slots: model.size, appliesToAllRuns: model.allRuns, created: now))
        }
        book = LimitBook(limits: initial, now: now)
    }

    // MARK: Random choices

    mutating func pick<T>(_ items: [T]) -> T { items[Int(random.next() % UInt64(items.count))] }
    mutating func chance(_ percent: UInt64) -> Bool { random.next() % 100 < percent }

    mutating func newRequester() -> SlotRequester {
        nextRequestID += 1
        return SlotRequester(client: [UInt8(nextRequestID % 7)], requestID: nextRequestID)
    }

    func flag(_ message: String) -> String { "step \(step) \(event) at +\(now.timeIntervalSince(TestDates.at(0))): \(message)" }

    mutating func violation(_ message: String) { violations.append(flag(message)) }

    // MARK: The model's view

    func exists(_ name: String) -> Bool { limits[name] != nil }

    func enforced(_ names: [String]) -> [String] { names.filter { limits[$0]?.active == true } }

    func used(_ name: String) -> UInt32 {
        leases.values.filter { $0.limits.contains(name) }.reduce(0) { $0 + $1.slots }
    }

    func hasRoom(_ names: [String], slots: UInt32) -> Bool {
        enforced(names).allSatisfy { used($0) + slots <= limits[$0]!.size }
    }

    /// A limit that is enforced and smaller than `slots`: the waiter can never go.
    func tooSmall(_ names: [String], slots: UInt32) -> String? {
        enforced(names).first { limits[$0]!.size > 0 && limits[$0]!.size < slots }
    }

    func sharesEnforcedLimit(_ a: [String], _ b: [String]) -> Bool {
        let enforcedB = Set(enforced(b))
        return enforced(a).contains { enforcedB.contains($0) }
    }

    // MARK: Steps

    mutating func randomStep(_ step: Int) {
        self.step = step
        switch random.next() % 100 {
        case 0..<38: acquire()
        case 38..<41: resend()
        case 41..<53: releaseLeases()
        case 53..<57: releaseHolder()
        case 57..<63: renew()
        case 63..<82: tick(by: pick([0, 0.5, 1, 1, 2, 3, 5, 8]))
        case 82..<86: tickToNextDeadline()
        case 86..<92: updateLimit()
        case 92..<94: resetLimit()
        case 94..<96: deleteOrCreateLimit()
        default: requesterGone()
        }
        checkInvariants()
    }

    mutating func acquire() {
        var names: [String] = []
        for _ in 0..<(1 + random.next() % 3) { names.append(pick(Self.names)) }
        if chance(5) { names.append("missing") }
        let request = SlotRequest(
            limits: names, slots: UInt32(1 + random.next() % 3), holder: chance(10) ? "" : pick(Self.holders),
            leaseTTL: pick([1, 2, 5, 10, 30] as [TimeInterval]), wait: chance(70),
            timeout: chance(50) ? nil : pick([0, 1, 3, 10] as [TimeInterval]),
            strict: chance(10), includeRunLimits: chance(15))
        acquire(request, from: newRequester())
    }

    /// A requester sends again what a waiter or a holder already asked for.
    mutating func resend() {
        if !waiters.isEmpty && chance(60) {
            let waiter = pick(waiters)
            guard !waiter.holder.isEmpty else { return }
            counts.resent += 1
            acquire(
                SlotRequest(limits: waiter.names, slots: waiter.slots, holder: waiter.holder, leaseTTL: waiter.ttl),
                from: newRequester())
        } else {
            let held = leases.values.filter { !$0.holder.isEmpty && !$0.limits.isEmpty }
                .sorted { ($0.holder, $0.limits.joined(), $0.slots) < ($1.holder, $1.limits.joined(), $1.slots) }
            guard !held.isEmpty else { return }
            let lease = pick(held)
            counts.resent += 1
            acquire(
                SlotRequest(limits: lease.limits.reversed(), slots: lease.slots, holder: lease.holder, leaseTTL: 30),
                from: newRequester())
        }
    }

    enum Resolution {
        case names([String])
        case error(DroverError.Code)
    }

    /// What the book should make of `request`: an error, or the names it resolves to.
    func resolve(_ request: SlotRequest) -> Resolution {
        var names: [String] = []
        for name in request.limits {
            guard let limit = limits[name] else {
                if request.strict { return .error(.notFound) }
                continue
            }
            if limit.active && limit.size > 0 && request.slots > limit.size { return .error(.invalidArgument) }
            if !names.contains(name) { names.append(name) }
        }
        if request.includeRunLimits {
            for name in limits.keys.sorted() where limits[name]!.active && limits[name]!.allRuns && !names.contains(name) {
                let limit = limits[name]!
                if limit.size > 0 && request.slots > limit.size { return .error(.invalidArgument) }
                names.append(name)
            }
        }
        return .names(names)
    }

    mutating func acquire(_ request: SlotRequest, from requester: SlotRequester) {
        event = "acquire(\(request.limits), slots \(request.slots), holder '\(request.holder)', wait \(request.wait))"
        let expected = resolve(request)
        let effects: LimitEffects
        do {
            effects = try book.acquire(request, from: requester, now: now)
        } catch {
            counts.errors += 1
            if case .error(let code) = expected, code == error.code { return }
            return violation("threw \(error), expected \(expected)")
        }
        guard case .names(let names) = expected else { return violation("did not throw, expected \(expected)") }
        guard effects.replies.count == 1, let (to, outcome) = effects.replies.first, to == requester else {
            return violation("replies \(effects.replies)")
        }
        if effects.catalogChanged { violation("an acquire changed the catalog") }

        // The same holder asking again.
        if !request.holder.isEmpty {
            let wanted = Set(names)
            // Any of the holder's leases that match will do.
            let matching = leases.filter {
                $0.value.holder == request.holder && Set($0.value.limits) == wanted && $0.value.slots == request.slots
            }
            if !matching.isEmpty {
                guard case .granted(let granted) = outcome, let lease = matching[granted.id],
                    granted.expires == now.addingTimeInterval(lease.ttl)
                else { return violation("asked again for one of \(matching.keys): \(outcome)") }
                if effects.changes != [.saveLease(granted)] { violation("renewing changes \(effects.changes)") }
                leases[granted.id]!.expires = granted.expires
                answered.insert(requester)
                return
            }
            if let index = waiters.firstIndex(where: { $0.holder == request.holder && Set($0.names) == wanted }) {
                guard case .queued(let position, _) = outcome, position == queuePosition(of: index) else {
                    return violation("asked again while waiting at \(queuePosition(of: index)): \(outcome)")
                }
                if !effects.changes.isEmpty { violation("a resent wait changes \(effects.changes)") }
                waiters[index].requester = requester
                return
            }
        }

        let blocked = waiters.contains { sharesEnforcedLimit($0.names, names) }
        if !blocked && hasRoom(names, slots: request.slots) {
            guard case .granted(let lease) = outcome else { return violation("room, not blocked, yet \(outcome)") }
            let ttl = request.leaseTTL!
            if lease.limits != names || lease.slots != request.slots || lease.holder != request.holder
                || lease.ttl != ttl || lease.expires != now.addingTimeInterval(ttl) || lease.created != now
            {
                violation("granted \(lease), expected limits \(names)")
            }
            if effects.changes != [.saveLease(lease)] { violation("grant changes \(effects.changes)") }
            if leases[lease.id] != nil { violation("lease id \(lease.id) granted twice") }
            leases[lease.id] = LeaseModel(
                requester: requester, holder: request.holder, limits: names, slots: request.slots, ttl: ttl,
                expires: lease.expires)
            answered.insert(requester)
            counts.grantedAtOnce += 1
            return
        }
        if !effects.changes.isEmpty { violation("no grant, yet changes \(effects.changes)") }
        if !request.wait {
            // No decay, so no hint; the book says 0 when only waiters ahead stand in the way.
            guard case .denied(let denial) = outcome, denial.reason == .busy, (denial.retryAfter ?? 0) == 0 else {
                return violation("a try without room: \(outcome)")
            }
            answered.insert(requester)
            counts.busy += 1
            return
        }
        waiters.append(
            WaiterModel(
                requester: requester, holder: request.holder, names: names, slots: request.slots, ttl: request.leaseTTL!,
                deadline: request.timeout.map { now.addingTimeInterval($0) }))
        counts.queued += 1
        guard case .queued(let position, let blocking) = outcome, position == queuePosition(of: waiters.count - 1) else {
            return violation("a wait: \(outcome), expected position \(queuePosition(of: waiters.count - 1))")
        }
        if blocking.isEmpty || !blocking.allSatisfy(enforced(names).contains) {
            violation("blocking \(blocking) of \(names)")
        }
    }

    /// 1 plus the waiters before it that share an enforced limit with it.
    func queuePosition(of index: Int) -> Int {
        1 + waiters[..<index].filter { sharesEnforcedLimit(waiters[index].names, $0.names) }.count
    }

    mutating func releaseLeases() {
        let ids = leases.keys.sorted { $0.uuidString < $1.uuidString }
        var chosen: [UUID] = []
        if !ids.isEmpty {
            for _ in 0..<(1 + random.next() % 2) { chosen.append(pick(ids)) }
        }
        if chance(20) { chosen.append(UUID()) }
        event = "release(\(chosen.count) ids)"
        let freed = Set(chosen.filter { leases[$0] != nil })
        let result = book.release(leaseIDs: chosen, holders: [], now: now)
        if result.leases != freed.count || result.waiters != 0 { violation("released \(result.leases), \(result.waiters)") }
        for id in freed { leases[id] = nil }
        apply(result.effects, freed: freed)
    }

    mutating func releaseHolder() {
        let holder = pick(Self.holders)
        event = "release(holder \(holder))"
        let freed = Set(leases.filter { $0.value.holder == holder }.keys)
        let withdrawn = waiters.filter { $0.holder == holder }.count
        let result = book.release(leaseIDs: [], holders: [holder], now: now)
        if result.leases != freed.count || result.waiters != withdrawn {
            violation("released \(result.leases) leases, \(result.waiters) waiters; expected \(freed.count), \(withdrawn)")
        }
        for id in freed { leases[id] = nil }
        waiters.removeAll { $0.holder == holder }
        apply(result.effects, freed: freed)
    }

    mutating func renew() {
        let ids = leases.keys.sorted { $0.uuidString < $1.uuidString }
        var byID: [UUID] = []
        if !ids.isEmpty && chance(50) { byID.append(pick(ids)) }
        if chance(10) { byID.append(UUID()) }
        let holders = chance(60) ? [pick(Self.holders)] : []
        event = "renew(\(byID.count) ids, \(holders))"
        let expectedUnknownIDs = byID.filter { leases[$0] == nil }
        let expectedUnknownHolders = holders.filter { holder in
            !leases.values.contains { $0.holder == holder } && !waiters.contains { $0.holder == holder }
        }
        var renewed = Set(byID.filter { leases[$0] != nil })
        for holder in holders { renewed.formUnion(leases.filter { $0.value.holder == holder }.keys) }

        let result = book.renew(leaseIDs: byID, holders: holders, now: now)
        if result.unknownLeaseIDs != expectedUnknownIDs || result.unknownHolders != expectedUnknownHolders {
            violation("unknown \(result.unknownLeaseIDs) \(result.unknownHolders)")
        }
        if Set(result.renewed.map(\.id)) != renewed { violation("renewed \(result.renewed.map(\.id)), expected \(renewed)") }
        if !result.effects.replies.isEmpty { violation("renewing answered \(result.effects.replies)") }
        for lease in result.renewed {
            guard let ttl = leases[lease.id]?.ttl else { continue }
            leases[lease.id]!.expires = now.addingTimeInterval(ttl)
            if lease.expires != leases[lease.id]?.expires { violation("renewed to \(lease.expires)") }
            if !result.effects.changes.contains(.saveLease(lease)) { violation("renewal of \(lease.id) not saved") }
        }
    }

    mutating func tick(by seconds: TimeInterval) {
        now = now.addingTimeInterval(seconds)
        tick()
    }

    mutating func tickToNextDeadline() {
        guard let next = book.nextDeadline() else { return tick(by: 1) }
        if next < now { violation("the next deadline \(next) has passed") }
        now = max(now, next)
        tick()
    }

    mutating func tick() {
        event = "tick"
        let expired = Set(leases.filter { $0.value.expires <= now }.keys)
        let timingOut = waiters.filter { $0.deadline.map { $0 <= now } ?? false }.map(\.requester)
        for id in expired { leases[id] = nil }
        counts.expired += expired.count
        let effects = book.tick(now: now)
        for requester in timingOut {
            guard case .denied(let denial) = effects.outcome(for: requester), denial.reason == .timedOut else {
                violation("\(requester) past its deadline got \(String(describing: effects.outcome(for: requester)))")
                continue
            }
        }
        apply(effects, freed: expired)
        if let next = book.nextDeadline(), next <= now { violation("after a tick the next deadline \(next) is not later") }
    }

    mutating func updateLimit() {
        let name = pick(Self.names)
        guard var model = limits[name] else { return }
        let update: LimitBook.Update
        if chance(20) {
            update = .init(isActive: !model.active)
            model.active.toggle()
        } else {
            let size = UInt32(random.next() % 5)
            update = .init(slots: size)
            model.size = size
        }
        event = "update(\(name), \(update))"
        if model.active && used(name) > model.size { model.overcommitted = true }
        limits[name] = model
        do {
            let (limit, effects) = try book.update(name, update, now: now)
            if limit.slots != model.size || limit.isActive != model.active { violation("updated to \(limit)") }
            if effects.changes.first != .saveLimit(limit) || !effects.catalogChanged { violation("update effects \(effects)") }
            apply(effects, freed: [], leading: 1)
        } catch {
            violation("threw \(error)")
        }
    }

    mutating func resetLimit() {
        let name = pick(Self.names)
        guard limits[name] != nil else { return }
        event = "reset(\(name))"
        do {
            let (limit, effects) = try book.reset(name, now: now)
            let touched = dropFromLeases(name)
            if effects.changes.first != .saveLimit(limit) || effects.catalogChanged { violation("reset effects \(effects)") }
            checkSaved(touched, in: effects)
            apply(effects, freed: [], leading: 1 + touched.count)
        } catch {
            violation("threw \(error)")
        }
    }

    mutating func deleteOrCreateLimit() {
        let name = pick(Self.names)
        if limits[name] == nil {
            event = "create(\(name))"
            // At least 3 slots: `create` runs no grant pass, so a new limit smaller than an old
            // waiter's need (its names kept the deleted one) would not withdraw it until the next step.
            let size = UInt32(3 + random.next() % 2)
            let limit = Limit(name: name, slots: size, appliesToAllRuns: name == "runs", created: now)
            do {
                let effects = try book.create(limit)
                limits[name] = LimitModel(size: size, active: true, allRuns: name == "runs")
                if effects.changes != [.saveLimit(limit)] || !effects.replies.isEmpty { violation("create effects \(effects)") }
            } catch {
                violation("threw \(error)")
            }
            return
        }
        event = "delete(\(name))"
        do {
            let (limit, effects) = try book.delete(name, now: now)
            limits[name] = nil
            let touched = dropFromLeases(name)
            if effects.changes.first != .deleteLimit(limit.id) || !effects.catalogChanged { violation("delete effects \(effects)") }
            checkSaved(touched, in: effects)
            apply(effects, freed: [], leading: 1 + touched.count)
        } catch {
            violation("threw \(error)")
        }
    }

    /// Takes `name` out of the model's leases; the ids of those it was in.
    mutating func dropFromLeases(_ name: String) -> [UUID] {
        let touched = leases.filter { $0.value.limits.contains(name) }.keys.sorted { $0.uuidString < $1.uuidString }
        for id in touched { leases[id]!.limits.removeAll { $0 == name } }
        return touched
    }

    /// Each lease in `ids` is saved with the limits the model now gives it.
    mutating func checkSaved(_ ids: [UUID], in effects: LimitEffects) {
        for id in ids {
            let saved = effects.changes.contains {
                if case .saveLease(let lease) = $0 { lease.id == id && lease.limits == leases[id]!.limits } else { false }
            }
            if !saved { violation("lease \(id) not saved with limits \(leases[id]!.limits): \(effects.changes)") }
        }
    }

    mutating func requesterGone() {
        if !waiters.isEmpty && chance(50) {
            let waiter = pick(waiters)
            event = "requesterGone(waiter)"
            waiters.removeAll { $0.requester == waiter.requester }
            apply(book.requesterGone(waiter.requester, lease: nil, now: now), freed: [])
        } else if !leases.isEmpty {
            let id = pick(leases.keys.sorted { $0.uuidString < $1.uuidString })
            let lease = leases[id]!
            event = "requesterGone(lease)"
            leases[id] = nil
            waiters.removeAll { $0.requester == lease.requester }
            apply(book.requesterGone(lease.requester, lease: id, now: now), freed: [id])
        }
    }

    // MARK: Checking a step

    /// Checks the replies and changes of a step that may grant, time out or withdraw waiters,
    /// and brings the model up to date. `freed` are the leases the step should delete;
    /// `leading` changes come first and are checked by the caller.
    mutating func apply(_ effects: LimitEffects, freed: Set<UUID>, leading: Int = 0) {
        var expectedChanges: [LimitStoreChange] = freed.map { .deleteLease($0) }
        let waitingBefore = waiters
        var granted: [WaiterModel] = []
        for (requester, outcome) in effects.replies {
            if answered.contains(requester) { violation("\(requester) answered twice: \(outcome)") }
            answered.insert(requester)
            guard let index = waiters.firstIndex(where: { $0.requester == requester }) else {
                violation("answered \(requester), who does not wait: \(outcome)")
                continue
            }
            let waiter = waiters.remove(at: index)
            switch outcome {
            case .granted(let lease):
                let names = waiter.names.filter(exists)
                if lease.limits != names || lease.slots != waiter.slots || lease.holder != waiter.holder
                    || lease.expires != now.addingTimeInterval(waiter.ttl)
                {
                    violation("granted \(lease) to a waiter for \(waiter.names), expected limits \(names)")
                }
                if leases[lease.id] != nil { violation("lease id \(lease.id) granted twice") }
                leases[lease.id] = LeaseModel(
                    requester: requester, holder: waiter.holder, limits: names, slots: waiter.slots, ttl: waiter.ttl,
                    expires: lease.expires)
                expectedChanges.append(.saveLease(lease))
                granted.append(waiter)
                counts.grantedLater += 1
            case .denied(let denial):
                switch denial.reason {
                case .busy: violation("a waiter denied busy")
                case .timedOut:
                    if event != "tick" || !(waiter.deadline.map { $0 <= now } ?? false) {
                        violation("timed out before its deadline \(String(describing: waiter.deadline))")
                    }
                    counts.timedOut += 1
                case .withdrawn:
                    // Judged against the limits as they are now.
                    if tooSmall(waiter.names, slots: waiter.slots) == nil { violation("withdrew a waiter that fits: \(denial)") }
                    counts.withdrawn += 1
                }
            case .queued:
                violation("queued again: \(outcome)")
            }
        }
        // Every grant had room: the limits it takes are within their sizes afterwards.
        for waiter in granted {
            for name in enforced(waiter.names) where used(name) > limits[name]!.size {
                violation("granted \(waiter.slots) of '\(name)': \(used(name)) taken of \(limits[name]!.size)")
            }
        }
        // First come, first served: no one granted ahead of an earlier waiter that shares a limit.
        for waiter in granted {
            let arrival = waitingBefore.firstIndex { $0.requester == waiter.requester }!
            for earlier in waitingBefore[..<arrival] where waiters.contains(where: { $0.requester == earlier.requester }) {
                if sharesEnforcedLimit(earlier.names, waiter.names) {
                    violation("\(waiter.requester) for \(waiter.names) passed \(earlier.requester) for \(earlier.names)")
                }
            }
        }
        if !sameChanges(Array(effects.changes.dropFirst(leading)), expectedChanges) {
            violation("changes \(effects.changes.dropFirst(leading)), expected \(expectedChanges)")
        }
    }

    /// The same changes, in any order.
    func sameChanges(_ a: [LimitStoreChange], _ b: [LimitStoreChange]) -> Bool {
        guard a.count == b.count else { return false }
        var rest = b
        for change in a {
            guard let index = rest.firstIndex(of: change) else { return false }
            rest.remove(at: index)
        }
        return true
    }

    /// The rules that hold between steps, read from `status(of:now:)`.
    mutating func checkInvariants() {
        for (name, model) in limits.sorted(by: { $0.key < $1.key }) {
            guard let status = try? book.status(of: name, now: now) else {
                violation("no status of \(name)")
                continue
            }
            let taken = used(name)
            if status.activeSlots != taken { violation("\(name): \(status.activeSlots) slots taken, the leases hold \(taken)") }
            if model.active && taken > model.size && !model.overcommitted {
                violation("\(name): \(taken) slots taken of \(model.size)")
            }
            if taken <= model.size { limits[name]!.overcommitted = false }
            let holding = Set(leases.filter { $0.value.limits.contains(name) }.keys)
            if Set(status.leases.map(\.id)) != holding { violation("\(name): leases \(status.leases.map(\.id))") }
            let waiting = waiters.filter { $0.names.contains(name) }.count
            if status.waiting != waiting { violation("\(name): \(status.waiting) waiting, expected \(waiting)") }
            if status.limit.slots != model.size || status.limit.isActive != model.active {
                violation("\(name): \(status.limit)")
            }
        }
        if book.waitingCount != waiters.count { violation("\(book.waitingCount) waiting, expected \(waiters.count)") }
        for (id, lease) in leases where book.lease(id)?.expires != lease.expires || book.lease(id)?.limits != lease.limits {
            violation("lease \(id): \(String(describing: book.lease(id))), expected \(lease)")
        }
        // Nothing waits that could go, and nothing waits that never can.
        var blocked: Set<String> = []
        for waiter in waiters {
            let names = enforced(waiter.names)
            defer { blocked.formUnion(names) }
            if let small = tooSmall(waiter.names, slots: waiter.slots) {
                violation("\(waiter.requester) waits for \(waiter.slots) of '\(small)', which has \(limits[small]!.size)")
            }
            if names.allSatisfy({ !blocked.contains($0) }) && hasRoom(waiter.names, slots: waiter.slots) {
                violation("\(waiter.requester) for \(waiter.names) waits with room")
            }
        }
        // The owner is woken in time for every expiry and timeout.
        let due = (leases.values.map(\.expires) + waiters.compactMap(\.deadline)).min()
        if let due {
            if let next = book.nextDeadline() {
                if next > due { violation("next deadline \(next) is after \(due)") }
            } else {
                violation("no next deadline, but \(due) is due")
            }
        }
    }

    // MARK: Draining

    /// Lets every waiter through, then frees everything: by releasing, or by letting leases expire.
    mutating func drain(byExpiry: Bool) {
        step = -1
        for name in Self.names where limits[name] == nil {
            event = "drain: create \(name)"
            let limit = Limit(name: name, slots: 4, appliesToAllRuns: name == "runs", created: now)
            _ = try? book.create(limit)
            limits[name] = LimitModel(size: 4, active: true, allRuns: name == "runs")
        }
        for name in Self.names {
            event = "drain: update \(name)"
            guard let (_, effects) = try? book.update(name, .init(slots: 4, isActive: true), now: now) else {
                violation("could not update \(name)")
                continue
            }
            limits[name]!.size = 4
            limits[name]!.active = true
            if used(name) > 4 { limits[name]!.overcommitted = true }
            apply(effects, freed: [], leading: 1)
            checkInvariants()
        }
        var rounds = 0
        while (!leases.isEmpty || !waiters.isEmpty) && rounds < 500 {
            rounds += 1
            if byExpiry {
                tick(by: 31)
            } else {
                event = "drain: release"
                let ids = Array(leases.keys)
                let result = book.release(leaseIDs: ids, holders: [], now: now)
                for id in ids { leases[id] = nil }
                if result.leases != ids.count { violation("released \(result.leases) of \(ids.count)") }
                apply(result.effects, freed: Set(ids))
            }
            checkInvariants()
        }
        if rounds == 500 { violation("did not drain: \(leases.count) leases, \(waiters.count) waiters") }
        tick(by: 100_000)
        for status in book.statuses(now: now) {
            if status.activeSlots != 0 || !status.leases.isEmpty || status.waiting != 0 {
                violation("after draining, \(status.limit.name): \(status.activeSlots) taken, \(status.leases.count) leases")
            }
        }
        if book.waitingCount != 0 { violation("after draining, \(book.waitingCount) waiting") }
        if let next = book.nextDeadline() { violation("after draining, a deadline at \(next)") }
    }
}

/// Random rate-limit Acquires and ticks, at rates whose decay is not exact in binary: the
/// slots read never exceed a limit, a waiter is granted no later than the tick its room
/// appears, a tick at the next deadline never leaves a deadline that has passed, and with no
/// new Acquires every waiter goes in the end.
@Suite struct LimitBookRateStressTests {
    @Test(arguments: 1...8 as ClosedRange<UInt64>)
    func rateLimitsNeverOverfillAndWaitersGoWhenDecayMakesRoom(seed: UInt64) throws {
        var random = SeededGenerator(state: seed)
        func roll(_ n: UInt64) -> UInt64 { random.next() % n }
        let rates: [String: (slots: UInt32, decay: Double)] = [
            "r0": (2, 1.1), "r1": (3, 0.7), "r2": (1, 3), "r3": (5, 13),
        ]
        let names = rates.keys.sorted()
        var now = TestDates.at(0.1)
        var book = LimitBook(
            limits: names.map { Limit(name: $0, slots: rates[$0]!.slots, slotDecayPerSecond: rates[$0]!.decay, created: now) },
            now: now)
        var waiters: [(requester: SlotRequester, names: [String], slots: UInt32)] = []
        var answered: Set<SlotRequester> = []
        var violations: [String] = []
        var grants = 0
        var nextID: UInt64 = 0

        func check(_ step: Int, _ effects: LimitEffects, event: String) {
            let before = waiters
            var granted: [Int] = []
            for (requester, outcome) in effects.replies {
                if answered.contains(requester) { violations.append("step \(step) \(event): \(requester) answered twice") }
                answered.insert(requester)
                guard let index = waiters.firstIndex(where: { $0.requester == requester }) else {
                    violations.append("step \(step) \(event): answered \(requester), who does not wait")
                    continue
                }
                if case .granted = outcome {
                    granted.append(before.firstIndex { $0.requester == requester }!)
                    grants += 1
                } else if outcome.denialReason != .timedOut {
                    violations.append("step \(step) \(event): \(outcome)")
                }
                waiters.remove(at: index)
            }
            if !effects.changes.isEmpty { violations.append("step \(step) \(event): rate slots saved \(effects.changes)") }
            // First come, first served.
            for index in granted {
                for earlier in before[..<index] where waiters.contains(where: { $0.requester == earlier.requester }) {
                    if Set(earlier.names).intersection(before[index].names).isEmpty == false {
                        violations.append("step \(step) \(event): \(before[index].requester) passed \(earlier.requester)")
                    }
                }
            }
            // Never more than a limit; nothing waits with room in front of it.
            var taken: [String: UInt32] = [:]
            for name in names {
                let status = try! book.status(of: name, now: now)
                taken[name] = status.activeSlots
                if status.activeSlots > rates[name]!.slots {
                    violations.append("step \(step) \(event): \(name) reads \(status.activeSlots) of \(rates[name]!.slots)")
                }
            }
            var blocked: Set<String> = []
            for waiter in waiters {
                defer { blocked.formUnion(waiter.names) }
                if blocked.isDisjoint(with: waiter.names)
                    && waiter.names.allSatisfy({ taken[$0]! + waiter.slots <= rates[$0]!.slots })
                {
                    violations.append("step \(step) \(event): \(waiter.requester) waits with room on \(waiter.names)")
                }
            }
            if book.waitingCount != waiters.count { violations.append("step \(step) \(event): waiting \(book.waitingCount)") }
            if !waiters.isEmpty && book.nextDeadline() == nil {
                violations.append("step \(step) \(event): \(waiters.count) wait with no deadline to wake them")
            }
        }

        for step in 0..<1_500 where violations.count < 20 {
            switch roll(10) {
            case 0..<5:
                var chosen: [String] = []
                for _ in 0..<(1 + roll(2)) { chosen.append(names[Int(roll(UInt64(names.count)))]) }
                let slots = UInt32(1 + roll(UInt64(chosen.map { rates[$0]!.slots }.min()!)))
                nextID += 1
                let requester = SlotRequester(client: [1], requestID: nextID)
                let wait = roll(4) != 0
                let request = SlotRequest(
                    limits: chosen, slots: slots, wait: wait, timeout: roll(3) == 0 ? Double(roll(4)) * 0.3 : nil,
                    mode: .rateLimit)
                let effects = try book.acquire(request, from: requester, now: now)
                guard let outcome = effects.outcome(for: requester), effects.replies.count == 1 else {
                    violations.append("step \(step): replies \(effects.replies)")
                    continue
                }
                switch outcome {
                case .granted(let receipt):
                    answered.insert(requester)
                    grants += 1
                    if receipt.limits != [] { violations.append("step \(step): a rate grant holds \(receipt.limits)") }
                case .queued:
                    if !wait { violations.append("step \(step): a try queued") }
                    waiters.append((requester, Array(Set(chosen)), slots))
                case .denied(let denial):
                    answered.insert(requester)
                    if wait || denial.reason != .busy { violations.append("step \(step): \(denial)") }
                }
                check(step, LimitEffects(), event: "acquire")
            case 5:
                guard !waiters.isEmpty else { continue }
                let gone = waiters[Int(roll(UInt64(waiters.count)))].requester
                waiters.removeAll { $0.requester == gone }
                check(step, book.requesterGone(gone, lease: nil, now: now), event: "requesterGone")
            case 6..<8:
                now = now.addingTimeInterval([0.05, 0.1, 0.3, 0.7, 1.3][Int(roll(5))])
                check(step, book.tick(now: now), event: "tick")
            default:
                guard let next = book.nextDeadline() else { continue }
                now = max(now, next)
                check(step, book.tick(now: now), event: "tick at the deadline")
                if let after = book.nextDeadline(), after <= now {
                    violations.append("step \(step): after a tick at its deadline the next one is \(after), not later")
                }
            }
        }
        // No new Acquires: ticking from deadline to deadline lets every waiter through.
        var rounds = 0
        while !waiters.isEmpty, let next = book.nextDeadline(), rounds < 10_000 {
            rounds += 1
            now = max(now, next)
            check(-1, book.tick(now: now), event: "drain")
        }
        if !waiters.isEmpty { violations.append("\(waiters.count) never went") }
        now = now.addingTimeInterval(100)
        #expect(book.tick(now: now).isEmpty)
        for status in book.statuses(now: now) where status.activeSlots != 0 {
            violations.append("\(status.limit.name) still reads \(status.activeSlots)")
        }
        #expect(book.nextDeadline() == nil)
        #expect(violations.isEmpty, "seed \(seed): \(violations.prefix(10).joined(separator: "\n"))")
        #expect(grants > 100, "seed \(seed): \(grants) grants")
    }
}
