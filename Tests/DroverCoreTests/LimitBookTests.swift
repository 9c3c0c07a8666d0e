import DroverCore
import DroverTestSupport
import Foundation
import Testing

// MARK: Fixtures shared by the limit book's tests

/// A requester for limit book tests: request `id` of client `client`.
func slotRequester(_ id: UInt64, client: UInt8 = 1) -> SlotRequester {
    SlotRequester(client: [client], requestID: id)
}

/// A limit created at the test epoch.
func bookLimit(
    _ name: String, slots: UInt32, active: Bool = true, decay: Double = 0, allRuns: Bool = false
) -> Limit {
    Limit(
        name: name, slots: slots, isActive: active, slotDecayPerSecond: decay, appliesToAllRuns: allRuns,
        created: TestDates.at(0))
}

extension LimitEffects {
    /// What was answered to `requester`; nil when nothing was.
    func outcome(for requester: SlotRequester) -> SlotOutcome? {
        replies.first { $0.0 == requester }?.1
    }

    /// The requesters answered, in order.
    var answered: [SlotRequester] { replies.map(\.0) }

    /// The leases granted, in order.
    var grantedLeases: [Lease] {
        replies.compactMap { if case .granted(let lease) = $0.1 { lease } else { nil } }
    }
}

extension SlotOutcome {
    /// The lease of a grant.
    var grantedLease: Lease? { if case .granted(let lease) = self { lease } else { nil } }

    /// The reason of a denial.
    var denialReason: SlotDenial.Reason? { if case .denied(let denial) = self { denial.reason } else { nil } }

    var isQueued: Bool { if case .queued = self { true } else { false } }
}

extension LimitBook {
    /// Slots taken of `name` now.
    func taken(_ name: String, at now: Date) throws -> UInt32 {
        try status(of: name, now: now).activeSlots
    }
}

/// The limit book's rules with plain dates: no sockets, no clock of its own.
@Suite struct LimitBookTests {
    let t0 = TestDates.at(0)
    let alice = slotRequester(1)
    let bob = slotRequester(2)
    let carol = slotRequester(3)
    let dave = slotRequester(4)

    func at(_ seconds: Double) -> Date { TestDates.at(seconds) }

    /// A book with `limits`, created at the epoch.
    func makeBook(_ limits: Limit...) -> LimitBook {
        LimitBook(limits: limits, now: t0)
    }

    /// The one reply of an Acquire.
    func acquire(
        _ book: inout LimitBook, _ request: SlotRequest, as requester: SlotRequester, at now: Date,
        sourceLocation: SourceLocation = #_sourceLocation
    ) throws -> (SlotOutcome, LimitEffects) {
        let effects = try book.acquire(request, from: requester, now: now)
        #expect(effects.answered == [requester], sourceLocation: sourceLocation)
        let outcome = try #require(effects.outcome(for: requester), sourceLocation: sourceLocation)
        return (outcome, effects)
    }

    // MARK: Creating, changing and removing limits

    @Test func createSavesTheLimitAndChangesTheCatalog() throws {
        var book = LimitBook(now: t0)
        #expect(book.catalog() == LimitCatalogView(names: [], runLimitNames: [], generation: 1))
        let limit = bookLimit("db", slots: 3)
        let effects = try book.create(limit)
        #expect(effects.changes == [.saveLimit(limit)])
        #expect(effects.replies.isEmpty)
        #expect(effects.catalogChanged)
        #expect(book.generation == 2)
        #expect(try book.limit(named: "db") == limit)
        #expect(book.catalog() == LimitCatalogView(names: ["db"], runLimitNames: [], generation: 2))
        let status = try book.status(of: "db", now: t0)
        #expect(status.limit == limit)
        #expect(status.activeSlots == 0)
        #expect(status.leases.isEmpty)
        #expect(status.waiting == 0)
    }

    @Test func createRefusesADuplicateNameAndChangesNothing() throws {
        var book = makeBook(bookLimit("db", slots: 3))
        let error = try #require(throws: DroverError.self) { try book.create(bookLimit("db", slots: 5)) }
        #expect(error.code == .alreadyExists)
        #expect(error.message.contains("'db'"))
        #expect(try book.limit(named: "db").slots == 3)
        #expect(book.generation == 1)
    }

