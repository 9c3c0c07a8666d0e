import DroverCore
import DroverTestSupport
import Testing

@Suite struct WorkPoolStatusTests {
    @Test func pausedPoolIsPausedEvenWithWorkers() {
        let pool = StoreFixtures.pool(isPaused: true)
        #expect(pool.status(onlineWorkers: 0) == .paused)
        #expect(pool.status(onlineWorkers: 3) == .paused)
    }

    @Test func poolWithOnlineWorkersIsReady() {
        #expect(StoreFixtures.pool().status(onlineWorkers: 1) == .ready)
        #expect(StoreFixtures.pool().status(onlineWorkers: 5) == .ready)
    }

    @Test func poolWithoutOnlineWorkersIsNotReady() {
        #expect(StoreFixtures.pool().status(onlineWorkers: 0) == .notReady)
    }

    @Test func statusNamesMatchPrefect() {
        #expect(WorkPoolStatus.allCases.map(\.rawValue) == ["READY", "NOT_READY", "PAUSED"])
    }
}
