import Testing

@testable import DroverCoordinator

@Suite struct KeyedWorkersTests {
    let start = ContinuousClock.now

    @Test func revokedKeysGiveTheirConnectedWorkersOnceAtMostEverySecond() {
        var keyed = KeyedWorkers()
        keyed.saidHello("w1", key: "host-a")
        keyed.saidHello("w2", key: "host-a")
        keyed.saidHello("w3", key: "host-b")
        keyed.saidHello("gone", key: "host-a")
        var asked: [String] = []
        let connected: (String) -> Bool = { $0 != "gone" }
        #expect(
            keyed.revoked(
                now: start,
                isActive: {
                    asked.append($0); return true
                }, isConnected: connected
            ).isEmpty)
        #expect(asked.sorted() == ["host-a", "host-b"], "one lookup per key")
        // Revoked, but the next check is not due yet.
        #expect(keyed.revoked(now: start + .milliseconds(500), isActive: { $0 != "host-a" }, isConnected: connected).isEmpty)
        let dropped = keyed.revoked(now: start + .seconds(1), isActive: { $0 != "host-a" }, isConnected: connected)
        #expect(dropped.map(\.worker) == ["w1", "w2"] && dropped.allSatisfy { $0.key == "host-a" })
        // Each worker is dropped once; the one no longer connected was forgotten, not dropped.
        #expect(keyed.revoked(now: start + .seconds(2), isActive: { $0 != "host-a" }, isConnected: { _ in true }).isEmpty)
    }
}
