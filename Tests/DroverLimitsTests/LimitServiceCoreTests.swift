import DroverCore
import DroverLimits
import DroverProto
import DroverStore
import DroverTestSupport
import Foundation
import Synchronization
import Testing

/// A `LimitServiceCore` over a store, driven by named clients and a manual clock.
struct CoreFixture {
    let clock: ManualClock
    var core: LimitServiceCore
    private var nextRequestID: UInt64 = 1

    init(store: any LimitStore, clock: ManualClock = ManualClock()) throws {
        self.clock = clock
        core = try LimitServiceCore(store: store, logger: quietLogger, now: { clock.now })
    }

    /// A fresh core over an in-memory store.
    init() throws {
        try self.init(store: try SQLiteLimitStore(path: ":memory:"))
    }

    /// Sends `operation` from `client`; returns the request id chosen and every delivery.
    mutating func send(
        _ operation: Drover_V1_LimitRequest.OneOf_Operation, from client: String
    ) throws -> (id: UInt64, deliveries: [LimitDelivery]) {
        let id = nextRequestID
        nextRequestID += 1
        let request = Drover_V1_LimitRequest.with {
            $0.requestID = id; $0.operation = operation
        }
        return (id, try core.handle(request, from: routing(client)))
    }

    /// Sends `operation` and returns the first reply to it (the one answering `client`'s request).
    mutating func call(
        _ operation: Drover_V1_LimitRequest.OneOf_Operation, from client: String = "admin",
        sourceLocation: SourceLocation = #_sourceLocation
    ) throws -> Drover_V1_LimitReply {
        let (id, deliveries) = try send(operation, from: client)
        let reply = deliveries.first { $0.client == routing(client) && $0.reply.requestID == id }
        return try #require(reply, "no reply to the request", sourceLocation: sourceLocation).reply
    }

    /// A limit as GetLimit shows it now.
    mutating func status(_ name: String, sourceLocation: SourceLocation = #_sourceLocation) throws -> Drover_V1_Limit {
        try #require(try call(.get(name)).limitReply, "no limit named \(name)", sourceLocation: sourceLocation)
    }
}

/// The routing id of a named test client.
func routing(_ client: String) -> [UInt8] { Array(client.utf8) }

extension [LimitDelivery] {
    /// The replies to `client`, in order.
    func to(_ client: String) -> [Drover_V1_LimitReply] {
        filter { $0.client == routing(client) }.map(\.reply)
    }
}

@Suite struct LimitServiceCoreTests {
    // MARK: Catalog requests

    @Test func createGetListUpdateResetAndDeleteAnswerWithTheLimit() throws {
        var fixture = try CoreFixture()
        let created = try #require(try fixture.call(.create("db", slots: 2)).limitReply)
        #expect(created.name == "db")
        #expect(created.limit == 2)
        #expect(created.active)
        #expect(created.activeSlots == 0)
        #expect(UUID(uuidString: created.id) != nil)
        _ = try fixture.call(.create("tag:etl", slots: 5))

        #expect(try fixture.status("db") == created)
        guard case .limits(let list)? = try fixture.call(.listLimits(.init())).result else {
            Issue.record("ListLimits must answer with the limits")
            return
        }
        #expect(list.limits.map(\.name) == ["db", "tag:etl"])

        fixture.clock.advance(by: 5)
        let updated = try #require(
            try fixture.call(
                .updateLimit(
                    .with {
                        $0.name = "db"; $0.limit = 4; $0.active = false
                    })
            ).limitReply)
        #expect(updated.id == created.id)
        #expect(updated.limit == 4)
        #expect(!updated.active)
        #expect(updated.updated.date == TestDates.at(5))
        #expect(updated.created == created.created)

