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
}
