import DroverCore
import DroverProto
import DroverTestSupport
import Foundation
import Testing

@testable import DroverCoordinator

/// The coordinator's requests to the limit service stay within what the service accepts.
@Suite struct RunSlotsTests {
    @Test func renewingManyHeldRunsSplitsIntoRequestsTheServiceAccepts() throws {
        var slots = RunSlots(now: TestDates.epoch)
        let runs = (0..<2_500).map { _ in UUID() }
        slots.adopt(runs)
        let renewals = slots.outbox.compactMap { request -> [String]? in
            if case .renew(let renew)? = request.operation { renew.holders } else { nil }
        }
        #expect(renewals.map(\.count) == [1_000, 1_000, 500])
        #expect(Set(renewals.joined()) == Set(runs.map(Lease.holder(ofRun:))), "every run renewed, once")
        #expect(Set(slots.outbox.map(\.requestID)).count == slots.outbox.count, "each request has its own id")
        #expect(renewals.allSatisfy { $0.count <= LimitRequestBounds.maximumLeasesPerRequest })
    }

    /// Found by `drover bench chaos --secure --limit-service standalone`: after a restart of
    /// the server, the service granted an Acquire the server's earlier life had sent, under
    /// a request id the new life had given another run, and that run went out without a
    /// slot (4 runs at once under a limit of 3). A grant counts for the run its lease names.
    @Test func aGrantCountsForTheRunItsLeaseNamesNotForItsRequestID() throws {
        let (earlierRun, run) = (UUID(), UUID())
        var earlierLife = RunSlots(now: TestDates.epoch)
        earlierLife.request(earlierRun, tags: [], worker: "w1", leaseTTL: 30)
        let staleID = try #require(earlierLife.outbox.last?.requestID)

        var slots = RunSlots(now: TestDates.epoch)
        slots.request(run, tags: [], worker: "w2", leaseTTL: 30)
        try #require(slots.outbox.last?.requestID == staleID, "the new life reuses the id")
        slots.outbox.removeAll()

        let stale = Drover_V1_LimitReply.with {
            $0.requestID = staleID
            $0.granted = .with { $0.lease = .with { $0.holder = Lease.holder(ofRun: earlierRun) } }
        }
        guard case .nothing = slots.receive(stale) else {
            Issue.record("a grant of another run's lease sent a run")
            return
        }
        #expect(!slots.holding.contains(run) && slots.waiting[run] == "w2", "the run still waits for its own grant")
        let releases = slots.outbox.compactMap { request -> [String]? in
            if case .release(let release)? = request.operation { release.holders } else { nil }
        }
        #expect(releases == [[Lease.holder(ofRun: earlierRun)]], "the lease nobody here waits for is given back")

        let own = Drover_V1_LimitReply.with {
            $0.requestID = staleID
            $0.granted = .with { $0.lease = .with { $0.holder = Lease.holder(ofRun: run) } }
        }
        guard case .granted(let granted, let worker) = slots.receive(own) else {
            Issue.record("the run's own grant did not send it")
            return
        }
        #expect(granted == run && worker == "w2" && slots.holding.contains(run))
        // The same grant again (a resent Acquire's answer) changes nothing and releases nothing.
        slots.outbox.removeAll()
        guard case .nothing = slots.receive(own) else {
            Issue.record("a second grant sent the run again")
            return
        }
        #expect(slots.outbox.isEmpty && slots.holding.contains(run))
    }

    /// A waiting run asked for again (a refresh) is granted by whichever Acquire the service
    /// answers, the older one too.
    @Test func aGrantOfAnOlderAcquireOfTheSameRunSendsIt() throws {
        let run = UUID()
        var slots = RunSlots(now: TestDates.epoch)
        slots.request(run, tags: [], worker: "w1", leaseTTL: 30)
        let first = try #require(slots.outbox.last?.requestID)
        slots.refresh(now: TestDates.epoch.addingTimeInterval(10), tags: { _ in [] }, leaseTTL: 30)
        let reply = Drover_V1_LimitReply.with {
            $0.requestID = first
            $0.granted = .with { $0.lease = .with { $0.holder = Lease.holder(ofRun: run) } }
        }
        guard case .granted(run, "w1") = slots.receive(reply) else {
            Issue.record("the older Acquire's grant was not taken")
            return
        }
        #expect(slots.waiting.isEmpty)
    }
}