    @Test(
        arguments: [
            ("", 1, 0), ("a/b", 1, 0), (" db", 1, 0), ("-db", 1, 0), ("tag:", 1, 0), ("tag:-x", 1, 0), ("tag: x", 1, 0),
            ("db", ConcurrencyLimit.maximum + 1, 0), ("db", 1, -1), ("db", 1, .nan), ("db", 1, .infinity),
            ("db", 1, Limit.maximumDecay + 1),
        ] as [(String, UInt32, Double)])
    func createRejectsBadNamesSlotsAndDecay(name: String, slots: UInt32, decay: Double) throws {
        var book = LimitBook(now: t0)
        let error = try #require(throws: DroverError.self) {
            try book.create(bookLimit(name, slots: slots, decay: decay))
        }
        #expect(error.code == .invalidArgument)
        #expect(book.catalog().names.isEmpty)
        #expect(book.generation == 1)
    }

    @Test func createAcceptsTagLimitsZeroSlotsAndTheLargestDecay() throws {
        var book = LimitBook(now: t0)
        _ = try book.create(bookLimit(Limit.name(ofTag: "gpu"), slots: 0))
        _ = try book.create(bookLimit("api", slots: ConcurrencyLimit.maximum, decay: Limit.maximumDecay))
        #expect(book.catalog().names == ["api", "tag:gpu"])
        #expect(Limit.name(ofTag: "gpu") == "tag:gpu")
        #expect(Limit.tag(ofName: "tag:gpu") == "gpu")
        #expect(Limit.tag(ofName: "gpu") == nil)
        #expect(try book.limit(named: "api").isRateLimit)
        #expect(try !book.limit(named: "tag:gpu").isRateLimit)
    }

    @Test func catalogListsActiveLimitsAndThoseEveryRunTakes() throws {
        var book = makeBook(
            bookLimit("b", slots: 1), bookLimit("a", slots: 1, allRuns: true), bookLimit("off", slots: 1, active: false),
            bookLimit("off-all", slots: 1, active: false, allRuns: true), bookLimit("z-all", slots: 9, allRuns: true))
        #expect(book.catalog() == LimitCatalogView(names: ["a", "b", "z-all"], runLimitNames: ["a", "z-all"], generation: 1))

        let (_, enabling) = try book.update("off-all", .init(isActive: true), now: at(1))
        #expect(enabling.catalogChanged)
        #expect(
            book.catalog()
                == LimitCatalogView(
                    names: ["a", "b", "off-all", "z-all"], runLimitNames: ["a", "off-all", "z-all"], generation: 2))

        _ = try book.update("a", .init(appliesToAllRuns: false), now: at(2))
        _ = try book.delete("z-all", now: at(3))
        #expect(book.catalog() == LimitCatalogView(names: ["a", "b", "off-all"], runLimitNames: ["off-all"], generation: 4))
        #expect(book.statuses(now: at(3)).map(\.limit.name) == ["a", "b", "off", "off-all"])
    }

    @Test func updateChangesOnlyTheGivenFieldsAndStampsTheTime() throws {
        var book = makeBook(bookLimit("db", slots: 3))
        let (limit, effects) = try book.update("db", .init(slots: 5, slotDecayPerSecond: 0.5), now: at(7))
        #expect(limit.slots == 5)
        #expect(limit.slotDecayPerSecond == 0.5)
        #expect(limit.isActive)
        #expect(!limit.appliesToAllRuns)
        #expect(limit.created == t0)
        #expect(limit.updated == at(7))
        #expect(effects.changes == [.saveLimit(limit)])
        #expect(effects.catalogChanged)
        #expect(effects.replies.isEmpty)
        #expect(try book.limit(named: "db") == limit)
        #expect(book.generation == 2)
    }

    @Test(arguments: [
        LimitBook.Update(slots: ConcurrencyLimit.maximum + 1), LimitBook.Update(slotDecayPerSecond: -0.1),
        LimitBook.Update(slotDecayPerSecond: .nan), LimitBook.Update(slots: 4, slotDecayPerSecond: .infinity),
    ])
    func updateRejectsBadValuesAndChangesNothing(update: LimitBook.Update) throws {
        var book = makeBook(bookLimit("db", slots: 3))
        let before = try book.limit(named: "db")
        let error = try #require(throws: DroverError.self) { try book.update("db", update, now: at(1)) }
        #expect(error.code == .invalidArgument)
        #expect(try book.limit(named: "db") == before)
        #expect(book.generation == 1)
    }

    @Test func unknownNamesAreNotFound() throws {
        var book = makeBook(bookLimit("db", slots: 3))
        let errors: [DroverError] = [
            try #require(throws: DroverError.self) { try book.update("nope", .init(slots: 1), now: at(1)) },
            try #require(throws: DroverError.self) { try book.delete("nope", now: at(1)) },
            try #require(throws: DroverError.self) { try book.reset("nope", now: at(1)) },
            try #require(throws: DroverError.self) { try book.limit(named: "nope") },
            try #require(throws: DroverError.self) { try book.status(of: "nope", now: at(1)) },
        ]
        for error in errors {
            #expect(error == .notFound("No concurrency limit named 'nope'."))
        }
        #expect(book.generation == 1)
    }

    @Test func deleteTakesTheLimitOutOfItsLeases() throws {
        var book = makeBook(bookLimit("a", slots: 2), bookLimit("b", slots: 2))
        let (granted, _) = try acquire(&book, SlotRequest(limits: ["a", "b"], holder: "h"), as: alice, at: t0)
        let lease = try #require(granted.grantedLease)
        let a = try book.limit(named: "a")

        let (deleted, effects) = try book.delete("a", now: at(1))
        #expect(deleted == a)
        var kept = lease
        kept.limits = ["b"]
        #expect(effects.changes == [.deleteLimit(a.id), .saveLease(kept)])
        #expect(effects.catalogChanged)
        #expect(effects.replies.isEmpty)
        #expect(book.lease(lease.id) == kept)
        #expect(try book.taken("b", at: at(1)) == 1)
        #expect(book.catalog() == LimitCatalogView(names: ["b"], runLimitNames: [], generation: 2))
        #expect(throws: DroverError.self) { try book.limit(named: "a") }

        // A new limit of the same name starts empty: the old lease does not count against it.
        _ = try book.create(bookLimit("a", slots: 1))
        #expect(try book.taken("a", at: at(2)) == 0)
        #expect(try book.status(of: "a", now: at(2)).leases.isEmpty)
    }

    @Test func resetFreesTheSlotsButKeepsTheLeasesAndTheCatalog() throws {
        var book = makeBook(bookLimit("a", slots: 2), bookLimit("b", slots: 2))
        let (first, _) = try acquire(&book, SlotRequest(limits: ["a", "b"], slots: 2, holder: "h"), as: alice, at: t0)
        let lease = try #require(first.grantedLease)

        let (limit, effects) = try book.reset("a", now: at(4))
        #expect(limit.updated == at(4))
        var kept = lease
        kept.limits = ["b"]
        #expect(effects.changes == [.saveLimit(limit), .saveLease(kept)])
        #expect(!effects.catalogChanged)
        #expect(book.generation == 1)
        #expect(try book.taken("a", at: at(4)) == 0)
        #expect(try book.taken("b", at: at(4)) == 2)
        #expect(book.lease(lease.id) == kept)

        // Releasing the lease later does not take "a" below zero.
        let released = book.release(leaseIDs: [lease.id], holders: [], now: at(5))
        #expect(released.leases == 1)
        #expect(try book.taken("a", at: at(5)) == 0)
        #expect(try book.taken("b", at: at(5)) == 0)
        let (again, _) = try acquire(&book, SlotRequest(limits: ["a"], slots: 2, wait: false), as: bob, at: at(5))
        #expect(again.grantedLease != nil)
    }

    // MARK: Granting

    @Test func anAcquireWithRoomIsGrantedALeaseAtOnce() throws {
        var book = makeBook(bookLimit("db", slots: 3))
        let (outcome, effects) = try acquire(
            &book, SlotRequest(limits: ["db"], slots: 2, holder: "flow-run/1"), as: alice, at: at(10))
        let lease = try #require(outcome.grantedLease)
        #expect(lease.holder == "flow-run/1")
        #expect(lease.limits == ["db"])
        #expect(lease.slots == 2)
        #expect(lease.ttl == LimitBook.Settings().defaultLeaseTTL)
        #expect(lease.created == at(10))
        #expect(lease.expires == at(10 + LimitBook.Settings().defaultLeaseTTL))
        #expect(effects.changes == [.saveLease(lease)])
        #expect(!effects.catalogChanged)
        #expect(book.lease(lease.id) == lease)
        let status = try book.status(of: "db", now: at(10))
        #expect(status.activeSlots == 2)
        #expect(status.leases == [lease])
        #expect(status.waiting == 0)
        #expect(book.waitingCount == 0)
        #expect(book.nextDeadline() == lease.expires)
    }

    @Test func anAcquireTakesAllItsLimitsOrNone() throws {
        var book = makeBook(bookLimit("a", slots: 2), bookLimit("b", slots: 1), bookLimit("c", slots: 5))
        _ = try acquire(&book, SlotRequest(limits: ["b"]), as: alice, at: t0)

        let (outcome, effects) = try acquire(&book, SlotRequest(limits: ["a", "b", "c"], wait: false), as: bob, at: at(1))
        #expect(outcome.denialReason == .busy)
        #expect(effects.changes.isEmpty)
        if case .denied(let denial) = outcome {
            #expect(denial.message.contains("'b'"))
            #expect(!denial.message.contains("'a'"))
            #expect(denial.retryAfter == nil)
        }
        #expect(try book.taken("a", at: at(1)) == 0)
        #expect(try book.taken("b", at: at(1)) == 1)
        #expect(try book.taken("c", at: at(1)) == 0)
        #expect(book.waitingCount == 0)

        let (both, _) = try acquire(&book, SlotRequest(limits: ["a", "c"], slots: 2), as: carol, at: at(1))
        #expect(both.grantedLease?.limits == ["a", "c"])
        #expect(try book.taken("a", at: at(1)) == 2)
        #expect(try book.taken("c", at: at(1)) == 2)
    }

    @Test func aWaitIsQueuedWithItsPlaceAndWhatBlocksIt() throws {
        var book = makeBook(bookLimit("a", slots: 1), bookLimit("b", slots: 1), bookLimit("c", slots: 1))
        _ = try acquire(&book, SlotRequest(limits: ["a"]), as: alice, at: t0)

        let (first, firstEffects) = try acquire(&book, SlotRequest(limits: ["a", "b"]), as: bob, at: at(1))
        #expect(first == .queued(position: 1, blocking: ["a"]))
        #expect(firstEffects.changes.isEmpty)
        // "b" has room but "bob" waits for it: it blocks anyone after him.
        let (second, _) = try acquire(&book, SlotRequest(limits: ["b"]), as: carol, at: at(2))
        #expect(second == .queued(position: 2, blocking: ["b"]))
        let (third, _) = try acquire(&book, SlotRequest(limits: ["b", "c"]), as: dave, at: at(3))
        #expect(third == .queued(position: 3, blocking: ["b"]))
        #expect(book.waitingCount == 3)
        #expect(try book.status(of: "a", now: at(3)).waiting == 1)
        #expect(try book.status(of: "b", now: at(3)).waiting == 3)
        #expect(try book.status(of: "c", now: at(3)).waiting == 1)

        // On "c" only dave is ahead.
        let (fourth, _) = try acquire(&book, SlotRequest(limits: ["c"]), as: slotRequester(5), at: at(4))
        #expect(fourth == .queued(position: 2, blocking: ["c"]))
    }

    @Test func aTryThatFindsNoRoomIsDeniedAndNotQueued() throws {
        var book = makeBook(bookLimit("a", slots: 1))
        _ = try acquire(&book, SlotRequest(limits: ["a"]), as: alice, at: t0)
        let (outcome, effects) = try acquire(&book, SlotRequest(limits: ["a"], wait: false), as: bob, at: at(1))
        #expect(outcome == .denied(SlotDenial(.busy, "No free slot of 'a' right now.")))
        #expect(effects.changes.isEmpty)
        #expect(book.waitingCount == 0)
    }

    @Test func aTryIsDeniedBehindAWaiterEvenWhenThereIsRoom() throws {
        var book = makeBook(bookLimit("a", slots: 3))
        _ = try acquire(&book, SlotRequest(limits: ["a"], slots: 2), as: alice, at: t0)
        let (waiting, _) = try acquire(&book, SlotRequest(limits: ["a"], slots: 2), as: bob, at: t0)
        #expect(waiting.isQueued)
        let (outcome, _) = try acquire(&book, SlotRequest(limits: ["a"], wait: false), as: carol, at: t0)
        #expect(outcome.denialReason == .busy)
        #expect(try book.taken("a", at: t0) == 2)
    }

    // MARK: Waiters granted when room appears

    @Test func aReleaseGrantsTheWaiterInTheSameStep() throws {
        var book = makeBook(bookLimit("a", slots: 1))
        let (held, _) = try acquire(&book, SlotRequest(limits: ["a"], holder: "h1"), as: alice, at: t0)
        let lease = try #require(held.grantedLease)
        _ = try acquire(&book, SlotRequest(limits: ["a"], holder: "h2", leaseTTL: 5), as: bob, at: at(1))

        let (leases, waiters, effects) = book.release(leaseIDs: [lease.id], holders: [], now: at(2))
        #expect(leases == 1)
        #expect(waiters == 0)
        #expect(effects.answered == [bob])
        let granted = try #require(effects.grantedLeases.first)
        #expect(granted.holder == "h2")
        #expect(granted.ttl == 5)
        #expect(granted.created == at(2))
        #expect(granted.expires == at(7))
        #expect(effects.changes == [.deleteLease(lease.id), .saveLease(granted)])
        #expect(book.lease(lease.id) == nil)
        #expect(book.waitingCount == 0)
        #expect(try book.status(of: "a", now: at(2)).leases == [granted])
    }

    @Test func anExpiredLeaseIsReclaimedAtTheTickAndItsRoomGranted() throws {
        var book = makeBook(bookLimit("a", slots: 1))
        let (held, _) = try acquire(&book, SlotRequest(limits: ["a"], leaseTTL: 10), as: alice, at: t0)
        let lease = try #require(held.grantedLease)
        _ = try acquire(&book, SlotRequest(limits: ["a"]), as: bob, at: at(1))
        #expect(book.nextDeadline() == at(10))

        #expect(book.tick(now: at(9.5)).isEmpty)
        #expect(book.lease(lease.id) != nil)

        let effects = book.tick(now: at(10))
        let granted = try #require(effects.outcome(for: bob)?.grantedLease)
        #expect(effects.changes == [.deleteLease(lease.id), .saveLease(granted)])
        #expect(book.lease(lease.id) == nil)
        #expect(try book.taken("a", at: at(10)) == 1)
        #expect(book.nextDeadline() == granted.expires)
    }

    @Test func raisingALimitGrantsWaitersInOrder() throws {
        var book = makeBook(bookLimit("a", slots: 1))
        _ = try acquire(&book, SlotRequest(limits: ["a"]), as: alice, at: t0)
        _ = try acquire(&book, SlotRequest(limits: ["a"]), as: bob, at: at(1))
        _ = try acquire(&book, SlotRequest(limits: ["a"]), as: carol, at: at(2))
        _ = try acquire(&book, SlotRequest(limits: ["a"]), as: dave, at: at(3))

        let (limit, effects) = try book.update("a", .init(slots: 3), now: at(4))
        #expect(effects.answered == [bob, carol])
        #expect(effects.changes.count == 3)
        #expect(effects.changes.first == .saveLimit(limit))
        #expect(Array(effects.changes.dropFirst()) == effects.grantedLeases.map { .saveLease($0) })
        #expect(book.waitingCount == 1)
        #expect(try book.taken("a", at: at(4)) == 3)
    }

    @Test func disablingALimitLetsItsWaitersGo() throws {
        var book = makeBook(bookLimit("a", slots: 1), bookLimit("b", slots: 5))
        _ = try acquire(&book, SlotRequest(limits: ["a"]), as: alice, at: t0)
        _ = try acquire(&book, SlotRequest(limits: ["a", "b"]), as: bob, at: at(1))

        let (_, effects) = try book.update("a", .init(isActive: false), now: at(2))
        let granted = try #require(effects.outcome(for: bob)?.grantedLease)
        // It still names the disabled limit, so re-enabling counts it.
        #expect(granted.limits == ["a", "b"])
        #expect(try book.taken("b", at: at(2)) == 1)
        #expect(book.catalog().names == ["b"])

        // While disabled, "a" is not enforced at all.
        let (third, _) = try acquire(&book, SlotRequest(limits: ["a"], slots: 1, wait: false), as: carol, at: at(3))
        #expect(third.grantedLease != nil)
        _ = try book.update("a", .init(isActive: true), now: at(4))
        #expect(try book.taken("a", at: at(4)) == 3)
        let (fourth, _) = try acquire(&book, SlotRequest(limits: ["a"], wait: false), as: dave, at: at(4))
        #expect(fourth.denialReason == .busy)
    }

    @Test func deletingALimitLetsItsWaitersGo() throws {
        var book = makeBook(bookLimit("a", slots: 1), bookLimit("b", slots: 5))
        _ = try acquire(&book, SlotRequest(limits: ["a"]), as: alice, at: t0)
        _ = try acquire(&book, SlotRequest(limits: ["a", "b"]), as: bob, at: at(1))
        _ = try acquire(&book, SlotRequest(limits: ["a"]), as: carol, at: at(1))

        let (_, effects) = try book.delete("a", now: at(2))
        #expect(effects.answered == [bob, carol])
        let leases = effects.grantedLeases
        // The leases granted hold no slot of the limit that is gone, in the store or in the reply.
        #expect(leases.map(\.limits) == [["b"], []])
        for lease in leases {
            #expect(book.lease(lease.id) == lease)
            #expect(effects.changes.contains(.saveLease(lease)))
        }
        #expect(book.waitingCount == 0)

        // A new "a" is empty: none of those leases count against it.
        _ = try book.create(bookLimit("a", slots: 1))
        #expect(try book.taken("a", at: at(3)) == 0)
        let (again, _) = try acquire(&book, SlotRequest(limits: ["a"], wait: false), as: dave, at: at(3))
        #expect(again.grantedLease != nil)
    }

    @Test func resettingALimitLetsItsWaitersGo() throws {
        var book = makeBook(bookLimit("a", slots: 1))
        let (held, _) = try acquire(&book, SlotRequest(limits: ["a"]), as: alice, at: t0)
        let lease = try #require(held.grantedLease)
        _ = try acquire(&book, SlotRequest(limits: ["a"]), as: bob, at: at(1))

        let (_, effects) = try book.reset("a", now: at(2))
        let granted = try #require(effects.outcome(for: bob)?.grantedLease)
        #expect(granted.limits == ["a"])
        #expect(book.lease(lease.id)?.limits == [])
        #expect(try book.status(of: "a", now: at(2)).leases == [granted])
        #expect(try book.taken("a", at: at(2)) == 1)
    }

    // MARK: First come, first served

    @Test func aLaterSmallRequestNeverPassesAnEarlierWaiterOnTheSameLimit() throws {
        var book = makeBook(bookLimit("a", slots: 2))
        let first = try #require(try acquire(&book, SlotRequest(limits: ["a"]), as: alice, at: t0).0.grantedLease)
        let second = try #require(try acquire(&book, SlotRequest(limits: ["a"]), as: bob, at: t0).0.grantedLease)
        let (big, _) = try acquire(&book, SlotRequest(limits: ["a"], slots: 2), as: carol, at: at(1))
        #expect(big == .queued(position: 1, blocking: ["a"]))
        let (small, _) = try acquire(&book, SlotRequest(limits: ["a"], slots: 1), as: dave, at: at(2))
        #expect(small == .queued(position: 2, blocking: ["a"]))

        // One slot frees: enough for dave, not for carol, and dave must not pass her.
        let one = book.release(leaseIDs: [first.id], holders: [], now: at(3))
        #expect(one.effects.replies.isEmpty)
        #expect(one.effects.changes == [.deleteLease(first.id)])
        #expect(try book.taken("a", at: at(3)) == 1)

        let two = book.release(leaseIDs: [second.id], holders: [], now: at(4))
        #expect(two.effects.answered == [carol])
        let carols = try #require(two.effects.grantedLeases.first)

        let three = book.release(leaseIDs: [carols.id], holders: [], now: at(5))
        #expect(three.effects.answered == [dave])
        #expect(book.waitingCount == 0)
    }

    @Test func waitersOnLimitsTheyDoNotShareDoNotWaitForEachOther() throws {
        var book = makeBook(bookLimit("a", slots: 1), bookLimit("b", slots: 1))
        _ = try acquire(&book, SlotRequest(limits: ["a"]), as: alice, at: t0)
        let onB = try #require(try acquire(&book, SlotRequest(limits: ["b"]), as: bob, at: t0).0.grantedLease)
        let (waitsA, _) = try acquire(&book, SlotRequest(limits: ["a"]), as: carol, at: at(1))
        #expect(waitsA == .queued(position: 1, blocking: ["a"]))
        let (waitsB, _) = try acquire(&book, SlotRequest(limits: ["b"]), as: dave, at: at(2))
        #expect(waitsB == .queued(position: 1, blocking: ["b"]))

        // Room on "b" goes to the waiter on "b", though a waiter on "a" came first.
        let released = book.release(leaseIDs: [onB.id], holders: [], now: at(3))
        #expect(released.effects.answered == [dave])
        #expect(book.waitingCount == 1)

        // And a new Acquire on a limit no one waits for is granted at once.
        var other = makeBook(bookLimit("a", slots: 1), bookLimit("c", slots: 1))
        _ = try acquire(&other, SlotRequest(limits: ["a"]), as: alice, at: t0)
        _ = try acquire(&other, SlotRequest(limits: ["a"]), as: bob, at: t0)
        let (onC, _) = try acquire(&other, SlotRequest(limits: ["c"]), as: carol, at: t0)
        #expect(onC.grantedLease != nil)
    }

    // MARK: Timeouts

    @Test func aWaitThatRunsPastItsTimeoutIsDeniedAtTheTick() throws {
        var book = makeBook(bookLimit("a", slots: 2))
        let held = try #require(try acquire(&book, SlotRequest(limits: ["a"], leaseTTL: 100), as: alice, at: t0).0.grantedLease)
        _ = try acquire(&book, SlotRequest(limits: ["a"], slots: 2, timeout: 5), as: bob, at: at(1))
        // Carol fits, but waits behind bob.
        let (behind, _) = try acquire(&book, SlotRequest(limits: ["a"]), as: carol, at: at(2))
        #expect(behind == .queued(position: 2, blocking: ["a"]))
        #expect(book.nextDeadline() == at(6))

        #expect(book.tick(now: at(5.9)).isEmpty)
        let effects = book.tick(now: at(6))
        #expect(effects.answered == [bob, carol])
        #expect(effects.outcome(for: bob) == .denied(SlotDenial(.timedOut, "Timed out waiting for a slot of 'a'.")))
        let carols = try #require(effects.outcome(for: carol)?.grantedLease)
        #expect(effects.changes == [.saveLease(carols)])
        #expect(book.waitingCount == 0)
        #expect(book.nextDeadline() == min(held.expires, carols.expires))
    }

    @Test func aZeroTimeoutWaitsUntilTheNextTick() throws {
        var book = makeBook(bookLimit("a", slots: 1))
        _ = try acquire(&book, SlotRequest(limits: ["a"]), as: alice, at: t0)
        let (outcome, _) = try acquire(&book, SlotRequest(limits: ["a"], timeout: 0), as: bob, at: at(3))
        #expect(outcome.isQueued)
        #expect(book.nextDeadline() == at(3))
        #expect(book.tick(now: at(3)).outcome(for: bob)?.denialReason == .timedOut)
    }

    @Test func aWaiterGrantedBeforeItsTimeoutIsNotDeniedLater() throws {
        var book = makeBook(bookLimit("a", slots: 1))
        let held = try #require(try acquire(&book, SlotRequest(limits: ["a"]), as: alice, at: t0).0.grantedLease)
        _ = try acquire(&book, SlotRequest(limits: ["a"], timeout: 5), as: bob, at: at(1))
        let released = book.release(leaseIDs: [held.id], holders: [], now: at(2))
        #expect(released.effects.outcome(for: bob)?.grantedLease != nil)
        #expect(book.tick(now: at(6)).replies.isEmpty)
    }

    // MARK: Sizes

    @Test func askingForMoreSlotsThanALimitHasIsAnError() throws {
        var book = makeBook(bookLimit("a", slots: 2), bookLimit("off", slots: 1, active: false))
        let error = try #require(throws: DroverError.self) {
            try book.acquire(SlotRequest(limits: ["a"], slots: 3), from: alice, now: t0)
        }
        #expect(error.code == .invalidArgument)
        #expect(error.message.contains("'a' has 2 slots"))
        #expect(book.waitingCount == 0)
        // A disabled limit is not enforced, so its size does not matter.
        let (outcome, _) = try acquire(&book, SlotRequest(limits: ["off"], slots: 3), as: bob, at: t0)
        #expect(outcome.grantedLease != nil)
    }

    @Test func aLimitOfZeroHoldsEveryoneUntilRaised() throws {
        var book = makeBook(bookLimit("a", slots: 0))
        let (waits, _) = try acquire(&book, SlotRequest(limits: ["a"], slots: 3), as: alice, at: t0)
        #expect(waits == .queued(position: 1, blocking: ["a"]))
        let (tries, _) = try acquire(&book, SlotRequest(limits: ["a"], wait: false), as: bob, at: t0)
        #expect(tries.denialReason == .busy)
        #expect(book.tick(now: at(1000)).isEmpty)

        let (_, effects) = try book.update("a", .init(slots: 3), now: at(1001))
        #expect(effects.outcome(for: alice)?.grantedLease?.slots == 3)
    }

    @Test func loweringALimitBelowAWaitersNeedWithdrawsIt() throws {
        var book = makeBook(bookLimit("a", slots: 4), bookLimit("b", slots: 4))
        _ = try acquire(&book, SlotRequest(limits: ["a"], slots: 4), as: alice, at: t0)
        _ = try acquire(&book, SlotRequest(limits: ["a", "b"], slots: 3), as: bob, at: at(1))
        _ = try acquire(&book, SlotRequest(limits: ["a"], slots: 2), as: carol, at: at(2))

        let (_, effects) = try book.update("a", .init(slots: 2), now: at(3))
        #expect(effects.answered == [bob])
        #expect(
            effects.outcome(for: bob)
                == .denied(SlotDenial(.withdrawn, "'a' now has 2 slots, fewer than the 3 asked for.")))
        #expect(book.waitingCount == 1)
        #expect(try book.status(of: "b", now: at(3)).waiting == 0)

        // The lease above the new size stays; no one gets in until enough is released.
        #expect(try book.taken("a", at: at(3)) == 4)
        let (tries, _) = try acquire(&book, SlotRequest(limits: ["a"], wait: false), as: dave, at: at(3))
        #expect(tries.denialReason == .busy)

        // Lowering to 0 withdraws no one: a limit of 0 holds rather than refuses.
        let (_, zero) = try book.update("a", .init(slots: 0), now: at(4))
        #expect(zero.replies.isEmpty)
        #expect(book.waitingCount == 1)
    }

    @Test func enablingALimitSmallerThanAWaitersNeedWithdrawsIt() throws {
        var book = makeBook(bookLimit("a", slots: 1, active: false), bookLimit("b", slots: 2))
        _ = try acquire(&book, SlotRequest(limits: ["b"]), as: alice, at: t0)
        // "a" is not enforced, so asking it for 2 is no error; "b" is full for 2.
        let (waits, _) = try acquire(&book, SlotRequest(limits: ["a", "b"], slots: 2), as: bob, at: t0)
        #expect(waits == .queued(position: 1, blocking: ["b"]))
        let (_, effects) = try book.update("a", .init(isActive: true), now: at(1))
        #expect(effects.outcome(for: bob)?.denialReason == .withdrawn)
        #expect(book.waitingCount == 0)
        // Once enforced, asking it for more than it has is an error.
        let error = try #require(throws: DroverError.self) {
            try book.acquire(SlotRequest(limits: ["a"], slots: 2), from: carol, now: at(1))
        }
        #expect(error.code == .invalidArgument)
    }

    // MARK: Names

    @Test func aStrictAcquireOfAMissingLimitIsNotFound() throws {
        var book = makeBook(bookLimit("a", slots: 1))
        let error = try #require(throws: DroverError.self) {
            try book.acquire(SlotRequest(limits: ["a", "nope"], strict: true), from: alice, now: t0)
        }
        #expect(error == .notFound("No concurrency limit named 'nope'."))
        #expect(try book.taken("a", at: t0) == 0)
    }

    @Test func aLaxAcquireIgnoresMissingLimits() throws {
        var book = makeBook(bookLimit("a", slots: 1))
        let (outcome, _) = try acquire(&book, SlotRequest(limits: ["nope", "a", "a"]), as: alice, at: t0)
        #expect(outcome.grantedLease?.limits == ["a"])
        #expect(try book.taken("a", at: t0) == 1)

        let (none, effects) = try acquire(&book, SlotRequest(limits: ["nope"], wait: false), as: bob, at: t0)
        let lease = try #require(none.grantedLease)
        #expect(lease.limits == [])
        #expect(effects.changes == [.saveLease(lease)])
    }

    @Test func runLimitsAreTakenOnlyWhenAskedFor() throws {
        var book = makeBook(
            bookLimit("tag:gpu", slots: 2), bookLimit("zz-runs", slots: 5, allRuns: true),
            bookLimit("all-runs", slots: 5, allRuns: true), bookLimit("off-runs", slots: 5, active: false, allRuns: true))
        let (with, _) = try acquire(
            &book, SlotRequest(limits: ["tag:gpu", "zz-runs"], includeRunLimits: true), as: alice, at: t0)
        #expect(with.grantedLease?.limits == ["tag:gpu", "zz-runs", "all-runs"])
        let (without, _) = try acquire(&book, SlotRequest(limits: ["tag:gpu"]), as: bob, at: t0)
        #expect(without.grantedLease?.limits == ["tag:gpu"])
        let (onlyRuns, _) = try acquire(&book, SlotRequest(limits: [], includeRunLimits: true), as: carol, at: t0)
        #expect(onlyRuns.grantedLease?.limits == ["all-runs", "zz-runs"])
        #expect(try book.taken("all-runs", at: t0) == 2)
        #expect(try book.taken("zz-runs", at: t0) == 2)
        #expect(try book.taken("off-runs", at: t0) == 0)
    }

    @Test func askingForMoreSlotsThanARunLimitHasIsAnError() throws {
        var book = makeBook(
            bookLimit("tag:gpu", slots: 5), bookLimit("runs", slots: 2, allRuns: true),
            bookLimit("off-runs", slots: 1, active: false, allRuns: true), bookLimit("zero-runs", slots: 0, allRuns: true))
        let error = try #require(throws: DroverError.self) {
            try book.acquire(SlotRequest(limits: ["tag:gpu"], slots: 3, includeRunLimits: true), from: alice, now: t0)
        }
        #expect(error.code == .invalidArgument)
        #expect(error.message.contains("'runs' has 2 slots"))
        #expect(book.waitingCount == 0)
        // Without the run limits, or within them, it is fine; a limit of 0 holds rather than refuses.
        let (without, _) = try acquire(&book, SlotRequest(limits: ["tag:gpu"], slots: 3), as: bob, at: t0)
        #expect(without.grantedLease != nil)
        let (within, _) = try acquire(&book, SlotRequest(limits: ["tag:gpu"], slots: 2, includeRunLimits: true), as: carol, at: t0)
        #expect(within == .queued(position: 1, blocking: ["zero-runs"]))
    }

    @Test func aRequestThatIsWrongInItselfIsAnError() throws {
        var settings = LimitBook.Settings()
        settings.maximumNamesPerAcquire = 3
        var book = LimitBook(settings: settings, limits: [bookLimit("a", slots: 5)], now: t0)
        let bad: [SlotRequest] = [
            SlotRequest(limits: ["a"], slots: 0),
            SlotRequest(limits: ["a"], slots: ConcurrencyLimit.maximum + 1),
            SlotRequest(limits: []),
            SlotRequest(limits: ["a", "b", "c", "d"]),
            SlotRequest(limits: ["a"], leaseTTL: 0.5),
            SlotRequest(limits: ["a"], leaseTTL: 86_401),
            SlotRequest(limits: ["a"], leaseTTL: .infinity),
            SlotRequest(limits: ["a"], leaseTTL: .nan),
            SlotRequest(limits: ["a"], timeout: -1),
            SlotRequest(limits: ["a"], timeout: .nan),
            SlotRequest(limits: ["a"], timeout: .infinity),
            SlotRequest(limits: ["a/b"]),
            SlotRequest(limits: [""]),
        ]
        for request in bad {
            let error = try #require(throws: DroverError.self, "\(request)") {
                try book.acquire(request, from: alice, now: t0)
            }
            #expect(error.code == .invalidArgument, "\(request)")
        }
        #expect(try book.taken("a", at: t0) == 0)
        #expect(book.waitingCount == 0)
        // The bounds themselves are fine.
        let (shortest, _) = try acquire(&book, SlotRequest(limits: ["a"], leaseTTL: 1), as: bob, at: t0)
        #expect(shortest.grantedLease?.expires == at(1))
        let (longest, _) = try acquire(&book, SlotRequest(limits: ["a"], leaseTTL: 86_400), as: carol, at: t0)
        #expect(longest.grantedLease?.expires == at(86_400))
    }

    // MARK: Asking again

    @Test func theSameHolderAskingAgainGetsItsLeaseRenewed() throws {
        var book = makeBook(bookLimit("a", slots: 10), bookLimit("b", slots: 10))
        let request = SlotRequest(limits: ["a", "b"], holder: "flow-run/1", leaseTTL: 10)
        let first = try #require(try acquire(&book, request, as: alice, at: t0).0.grantedLease)

        var reordered = request
        reordered.limits = ["b", "a", "missing"]
        let (again, effects) = try acquire(&book, reordered, as: bob, at: at(4))
        let renewed = try #require(again.grantedLease)
        #expect(renewed.id == first.id)
        #expect(renewed.expires == at(14))
        #expect(effects.changes == [.saveLease(renewed)])
        #expect(try book.taken("a", at: at(4)) == 1)
        #expect(book.lease(first.id) == renewed)

        // The first expiry passes without freeing it.
        #expect(book.tick(now: at(10)).isEmpty)
        #expect(book.lease(first.id) != nil)

        // Other slots, other limits, or no holder: a new lease.
        var more = request
        more.slots = 2
        #expect(try acquire(&book, more, as: carol, at: at(5)).0.grantedLease?.id != first.id)
        var fewer = request
        fewer.limits = ["a"]
        #expect(try acquire(&book, fewer, as: carol, at: at(5)).0.grantedLease?.id != first.id)
        let anonymous = SlotRequest(limits: ["b"])
        let one = try #require(try acquire(&book, anonymous, as: dave, at: at(5)).0.grantedLease)
        let two = try #require(try acquire(&book, anonymous, as: dave, at: at(5)).0.grantedLease)
        #expect(one.id != two.id)
        #expect(try book.taken("a", at: at(5)) == 1 + 2 + 1)
        #expect(try book.taken("b", at: at(5)) == 1 + 2 + 1 + 1)
        #expect(book.waitingCount == 0)
    }

    @Test func theSameHolderAskingAgainWhileWaitingKeepsItsPlaceWithTheNewRequester() throws {
        var book = makeBook(bookLimit("a", slots: 1))
        let held = try #require(try acquire(&book, SlotRequest(limits: ["a"]), as: alice, at: t0).0.grantedLease)
        let request = SlotRequest(limits: ["a"], holder: "flow-run/2")
        _ = try acquire(&book, request, as: bob, at: at(1))
        _ = try acquire(&book, SlotRequest(limits: ["a"], holder: "flow-run/3"), as: carol, at: at(2))

        let resent = slotRequester(20, client: 2)
        let (again, effects) = try acquire(&book, request, as: resent, at: at(3))
        #expect(again == .queued(position: 1, blocking: ["a"]))
        #expect(effects.changes.isEmpty)
        #expect(book.waitingCount == 2)

        let released = book.release(leaseIDs: [held.id], holders: [], now: at(4))
        #expect(released.effects.answered == [resent])
        #expect(released.effects.grantedLeases.first?.holder == "flow-run/2")
    }

    // MARK: Releasing and renewing

    @Test func releasingIsIdempotent() throws {
        var book = makeBook(bookLimit("a", slots: 1))
        let lease = try #require(try acquire(&book, SlotRequest(limits: ["a"], holder: "h"), as: alice, at: t0).0.grantedLease)
        let first = book.release(leaseIDs: [lease.id, lease.id], holders: [], now: at(1))
        #expect(first.leases == 1)
        #expect(first.effects.changes == [.deleteLease(lease.id)])

        let second = book.release(leaseIDs: [lease.id, UUID()], holders: ["h", "nobody"], now: at(2))
        #expect(second.leases == 0)
        #expect(second.waiters == 0)
        #expect(second.effects.isEmpty)
        #expect(try book.taken("a", at: at(2)) == 0)
    }

    @Test func releasingAHolderFreesItsLeasesAndWithdrawsItsWaits() throws {
        var book = makeBook(bookLimit("a", slots: 2), bookLimit("b", slots: 1))
        let one = try #require(try acquire(&book, SlotRequest(limits: ["a"], holder: "h"), as: alice, at: t0).0.grantedLease)
        let two = try #require(try acquire(&book, SlotRequest(limits: ["b"], holder: "h"), as: alice, at: t0).0.grantedLease)
        let other = try #require(try acquire(&book, SlotRequest(limits: ["a"], holder: "o"), as: bob, at: t0).0.grantedLease)
        _ = try acquire(&book, SlotRequest(limits: ["a"], slots: 2, holder: "h"), as: slotRequester(9), at: at(1))
        _ = try acquire(&book, SlotRequest(limits: ["b"], holder: "w"), as: carol, at: at(2))
        #expect(book.waitingCount == 2)

        let released = book.release(leaseIDs: [], holders: ["h"], now: at(3))
        #expect(released.leases == 2)
        #expect(released.waiters == 1)
        #expect(released.effects.changes.count == 3)  // two deleted, one granted
        #expect(released.effects.changes.contains(.deleteLease(one.id)))
        #expect(released.effects.changes.contains(.deleteLease(two.id)))
        // Only carol is answered: the withdrawn waiter is not.
        #expect(released.effects.answered == [carol])
        #expect(book.lease(other.id) != nil)
        #expect(book.waitingCount == 0)
        #expect(try book.taken("a", at: at(3)) == 1)
        #expect(try book.taken("b", at: at(3)) == 1)
    }

    @Test func releasingByLeaseIDLeavesTheHoldersWaits() throws {
        var book = makeBook(bookLimit("a", slots: 1), bookLimit("b", slots: 1))
        let lease = try #require(try acquire(&book, SlotRequest(limits: ["a"], holder: "h"), as: alice, at: t0).0.grantedLease)
        _ = try acquire(&book, SlotRequest(limits: ["b"], holder: "o"), as: bob, at: t0)
        _ = try acquire(&book, SlotRequest(limits: ["b"], holder: "h"), as: alice, at: at(1))
        #expect(book.waitingCount == 1)
        let released = book.release(leaseIDs: [lease.id], holders: [], now: at(2))
        #expect(released.leases == 1)
        #expect(released.waiters == 0)
        #expect(released.effects.changes == [.deleteLease(lease.id)])
        #expect(book.waitingCount == 1)
        // And by holder, its wait goes too.
        let byHolder = book.release(leaseIDs: [], holders: ["h"], now: at(3))
        #expect(byHolder.leases == 0)
        #expect(byHolder.waiters == 1)
        #expect(book.waitingCount == 0)
    }

    @Test func renewingExtendsLeasesAndReportsWhatItDoesNotKnow() throws {
        var book = makeBook(bookLimit("a", slots: 5))
        let one = try #require(try acquire(&book, SlotRequest(limits: ["a"], holder: "h", leaseTTL: 10), as: alice, at: t0).0.grantedLease)
        let two = try #require(
            try acquire(&book, SlotRequest(limits: ["a"], slots: 2, holder: "h", leaseTTL: 20), as: alice, at: t0).0.grantedLease)
        let three = try #require(try acquire(&book, SlotRequest(limits: ["a"], holder: "k", leaseTTL: 5), as: bob, at: t0).0.grantedLease)
        _ = try acquire(&book, SlotRequest(limits: ["a"], slots: 5, holder: "waiting-only"), as: carol, at: t0)
        let stranger = UUID()

        let result = book.renew(leaseIDs: [three.id, stranger], holders: ["h", "nobody", "waiting-only"], now: at(4))
        #expect(result.unknownLeaseIDs == [stranger])
        #expect(result.unknownHolders == ["nobody"])
        #expect(Set(result.renewed.map(\.id)) == [one.id, two.id, three.id])
        #expect(book.lease(one.id)?.expires == at(14))
        #expect(book.lease(two.id)?.expires == at(24))
        #expect(book.lease(three.id)?.expires == at(9))
        #expect(result.effects.changes.count == 3)
        for lease in result.renewed { #expect(result.effects.changes.contains(.saveLease(lease))) }
        #expect(result.effects.replies.isEmpty)

        // The old expiries pass quietly; the new ones free the slots.
        #expect(book.tick(now: at(5)).isEmpty)
        #expect(book.tick(now: at(8.9)).isEmpty)
        #expect(try book.taken("a", at: at(8.9)) == 4)
        let expired = book.tick(now: at(9))
        #expect(expired.changes == [.deleteLease(three.id)])
        #expect(try #require(book.nextDeadline()) <= at(14))
        #expect(book.lease(three.id) == nil)

        let late = book.renew(leaseIDs: [three.id], holders: ["k"], now: at(10))
        #expect(late.unknownLeaseIDs == [three.id])
        #expect(late.unknownHolders == ["k"])
        #expect(late.effects.isEmpty)
    }

    @Test func aRequesterThatIsGoneLeavesNothingTaken() throws {
        var book = makeBook(bookLimit("a", slots: 1), bookLimit("b", slots: 1))
        let lease = try #require(try acquire(&book, SlotRequest(limits: ["a"]), as: alice, at: t0).0.grantedLease)
        _ = try acquire(&book, SlotRequest(limits: ["a"]), as: bob, at: at(1))
        _ = try acquire(&book, SlotRequest(limits: ["a"]), as: carol, at: at(2))
        _ = try acquire(&book, SlotRequest(limits: ["b"]), as: alice, at: at(2))  // granted

        // Bob goes away: his wait is withdrawn, with no reply to him.
        let bobGone = book.requesterGone(bob, lease: nil, now: at(3))
        #expect(bobGone.isEmpty)
        #expect(book.waitingCount == 1)

        // Alice's grant could not be delivered: her lease is freed and carol gets in.
        let aliceGone = book.requesterGone(alice, lease: lease.id, now: at(4))
        #expect(aliceGone.answered == [carol])
        let carols = try #require(aliceGone.outcome(for: carol)?.grantedLease)
        #expect(aliceGone.changes == [.deleteLease(lease.id), .saveLease(carols)])
        #expect(book.lease(lease.id) == nil)
        #expect(book.waitingCount == 0)

        // Twice does nothing more.
        #expect(book.requesterGone(alice, lease: lease.id, now: at(5)).isEmpty)
    }

    // MARK: Rate limits

    @Test func aRateLimitGrantsSlotsThatDecay() throws {
        var book = makeBook(bookLimit("api", slots: 2, decay: 1))
        let (first, effects) = try acquire(&book, SlotRequest(limits: ["api"], holder: "h", mode: .rateLimit), as: alice, at: t0)
        let receipt = try #require(first.grantedLease)
        #expect(receipt.limits == [])
        #expect(receipt.slots == 1)
        #expect(receipt.holder == "h")
        #expect(effects.changes.isEmpty)
        #expect(book.lease(receipt.id) == nil)
        #expect(try book.taken("api", at: t0) == 1)

        _ = try acquire(&book, SlotRequest(limits: ["api"], mode: .rateLimit), as: bob, at: t0)
        #expect(try book.taken("api", at: t0) == 2)
        #expect(try book.taken("api", at: at(0.5)) == 2)  // 1.5, rounded up
        #expect(try book.taken("api", at: at(1)) == 1)
        #expect(try book.taken("api", at: at(2)) == 0)
        #expect(try book.status(of: "api", now: at(0.5)).leases.isEmpty)
        // Nothing to tick for: no one waits.
        #expect(book.nextDeadline() == nil)
    }

    @Test func aRateLimitTryIsToldWhenToRetry() throws {
        var book = makeBook(bookLimit("api", slots: 2, decay: 4))
        _ = try acquire(&book, SlotRequest(limits: ["api"], slots: 2, mode: .rateLimit), as: alice, at: t0)
        let (busy, _) = try acquire(&book, SlotRequest(limits: ["api"], wait: false, mode: .rateLimit), as: bob, at: t0)
        guard case .denied(let denial) = busy else { Issue.record("not denied: \(busy)"); return }
        #expect(denial.reason == .busy)
        #expect(denial.retryAfter == 0.25)
        let (later, _) = try acquire(&book, SlotRequest(limits: ["api"], wait: false, mode: .rateLimit), as: bob, at: at(0.25))
        #expect(later.grantedLease != nil)
    }

    @Test func aRateLimitWaiterIsGrantedAtTheTickWhenDecayMakesRoom() throws {
        var book = makeBook(bookLimit("api", slots: 1, decay: 0.5))
        _ = try acquire(&book, SlotRequest(limits: ["api"], mode: .rateLimit), as: alice, at: t0)
        let (waits, _) = try acquire(&book, SlotRequest(limits: ["api"], mode: .rateLimit), as: bob, at: t0)
        #expect(waits == .queued(position: 1, blocking: ["api"]))
        #expect(book.nextDeadline() == at(2))
        #expect(book.tick(now: at(1.5)).isEmpty)

        let effects = book.tick(now: at(2))
        #expect(effects.answered == [bob])
        #expect(effects.outcome(for: bob)?.grantedLease?.limits == [])
        #expect(effects.changes.isEmpty)
        #expect(book.waitingCount == 0)
        #expect(try book.taken("api", at: at(2)) == 1)
        #expect(book.nextDeadline() == nil)
    }

    /// A client resends its rate-limit wait (after a lost reply, or to a restarted service):
    /// the holder keeps its place, and the grant goes to the latest request.
    @Test func aRateLimitWaitResentByItsHolderKeepsItsPlace() throws {
        var book = makeBook(bookLimit("api", slots: 1, decay: 0.5))
        _ = try acquire(&book, SlotRequest(limits: ["api"], mode: .rateLimit), as: alice, at: t0)
        let first = SlotRequest(limits: ["api"], holder: "script", mode: .rateLimit)
        _ = try acquire(&book, first, as: bob, at: t0)
        _ = try acquire(&book, SlotRequest(limits: ["api"], holder: "other", mode: .rateLimit), as: carol, at: t0)
        let resent = slotRequester(99)
        let (again, effects) = try acquire(&book, first, as: resent, at: t0)
        #expect(again == .queued(position: 1, blocking: ["api"]))
        #expect(effects.changes.isEmpty)
        #expect(book.waitingCount == 2)
        #expect(book.tick(now: at(2)).answered == [resent])
    }

    /// Decay is worked out in floating point on dates far from 2001: the moment `nextDeadline`
    /// names must be one at which `tick` really finds the room.
    @Test(arguments: [3.0, 7, 10, 0.3, 1.1, 0.7, 13, 1_000, 123_457, Limit.maximumDecay])
    func aTickAtTheDecayDeadlineGrantsTheWaiterWhateverTheRate(rate: Double) throws {
        for start in [0.0, 0.1, 1.0 / 3, 12_345.678] {
            var book = LimitBook(limits: [bookLimit("api", slots: 1, decay: rate)], now: at(start))
            _ = try acquire(&book, SlotRequest(limits: ["api"], mode: .rateLimit), as: alice, at: at(start))
            _ = try acquire(&book, SlotRequest(limits: ["api"], mode: .rateLimit), as: bob, at: at(start))
            let deadline = try #require(book.nextDeadline())
            #expect(abs(deadline.timeIntervalSince(at(start)) - 1 / rate) < 1e-6)
            let effects = book.tick(now: deadline)
            #expect(effects.outcome(for: bob)?.grantedLease != nil, "rate \(rate), start \(start)")
            #expect(book.waitingCount == 0)
            // And the slots taken never read more than the limit.
            #expect(try book.taken("api", at: deadline) == 1, "rate \(rate), start \(start)")
        }
    }

    /// A waiter for every slot of a rate limit that has partly decayed: `taken + slots - size`
    /// is `taken` only up to rounding, and the wait must still get a deadline.
    @Test(arguments: [3.0, 1.1, 0.7, 13, 0.3])
    func aWaiterForEverySlotOfARateLimitIsWokenWhenTheyDecay(rate: Double) throws {
        var queued = 0
        for slots in [1, 2, 3] as [UInt32] {
            for delay in [0.05, 0.1, 0.2, 0.3, 0.7, 1.3] {
                var book = LimitBook(limits: [bookLimit("api", slots: slots, decay: rate)], now: t0)
                let request = SlotRequest(limits: ["api"], slots: slots, mode: .rateLimit)
                _ = try acquire(&book, request, as: alice, at: t0)
                let (waits, _) = try acquire(&book, request, as: bob, at: at(delay))
                guard waits.isQueued else { continue }
                queued += 1
                let deadline = try #require(book.nextDeadline(), "rate \(rate), \(slots) slots, after \(delay) s")
                let effects = book.tick(now: deadline)
                #expect(effects.outcome(for: bob)?.grantedLease != nil, "rate \(rate), \(slots) slots, after \(delay) s")
                // Full, and never read as more than full.
                #expect(try book.taken("api", at: deadline) == slots, "rate \(rate), \(slots) slots, after \(delay) s")
            }
        }
        #expect(queued > 5)
    }

    @Test func rateModeOnALimitWithoutDecayIsAnError() throws {
        var book = makeBook(bookLimit("db", slots: 2))
        let error = try #require(throws: DroverError.self) {
            try book.acquire(SlotRequest(limits: ["db"], mode: .rateLimit), from: alice, now: t0)
        }
        #expect(error.code == .invalidArgument)
        #expect(error.message.contains("'db' is not a rate limit"))
        #expect(try book.taken("db", at: t0) == 0)
    }

    @Test func leasesAndDecayingSlotsShareARateLimit() throws {
        var book = makeBook(bookLimit("api", slots: 2, decay: 1))
        let lease = try #require(try acquire(&book, SlotRequest(limits: ["api"]), as: alice, at: t0).0.grantedLease)
        _ = try acquire(&book, SlotRequest(limits: ["api"], mode: .rateLimit), as: bob, at: t0)
        let (waits, _) = try acquire(&book, SlotRequest(limits: ["api"], slots: 2, mode: .rateLimit), as: carol, at: t0)
        #expect(waits.isQueued)
        // The lease blocks too, so decay alone makes no deadline.
        #expect(book.nextDeadline() == lease.expires)
        #expect(book.tick(now: at(5)).isEmpty)
        let released = book.release(leaseIDs: [lease.id], holders: [], now: at(6))
        #expect(released.effects.outcome(for: carol)?.grantedLease != nil)
        #expect(try book.taken("api", at: at(6)) == 2)
    }

    @Test func resettingARateLimitDropsItsDecayingSlots() throws {
        var book = makeBook(bookLimit("api", slots: 1, decay: 0.25))
        _ = try acquire(&book, SlotRequest(limits: ["api"], mode: .rateLimit), as: alice, at: t0)
        _ = try acquire(&book, SlotRequest(limits: ["api"], mode: .rateLimit), as: bob, at: t0)
        #expect(book.nextDeadline() == at(4))
        let (_, effects) = try book.reset("api", now: at(1))
        #expect(effects.outcome(for: bob)?.grantedLease != nil)
        #expect(try book.taken("api", at: at(1)) == 1)
    }

    // MARK: Deadlines

    @Test func theNextDeadlineIsTheEarliestExpiryOrTimeout() throws {
        var book = makeBook(bookLimit("a", slots: 1))
        #expect(book.nextDeadline() == nil)
        _ = try acquire(&book, SlotRequest(limits: ["a"], leaseTTL: 20), as: alice, at: t0)
        #expect(book.nextDeadline() == at(20))
        _ = try acquire(&book, SlotRequest(limits: ["a"], timeout: 30), as: bob, at: at(1))
        #expect(book.nextDeadline() == at(20))
        _ = try acquire(&book, SlotRequest(limits: ["a"], timeout: 4), as: carol, at: at(2))
        #expect(book.nextDeadline() == at(6))
        _ = book.tick(now: at(6))
        #expect(book.nextDeadline() == at(20))
    }

    @Test func aDeadlineLeftByARenewalOrReleaseIsAQuietTick() throws {
        var book = makeBook(bookLimit("a", slots: 3))
        let kept = try #require(try acquire(&book, SlotRequest(limits: ["a"], leaseTTL: 10), as: alice, at: t0).0.grantedLease)
        let gone = try #require(try acquire(&book, SlotRequest(limits: ["a"], leaseTTL: 5), as: bob, at: t0).0.grantedLease)
        _ = book.release(leaseIDs: [gone.id], holders: [], now: at(1))
        _ = book.renew(leaseIDs: [kept.id], holders: [], now: at(8))
        // The deadline may come early, but never late, and a tick then changes nothing.
        var ticks = 0
        while let next = book.nextDeadline(), next < at(18), ticks < 10 {
            #expect(book.tick(now: next).isEmpty)
            ticks += 1
        }
        #expect(book.nextDeadline() == at(18))
        #expect(book.tick(now: at(18)).changes == [.deleteLease(kept.id)])
    }

    // MARK: Restoring

    @Test func aBookRestoredFromTheStoreKeepsItsCounts() throws {
        let a = bookLimit("a", slots: 2)
        let b = bookLimit("b", slots: 3)
        let live = Lease(
            id: UUID(), holder: "flow-run/1", limits: ["a", "b", "gone"], slots: 2, ttl: 30, expires: at(40), created: at(10))
        let other = Lease(id: UUID(), holder: "x", limits: ["b"], slots: 1, ttl: 30, expires: at(45), created: at(15))
        let stale = Lease(id: UUID(), holder: "y", limits: ["b"], slots: 1, ttl: 10, expires: at(20), created: at(10))
        var book = LimitBook(limits: [a, b], leases: [live, other, stale], now: at(30))

        #expect(try book.limit(named: "a") == a)
        #expect(book.lease(live.id)?.limits == ["a", "b"])
        #expect(try book.taken("a", at: at(30)) == 2)
        #expect(book.catalog() == LimitCatalogView(names: ["a", "b"], runLimitNames: [], generation: 1))
        // The expired lease is due at once, and the first tick reclaims it.
        #expect(try #require(book.nextDeadline()) <= at(30))
        let first = book.tick(now: at(30))
        #expect(first.changes == [.deleteLease(stale.id)])
        #expect(try book.taken("b", at: at(30)) == 3)
        #expect(try book.status(of: "b", now: at(30)).leases.map(\.id) == [live.id, other.id])

        let (tries, _) = try acquire(&book, SlotRequest(limits: ["b"], wait: false), as: alice, at: at(30))
        #expect(tries.denialReason == .busy)
        // The coordinator, restarted, asks again for its run: it gets the lease it had.
        let (again, _) = try acquire(
            &book, SlotRequest(limits: ["a", "b"], slots: 2, holder: "flow-run/1"), as: bob, at: at(31))
        #expect(again.grantedLease?.id == live.id)
        #expect(again.grantedLease?.expires == at(61))
        #expect(book.release(leaseIDs: [], holders: ["flow-run/1"], now: at(32)).leases == 1)
        #expect(try book.taken("a", at: at(32)) == 0)
        #expect(try book.taken("b", at: at(32)) == 1)
    }

    @Test func leaseHoldersNameTheirFlowRuns() throws {
        let run = UUID()
        let holder = Lease.holder(ofRun: run)
        #expect(holder == "flow-run/" + run.uuidString.lowercased())
        let lease = Lease(id: UUID(), holder: holder, limits: [], slots: 1, ttl: 1, expires: t0, created: t0)
        #expect(lease.flowRunID == run)
        let other = Lease(id: UUID(), holder: "pid 42", limits: [], slots: 1, ttl: 1, expires: t0, created: t0)
        #expect(other.flowRunID == nil)
    }

    @Test func effectsAddUp() {
        var effects = LimitEffects()
        #expect(effects.isEmpty)
        var other = LimitEffects()
        other.changes = [.deleteLease(UUID(uuid: (0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1)))]
        other.replies = [(slotRequester(1), .queued(position: 1, blocking: ["a"]))]
        other.catalogChanged = true
        effects.append(other)
        #expect(effects == other)
        #expect(!effects.isEmpty)
    }
}
