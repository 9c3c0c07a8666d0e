import DroverCore
import Testing

@Suite struct WarningGateTests {
    let start = ContinuousClock.now

    /// Which of `kinds`, asked at `start` plus each offset in milliseconds, the gate lets through.
    private func asks(_ gate: inout WarningGate, _ kinds: [(String, Int)]) -> [Bool] {
        kinds.map { kind, offset in gate.allows(kind, now: start + .milliseconds(offset)) }
    }

    @Test func oneLineOfAKindPerIntervalByDefaultAndTheRestCounted() {
        var gate = WarningGate(interval: .seconds(10))
        let allowed = asks(
            &gate,
            [("bad frame", 0), ("bad frame", 1_000), ("bad frame", 9_000), ("stale report", 9_000), ("bad frame", 10_000)])
        // Kinds are counted apart.
        #expect(allowed == [true, false, false, true, true])
        let heldBack = gate.takeHeldBack("bad frame")
        #expect(heldBack == 2)
        let again = gate.takeHeldBack("bad frame")
        #expect(again == 0)
        let other = gate.takeHeldBack("stale report")
        #expect(other == 0)
    }

    @Test func aBurstLetsThatManyThroughPerWindow() {
        var gate = WarningGate(interval: .seconds(10), burst: 3)
        let allowed = asks(&gate, (0..<10).map { ("worker connected", $0 * 100) })
        #expect(allowed == [true, true, true, false, false, false, false, false, false, false])
        let heldBack = gate.takeHeldBack("worker connected")
        #expect(heldBack == 7)
        // A new window opens once the interval has passed since the last one opened.
        let later = asks(&gate, [("worker connected", 10_000), ("worker connected", 11_000)])
        #expect(later == [true, true])
    }

    @Test func aBurstBelowOneIsOne() {
        var gate = WarningGate(interval: .seconds(1), burst: 0)
        #expect(gate.burst == 1)
        let allowed = asks(&gate, [("x", 0), ("x", 0)])
        #expect(allowed == [true, false])
    }
}
