import DroverCore
import DroverSystem
import Testing

@Suite struct PollTimeoutTests {
    @Test func noDeadlineWaitsForAnEvent() {
        #expect(PollTimeout.milliseconds(until: nil) == -1)
    }

    @Test func aPassedDeadlineDoesNotWait() {
        #expect(PollTimeout.milliseconds(until: .now - .seconds(1)) == 0)
    }

    @Test func aFutureDeadlineIsRoundedUpNeverDown() {
        // Whatever time passes between the two calls, the timeout never ends before the deadline.
        let waited = PollTimeout.milliseconds(until: .now + .microseconds(10_000_001))
        #expect(waited <= 10_001)
        #expect(waited >= 1)
        #expect(PollTimeout.milliseconds(until: .now + .seconds(86_400 * 365 * 100)) == Int32.max)
    }
}
