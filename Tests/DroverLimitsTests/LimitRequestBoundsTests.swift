import DroverCore
import DroverLimits
import DroverProto
import DroverTestSupport
import Foundation
import Testing

/// Fields of limit requests checked where they arrive: an Acquire mode the service does
/// not know, and strings and lists beyond `LimitRequestBounds` and `ResourceName`, are
/// refused with INVALID_ARGUMENT, and nothing is taken, queued or freed.
@Suite struct LimitRequestBoundsTests {
    /// One base letter and 300,000 combining marks: a single character of 600 kB.
    static let oneHugeCharacter = "a" + String(repeating: "\u{301}", count: 300_000)

    /// A limit "db" of 2 slots, and one lease on it held by "keeper".
    private func fixtureWithLease() throws -> (CoreFixture, Drover_V1_Lease) {
        var fixture = try CoreFixture()
        _ = try fixture.call(.create("db", slots: 2))
        let lease = try #require(try fixture.call(.acquireSlot("db", holder: "keeper"), from: "keeper").grantedLease)
        return (fixture, lease)
    }

    /// Checks that "db" still holds exactly `lease` and nobody waits.
    private func expectUnchanged(
        _ fixture: inout CoreFixture, lease: Drover_V1_Lease, sourceLocation: SourceLocation = #_sourceLocation
    ) throws {
        let status = try fixture.status("db", sourceLocation: sourceLocation)
        #expect(status.activeSlots == 1, sourceLocation: sourceLocation)
        #expect(status.leases.map(\.id) == [lease.id], sourceLocation: sourceLocation)
        #expect(status.waiting == 0, sourceLocation: sourceLocation)
    }

    private func refusal(
        _ reply: Drover_V1_LimitReply, sourceLocation: SourceLocation = #_sourceLocation
    ) throws -> String {
        guard case .error(let error)? = reply.result else {
            Issue.record("not refused: \(reply)", sourceLocation: sourceLocation)
            return ""
        }
        #expect(error.code == .invalidArgument, "\(error)", sourceLocation: sourceLocation)
        #expect(error.message.utf8.count < 400, "the message stays short", sourceLocation: sourceLocation)
        return error.message
    }

    // MARK: Acquire mode

    @Test func anAcquireModeTheServiceDoesNotKnowIsRefusedNotGranted() throws {
        var (fixture, lease) = try fixtureWithLease()
        for wait in [false, true] {
            let reply = try fixture.call(
                .acquire(
                    .with {
                        $0.limits = ["db"]
                        $0.holder = "newer-client"
                        $0.mode = .UNRECOGNIZED(99)
                        $0.wait = wait
                    }), from: "newer")
            let message = try refusal(reply)
            #expect(message.contains("Unknown Acquire mode 99"), "\(message)")
            #expect(message.contains("CONCURRENCY (0) or RATE_LIMIT (1)"), "\(message)")
        }
        try expectUnchanged(&fixture, lease: lease)
    }

