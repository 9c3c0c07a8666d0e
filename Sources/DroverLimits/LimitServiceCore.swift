import DroverCore
import DroverProto
import DroverStore
import DroverWire
import Foundation
import Logging

/// A reply for one client of the limit service.
public struct LimitDelivery: Sendable {
    /// The client's routing id.
    public let client: [UInt8]
    public let reply: Drover_V1_LimitReply
    /// The lease this reply grants: freed at once if the client cannot be told.
    public let grantedLease: UUID?
}

/// The limit service without its socket: the limit book, its store, and the clients
/// watching the catalog. Requests and timer ticks come in as values; every change is
/// committed before the replies that announce it are returned.
public struct LimitServiceCore {
    private var book: LimitBook
    private let store: any LimitStore
    /// Clients watching the catalog, with the request id their updates answer.
    private var watchers: [[UInt8]: UInt64] = [:]
    private let clock: @Sendable () -> Date
    private let logger: Logger

    /// Loads limits and leases from `store`.
    public init(
        store: any LimitStore, settings: LimitBook.Settings = LimitBook.Settings(), logger: Logger,
        now: @escaping @Sendable () -> Date = { Date() }
    ) throws(DroverError) {
        let (limits, leases) = try store.load()
        self.store = store
        self.clock = now
        self.logger = logger
        book = LimitBook(settings: settings, limits: limits, leases: leases, now: now())
        if !limits.isEmpty || !leases.isEmpty {
            logger.info("restored limits", metadata: ["limits": "\(limits.count)", "leases": "\(leases.count)"])
        }
    }

    /// When `tick` next has work.
    public func nextDeadline() -> Date? { book.nextDeadline() }

    /// Makes every change so far durable. With a group-commit store the loop calls it
    /// before it sends the replies of a wake-up, so no reply announces what a crash could undo.
    public func sync() throws(DroverError) {
        try store.sync()
    }

    /// Expires leases, times out waits, grants what that frees.
    public mutating func tick() throws(DroverError) -> [LimitDelivery] {
        try carryOut(book.tick(now: clock()))
    }

    /// A reply could not be delivered because its client is gone: what it was granted is
    /// freed and what it waits for is withdrawn.
    public mutating func undeliverable(_ delivery: LimitDelivery) throws(DroverError) -> [LimitDelivery] {
        watchers[delivery.client] = nil
        let requester = SlotRequester(client: delivery.client, requestID: delivery.reply.requestID)
        return try carryOut(book.requesterGone(requester, lease: delivery.grantedLease, now: clock()))
    }