        // Reset frees what leases hold of the limit.
        _ = try fixture.call(
            .updateLimit(
                .with {
                    $0.name = "db"; $0.active = true
                }))
        #expect(try fixture.call(.acquireSlot("db", holder: "h")).grantedLease != nil)
        #expect(try fixture.status("db").activeSlots == 1)
        let reset = try #require(try fixture.call(.resetLimit(.with { $0.name = "db" })).limitReply)
        #expect(reset.activeSlots == 0)
        #expect(reset.leases.isEmpty)

        guard case .deleted(let deleted)? = try fixture.call(.deleteLimit(.with { $0.name = "db" })).result else {
            Issue.record("DeleteLimit must answer with what it deleted")
            return
        }
        #expect(deleted.id == created.id)
        #expect(deleted.name == "db")
        #expect(try fixture.call(.get("db")).errorCode == .notFound)
    }

    @Test func requestsThatCannotBeCarriedOutAreAnsweredWithTheirErrorCode() throws {
        var fixture = try CoreFixture()
        _ = try fixture.call(.create("db", slots: 2))

        let duplicate = try fixture.send(.create("db", slots: 3), from: "admin")
        #expect(duplicate.deliveries.count == 1)
        #expect(duplicate.deliveries.first?.reply.requestID == duplicate.id)
        #expect(duplicate.deliveries.first?.reply.errorCode == .alreadyExists)

        #expect(try fixture.call(.create("", slots: 1)).errorCode == .invalidArgument)
        #expect(try fixture.call(.create("bad/name", slots: 1)).errorCode == .invalidArgument)
        #expect(
            try fixture.call(
                .createLimit(
                    .with {
                        $0.name = "rate"; $0.slotDecayPerSecond = -1
                    })
            ).errorCode == .invalidArgument)

        #expect(try fixture.call(.get("missing")).errorCode == .notFound)
        #expect(
            try fixture.call(
                .updateLimit(
                    .with {
                        $0.name = "missing"; $0.limit = 1
                    })
            ).errorCode == .notFound)
        #expect(try fixture.call(.deleteLimit(.with { $0.name = "missing" })).errorCode == .notFound)
        #expect(try fixture.call(.resetLimit(.with { $0.name = "missing" })).errorCode == .notFound)

        #expect(try fixture.call(.acquire(.with { $0.wait = true })).errorCode == .invalidArgument)
        #expect(
            try fixture.call(
                .acquire(
                    .with {
                        $0.limits = ["db"]; $0.slots = 3
                    })
            ).errorCode == .invalidArgument)
        #expect(try fixture.call(.acquireSlot("db", leaseTTLMilliseconds: 500)).errorCode == .invalidArgument)
        #expect(
            try fixture.call(
                .acquire(
                    .with {
                        $0.limits = ["missing"]; $0.strict = true
                    })
            ).errorCode == .notFound)

        let empty = try fixture.core.handle(Drover_V1_LimitRequest.with { $0.requestID = 99 }, from: routing("admin"))
        #expect(empty.map(\.reply.requestID) == [99])
        #expect(empty.first?.reply.errorCode == .invalidArgument)

        // Nothing the errors named was changed.
        let db = try fixture.status("db")
        #expect(db.limit == 2)
        #expect(db.activeSlots == 0)
        #expect(db.waiting == 0)
    }

    // MARK: Slots

    @Test func anAcquireWithRoomIsGrantedALease() throws {
        var fixture = try CoreFixture()
        _ = try fixture.call(.create("db", slots: 2))
        let (id, deliveries) = try fixture.send(.acquireSlot("db", holder: "job-1", leaseTTLMilliseconds: 5_000), from: "a")
        #expect(deliveries.count == 1)
        let delivery = try #require(deliveries.first)
        #expect(delivery.client == routing("a"))
        #expect(delivery.reply.requestID == id)
        let lease = try #require(delivery.reply.grantedLease)
        #expect(delivery.grantedLease?.uuidString.lowercased() == lease.id)
        #expect(lease.holder == "job-1")
        #expect(lease.limits == ["db"])
        #expect(lease.slots == 1)
        #expect(lease.ttlMs == 5_000)
        #expect(lease.expires.date == TestDates.at(5))

        let status = try fixture.status("db")
        #expect(status.activeSlots == 1)
        #expect(status.leases.map(\.id) == [lease.id])
    }

    @Test func aWaitingAcquireIsQueuedThenGrantedToItsClientWhenAnotherReleases() throws {
        var fixture = try CoreFixture()
        _ = try fixture.call(.create("db", slots: 1))
        let held = try #require(try fixture.call(.acquireSlot("db", holder: "holder"), from: "holder").grantedLease)

        let first = try fixture.send(.acquireSlot("db", holder: "first"), from: "first")
        let firstQueued = try #require(first.deliveries.to("first").first?.queuedReply)
        #expect(firstQueued.position == 1)
        #expect(firstQueued.blockingLimits == ["db"])
        let second = try fixture.send(.acquireSlot("db", holder: "second"), from: "second")
        #expect(second.deliveries.to("second").first?.queuedReply?.position == 2)
        #expect(try fixture.status("db").waiting == 2)

        let release = try fixture.send(.releaseLeases([held.id]), from: "holder")
        #expect(release.deliveries.to("holder").map(\.requestID) == [release.id])
        #expect(release.deliveries.to("holder").first?.releasedReply?.leases == 1)
        let grants = release.deliveries.filter { $0.reply.grantedLease != nil }
        #expect(grants.map(\.client) == [routing("first")])
        #expect(grants.map(\.reply.requestID) == [first.id])
        #expect(grants.first?.reply.grantedLease?.holder == "first")
        #expect(release.deliveries.to("second").isEmpty)

        // The second waiter is next, and gets the slot the first gives back.
        let firstLease = try #require(grants.first?.reply.grantedLease)
        let secondTurn = try fixture.send(.releaseLeases([firstLease.id]), from: "first")
        #expect(secondTurn.deliveries.to("second").map(\.requestID) == [second.id])
        #expect(secondTurn.deliveries.to("second").first?.grantedLease?.holder == "second")
        let status = try fixture.status("db")
        #expect(status.activeSlots == 1)
        #expect(status.waiting == 0)
        #expect(status.leases.map(\.holder) == ["second"])
    }

    @Test func watchersHearOfEveryCatalogChangeUnderTheirWatchRequestID() throws {
        var fixture = try CoreFixture()
        let watch = try fixture.send(.watchLimits(.init()), from: "watcher")
        let initial = try #require(watch.deliveries.to("watcher").first?.catalogReply)
        #expect(initial.names.isEmpty)

        let create = try fixture.send(
            .createLimit(
                .with {
                    $0.name = "db"; $0.limit = 1; $0.appliesToAllRuns = true
                }), from: "admin")
        let afterCreate = create.deliveries.to("watcher")
        #expect(afterCreate.map(\.requestID) == [watch.id])
        let created = try #require(afterCreate.first?.catalogReply)
        #expect(created.names == ["db"])
        #expect(created.runLimitNames == ["db"])
        #expect(created.generation > initial.generation)

        let update = try fixture.send(
            .updateLimit(
                .with {
                    $0.name = "db"; $0.active = false
                }), from: "admin")
        let disabled = try #require(update.deliveries.to("watcher").first?.catalogReply)
        #expect(update.deliveries.to("watcher").map(\.requestID) == [watch.id])
        #expect(disabled.names.isEmpty)
        #expect(disabled.generation > created.generation)

        _ = try fixture.call(
            .updateLimit(
                .with {
                    $0.name = "db"; $0.active = true
                }))
        let delete = try fixture.send(.deleteLimit(.with { $0.name = "db" }), from: "admin")
        let deleted = try #require(delete.deliveries.to("watcher").first?.catalogReply)
        #expect(delete.deliveries.to("watcher").map(\.requestID) == [watch.id])
        #expect(deleted.names.isEmpty)

        // Reading changes nothing, so tells the watcher nothing.
        #expect(try fixture.send(.listLimits(.init()), from: "admin").deliveries.to("watcher").isEmpty)
    }

    @Test func anUndeliverableGrantFreesItsLeaseForTheNextWaiter() throws {
        var fixture = try CoreFixture()
        _ = try fixture.call(.create("db", slots: 1))
        let held = try #require(try fixture.call(.acquireSlot("db", holder: "holder"), from: "holder").grantedLease)
        let gone = try fixture.send(.acquireSlot("db", holder: "gone"), from: "gone")
        let next = try fixture.send(.acquireSlot("db", holder: "next"), from: "next")

        let release = try fixture.send(.releaseLeases([held.id]), from: "holder")
        let grant = try #require(release.deliveries.first { $0.client == routing("gone") })
        #expect(grant.reply.requestID == gone.id)
        let goneLease = try #require(grant.grantedLease)

        let afterLoss = try fixture.core.undeliverable(grant)
        #expect(afterLoss.map(\.client) == [routing("next")])
        #expect(afterLoss.first?.reply.requestID == next.id)
        #expect(afterLoss.first?.reply.grantedLease?.holder == "next")

        let status = try fixture.status("db")
        #expect(status.activeSlots == 1)
        #expect(status.waiting == 0)
        #expect(status.leases.map(\.holder) == ["next"])
        #expect(!status.leases.map(\.id).contains(goneLease.uuidString.lowercased()))
    }

    @Test func anUndeliverableQueuedReplyWithdrawsTheWait() throws {
        var fixture = try CoreFixture()
        _ = try fixture.call(.create("db", slots: 1))
        let held = try #require(try fixture.call(.acquireSlot("db", holder: "holder"), from: "holder").grantedLease)
        let gone = try fixture.send(.acquireSlot("db", holder: "gone"), from: "gone")
        let queued = try #require(gone.deliveries.first)
        #expect(queued.grantedLease == nil)

        #expect(try fixture.core.undeliverable(queued).isEmpty)
        #expect(try fixture.status("db").waiting == 0)
        let release = try fixture.send(.releaseLeases([held.id]), from: "holder")
        #expect(release.deliveries.to("gone").isEmpty)
        #expect(try fixture.status("db").activeSlots == 0)
    }

    // MARK: Time

    @Test func tickExpiresLeasesNotRenewedAndGrantsTheWaiter() throws {
        var fixture = try CoreFixture()
        _ = try fixture.call(.create("db", slots: 1))
        let held = try #require(
            try fixture.call(.acquireSlot("db", holder: "holder", leaseTTLMilliseconds: 5_000), from: "holder").grantedLease)
        let waiter = try fixture.send(.acquireSlot("db", holder: "waiter"), from: "waiter")
        #expect(fixture.core.nextDeadline() == TestDates.at(5))

        fixture.clock.advance(by: 4.9)
        #expect(try fixture.core.tick().isEmpty)
        #expect(try fixture.status("db").leases.map(\.id) == [held.id])

        fixture.clock.advance(by: 0.1)
        let expired = try fixture.core.tick()
        #expect(expired.map(\.client) == [routing("waiter")])
        #expect(expired.first?.reply.requestID == waiter.id)
        #expect(expired.first?.reply.grantedLease?.holder == "waiter")
        #expect(try fixture.status("db").leases.map(\.holder) == ["waiter"])

        // The expired lease is gone: releasing it frees nothing.
        #expect(try fixture.call(.releaseLeases([held.id]), from: "holder").releasedReply?.leases == 0)
    }

    @Test func tickDeniesAWaitThatRunsPastItsTimeout() throws {
        var fixture = try CoreFixture()
        _ = try fixture.call(.create("db", slots: 1))
        _ = try fixture.call(.acquireSlot("db", holder: "holder"), from: "holder")
        let waiter = try fixture.send(.acquireSlot("db", holder: "waiter", timeoutMilliseconds: 2_000), from: "waiter")
        #expect(fixture.core.nextDeadline() == TestDates.at(2))

        fixture.clock.advance(by: 2)
        let timedOut = try fixture.core.tick()
        #expect(timedOut.map(\.client) == [routing("waiter")])
        #expect(timedOut.first?.reply.requestID == waiter.id)
        #expect(timedOut.first?.reply.deniedReply?.reason == .timedOut)
        #expect(try fixture.status("db").waiting == 0)
    }

    @Test func renewExtendsKnownLeasesAndReportsUnknownOnes() throws {
        var fixture = try CoreFixture()
        _ = try fixture.call(.create("db", slots: 2))
        let lease = try #require(
            try fixture.call(.acquireSlot("db", holder: "holder", leaseTTLMilliseconds: 10_000), from: "holder").grantedLease)
        let unknown = UUID().uuidString.lowercased()

        fixture.clock.advance(by: 8)
        let renewed = try #require(
            try fixture.call(.renew(.with { $0.leaseIds = [lease.id, unknown, "not-a-uuid"] }), from: "holder").renewedReply)
        #expect(renewed.leases.map(\.id) == [lease.id])
        #expect(renewed.leases.first?.expires.date == TestDates.at(18))
        #expect(Set(renewed.unknownLeaseIds) == [unknown, "not-a-uuid"])
        #expect(renewed.unknownHolders.isEmpty)

        let byHolder = try #require(
            try fixture.call(.renew(.with { $0.holders = ["holder", "nobody"] }), from: "holder").renewedReply)
        #expect(byHolder.leases.map(\.id) == [lease.id])
        #expect(byHolder.unknownHolders == ["nobody"])

        // Past the first expiry, the renewed lease still holds its slot.
        fixture.clock.advance(by: 5)
        #expect(try fixture.core.tick().isEmpty)
        #expect(try fixture.status("db").leases.map(\.id) == [lease.id])
    }

    // MARK: Restart

    @Test func aNewCoreOverTheSameStoreKeepsLimitsAndTheirTakenSlots() throws {
        let home = try TemporaryDirectory()
        let path = home.file("limits.sqlite").path
        let clock = ManualClock()
        var before = try CoreFixture(store: try SQLiteLimitStore(path: path), clock: clock)
        _ = try before.call(.create("db", slots: 2))
        let first = try #require(
            try before.call(.acquireSlot("db", holder: "one", leaseTTLMilliseconds: 60_000), from: "one").grantedLease)
        let second = try #require(
            try before.call(.acquireSlot("db", holder: "two", leaseTTLMilliseconds: 60_000), from: "two").grantedLease)
        let limit = try before.status("db")

        clock.advance(by: 10)
        var after = try CoreFixture(store: try SQLiteLimitStore(path: path), clock: clock)
        let restored = try after.status("db")
        #expect(restored.id == limit.id)
        #expect(restored.limit == 2)
        #expect(restored.activeSlots == 2)
        #expect(Set(restored.leases.map(\.id)) == [first.id, second.id])
        #expect(restored.leases.first { $0.id == first.id }?.expires.date == TestDates.at(60))

        // The slots stay taken: a try is turned away, and a release makes room.
        #expect(try after.call(.acquireSlot("db", holder: "three", wait: false), from: "three").deniedReply?.reason == .busy)
        #expect(try after.call(.releaseLeases([first.id]), from: "one").releasedReply?.leases == 1)
        #expect(
            try after.call(.acquireSlot("db", holder: "three", wait: false, leaseTTLMilliseconds: 120_000), from: "three")
                .grantedLease != nil)

        // Restored leases still expire when their time comes.
        #expect(after.core.nextDeadline() == TestDates.at(60))
        clock.advance(by: 50)
        _ = try after.core.tick()
        #expect(try after.status("db").leases.map(\.holder) == ["three"])
    }
}