    @Test func anUnknownModeIsRefusedOnARateLimitToo() throws {
        var fixture = try CoreFixture()
        _ = try fixture.call(
            .createLimit(
                .with {
                    $0.name = "api"; $0.limit = 5; $0.slotDecayPerSecond = 1
                }))
        let reply = try fixture.call(
            .acquire(
                .with {
                    $0.limits = ["api"]; $0.mode = .UNRECOGNIZED(2); $0.wait = false
                }))
        #expect(try refusal(reply).contains("Unknown Acquire mode 2"))
        #expect(try fixture.status("api").activeSlots == 0)
        // The known modes still work.
        #expect(
            try fixture.call(
                .acquire(
                    .with {
                        $0.limits = ["api"]; $0.mode = .rateLimit; $0.wait = false
                    })
            ).grantedLease != nil)
        #expect(
            try fixture.call(
                .acquire(
                    .with {
                        $0.limits = ["api"]; $0.mode = .rateLimit; $0.wait = false
                    })
            ).grantedLease != nil)
        #expect(try fixture.status("api").activeSlots == 2)
    }

    // MARK: Holders

    @Test func aHolderOverTheBoundIsRefusedAndHoldsNothing() throws {
        var (fixture, lease) = try fixtureWithLease()
        for holder in [String(repeating: "h", count: 600_000), String(repeating: "h", count: 513), Self.oneHugeCharacter] {
            let message = try refusal(try fixture.call(.acquireSlot("db", holder: holder, wait: true), from: "big"))
            #expect(message.hasPrefix("A holder is at most 512 bytes; got \(holder.utf8.count)."), "\(message)")
        }
        try expectUnchanged(&fixture, lease: lease)
    }

    @Test func theHoldersDroverItselfUsesFitComfortably() throws {
        var fixture = try CoreFixture()
        _ = try fixture.call(.create("db", slots: 10))
        let run = UUID()
        let host = String(repeating: "h", count: 64)  // HOST_NAME_MAX on Linux
        let holders = [
            Lease.holder(ofRun: run),
            Lease.holder(ofRun: run) + " pid 4194304 on \(host)",
            String(repeating: "\u{E9}", count: 256),  // é: exactly 512 bytes
        ]
        for holder in holders {
            let lease = try #require(try fixture.call(.acquireSlot("db", holder: holder), from: "c").grantedLease, "\(holder)")
            #expect(lease.holder == holder)
        }
        #expect(holders.allSatisfy { $0.utf8.count <= LimitRequestBounds.maximumHolderBytes })
        #expect(Lease.holder(ofRun: run).utf8.count * 10 <= LimitRequestBounds.maximumHolderBytes)
    }

    // MARK: Renew and Release

    @Test func renewAndReleaseNameAtMostAThousandLeaseIdsAndAThousandHolders() throws {
        var (fixture, lease) = try fixtureWithLease()
        let many = (0...1_000).map { "holder-\($0)" }
        let manyIDs = (0...1_000).map { _ in UUID().uuidString.lowercased() }
        let requests: [Drover_V1_LimitRequest.OneOf_Operation] = [
            .renew(.with { $0.holders = many }), .renew(.with { $0.leaseIds = manyIDs }),
            .release(.with { $0.holders = many + ["keeper"] }), .release(.with { $0.leaseIds = manyIDs + [lease.id] }),
        ]
        for request in requests {
            let message = try refusal(try fixture.call(request, from: "keeper"))
            #expect(message.contains("at most 1000 lease ids and 1000 holders"), "\(message)")
        }
        try expectUnchanged(&fixture, lease: lease)

        // A thousand of each is fine.
        let renewed = try #require(
            try fixture.call(.renew(.with { $0.holders = Array(many.prefix(999)) + ["keeper"] }), from: "keeper").renewedReply)
        #expect(renewed.leases.map(\.id) == [lease.id])
        #expect(renewed.unknownHolders.count == 999)
        let released = try #require(
            try fixture.call(.release(.with { $0.leaseIds = Array(manyIDs.prefix(999)) + [lease.id] }), from: "keeper")
                .releasedReply)
        #expect(released.leases == 1)
    }

    @Test func renewAndReleaseRefuseOversizeLeaseIdsAndHolders() throws {
        var (fixture, lease) = try fixtureWithLease()
        let longID = String(repeating: "0", count: 600_000)
        let longHolder = String(repeating: "h", count: 600_000)
        let requests: [(Drover_V1_LimitRequest.OneOf_Operation, String)] = [
            (.renew(.with { $0.leaseIds = [lease.id, longID] }), "A lease id is at most 64 bytes"),
            (.release(.with { $0.leaseIds = [lease.id, longID] }), "A lease id is at most 64 bytes"),
            (.renew(.with { $0.holders = ["keeper", longHolder] }), "A holder is at most 512 bytes"),
            (.release(.with { $0.holders = ["keeper", longHolder] }), "A holder is at most 512 bytes"),
            (.release(.with { $0.holders = [Self.oneHugeCharacter] }), "A holder is at most 512 bytes"),
        ]
        for (request, expected) in requests {
            let message = try refusal(try fixture.call(request, from: "keeper"))
            #expect(message.hasPrefix(expected), "\(message)")
        }
        try expectUnchanged(&fixture, lease: lease)
    }

    // MARK: Limit names

    @Test func limitNamesOverTheBoundAreRefusedWithAShortMessage() throws {
        var (fixture, lease) = try fixtureWithLease()
        for name in [String(repeating: "n", count: 600_000), String(repeating: "n", count: 101), Self.oneHugeCharacter] {
            let requests: [Drover_V1_LimitRequest.OneOf_Operation] = [
                .create(name, slots: 1), .get(name),
                .updateLimit(
                    .with {
                        $0.name = name; $0.limit = 5
                    }),
                .deleteLimit(.with { $0.name = name }), .resetLimit(.with { $0.name = name }),
                .acquireSlot(name, holder: "x"),
                .acquire(
                    .with {
                        $0.limits = ["db", name]; $0.strict = true
                    }),
            ]
            for request in requests {
                let message = try refusal(try fixture.call(request))
                #expect(message.hasPrefix("Invalid concurrency limit name '"), "\(message)")
            }
        }
        let tooMany = try fixture.call(.acquire(.with { $0.limits = (0...64).map { "l\($0)" } }))
        #expect(try refusal(tooMany).contains("at most 64 limits"))
        try expectUnchanged(&fixture, lease: lease)
        guard case .limits(let list)? = try fixture.call(.listLimits(.init())).result else {
            Issue.record("ListLimits did not answer with the limits")
            return
        }
        #expect(list.limits.map(\.name) == ["db"], "no limit was created")
    }
}