    /// Handles one request. Store failures are thrown: the service cannot promise what it
    /// cannot persist. Anything wrong with the request is answered with an error.
    public mutating func handle(_ request: Drover_V1_LimitRequest, from client: [UInt8]) throws(DroverError) -> [LimitDelivery] {
        let now = clock()
        func answer(_ result: Drover_V1_LimitReply.OneOf_Result) -> LimitDelivery {
            LimitDelivery(
                client: client,
                reply: .with {
                    $0.requestID = request.requestID; $0.result = result
                }, grantedLease: nil)
        }
        do throws(DroverError) {
            switch request.operation {
            case .acquire(let acquire):
                let requester = SlotRequester(client: client, requestID: request.requestID)
                return try carryOut(try book.acquire(try SlotRequest(acquire), from: requester, now: now))
            case .renew(let renew):
                try LimitRequestBounds.validate(leaseIDs: renew.leaseIds, holders: renew.holders, operation: "Renew")
                let ids = renew.leaseIds.compactMap { UUID(uuidString: $0) }
                let malformed = renew.leaseIds.filter { UUID(uuidString: $0) == nil }
                let result = book.renew(leaseIDs: ids, holders: renew.holders, now: now)
                var deliveries = try carryOut(result.effects)
                deliveries.append(
                    answer(
                        .renewed(
                            .with {
                                $0.leases = result.renewed.map(Drover_V1_Lease.init)
                                $0.unknownLeaseIds = result.unknownLeaseIDs.map { $0.uuidString.lowercased() } + malformed
                                $0.unknownHolders = result.unknownHolders
                            })))
                return deliveries
            case .release(let release):
                try LimitRequestBounds.validate(leaseIDs: release.leaseIds, holders: release.holders, operation: "Release")
                let result = book.release(
                    leaseIDs: release.leaseIds.compactMap { UUID(uuidString: $0) }, holders: release.holders, now: now)
                var deliveries = [
                    answer(
                        .released(
                            .with {
                                $0.leases = UInt32(result.leases)
                                $0.waiters = UInt32(result.waiters)
                            }))
                ]
                deliveries += try carryOut(result.effects)
                return deliveries
            case .watchLimits:
                watchers[client] = request.requestID
                return [answer(.catalog(Drover_V1_LimitCatalog(book.catalog())))]
            case .createLimit(let create):
                let limit = Limit(
                    name: create.name, slots: create.limit, isActive: !create.disabled,
                    slotDecayPerSecond: create.slotDecayPerSecond, appliesToAllRuns: create.appliesToAllRuns, created: now)
                var deliveries = try carryOut(try book.create(limit))
                deliveries.insert(answer(.limit(Drover_V1_Limit(try book.status(of: limit.name, now: now)))), at: 0)
                logger.info("created limit", metadata: ["limit.name": "\(limit.name)", "limit.slots": "\(limit.slots)"])
                return deliveries
            case .getLimit(let get):
                return [answer(.limit(Drover_V1_Limit(try book.status(of: get.name, now: now))))]
            case .listLimits:
                return [answer(.limits(.with { $0.limits = book.statuses(now: now).map(Drover_V1_Limit.init) }))]
            case .updateLimit(let update):
                let (limit, effects) = try book.update(
                    update.name,
                    LimitBook.Update(
                        slots: update.hasLimit ? update.limit : nil, isActive: update.hasActive ? update.active : nil,
                        slotDecayPerSecond: update.hasSlotDecayPerSecond ? update.slotDecayPerSecond : nil,
                        appliesToAllRuns: update.hasAppliesToAllRuns ? update.appliesToAllRuns : nil),
                    now: now)
                let status = try book.status(of: limit.name, now: now)
                return [answer(.limit(Drover_V1_Limit(status)))] + (try carryOut(effects))
            case .deleteLimit(let delete):
                let (limit, effects) = try book.delete(delete.name, now: now)
                logger.info("deleted limit", metadata: ["limit.name": "\(limit.name)"])
                return [
                    answer(
                        .deleted(
                            .with {
                                $0.id = limit.id.uuidString.lowercased(); $0.name = limit.name
                            }))
                ]
                    + (try carryOut(effects))
            case .resetLimit(let reset):
                let (limit, effects) = try book.reset(reset.name, now: now)
                let deliveries = try carryOut(effects)
                return [answer(.limit(Drover_V1_Limit(try book.status(of: limit.name, now: now))))] + deliveries
            case nil:
                throw DroverError.invalidArgument("The limit request names no operation.")
            }
        } catch {
            // A failed commit leaves the book ahead of the store: stop rather than answer.
            guard error.code != .internal else { throw error }
            return [
                answer(
                    .error(
                        .with {
                            $0.code = .init(error.code); $0.message = error.message
                        }))
            ]
        }
    }

    /// Commits the changes of one step, then returns the replies that announce them.
    private mutating func carryOut(_ effects: LimitEffects) throws(DroverError) -> [LimitDelivery] {
        try store.commit(effects.changes)
        var deliveries = effects.replies.map { requester, outcome in
            var lease: UUID?
            if case .granted(let granted) = outcome, granted.ttl > 0 { lease = granted.id }
            return LimitDelivery(
                client: requester.client,
                reply: .with {
                    $0.requestID = requester.requestID; $0.result = .init(outcome)
                }, grantedLease: lease)
        }
        if effects.catalogChanged {
            let catalog = Drover_V1_LimitCatalog(book.catalog())
            for (client, requestID) in watchers.sorted(by: { $0.value < $1.value }) {
                deliveries.append(
                    LimitDelivery(
                        client: client,
                        reply: .with {
                            $0.requestID = requestID; $0.catalog = catalog
                        }, grantedLease: nil))
            }
        }
        return deliveries
    }
}
