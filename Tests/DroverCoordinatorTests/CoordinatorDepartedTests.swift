import DroverProto
import Testing

@testable import DroverCoordinator

/// Workers that left stay listed (OFFLINE) for `worker ls`, but only so many: connections
/// cost a peer nothing, so the list is bounded, and the workers seen longest ago go first.
@Suite struct CoordinatorDepartedTests {
    @Test func departedWorkersAreBoundedAndTheOldestGoFirst() throws {
        var h = try CoordinatorHarness()
        h.createPool()
        let total = Coordinator.maxDeparted + 5
        for n in 0..<total {
            try h.hello("id-\(n)", name: "w-\(n)")
            try h.send("id-\(n)", .bye(.with { $0.reason = "done" }))
            _ = try h.advance(by: 1)
        }
        try h.hello("live", name: "live")

        let listed = h.workers().map(\.name)
        #expect(listed.count == Coordinator.maxDeparted + 1)
        #expect(listed.contains("live"))
        #expect(listed.contains("w-\(total - 1)"))
        #expect(!listed.contains("w-0") && !listed.contains("w-4"))
        #expect(listed.contains("w-5"))
    }
}
