import Testing

@testable import DroverBench

@Suite struct LatencySummaryTests {
    @Test func percentilesOfKnownSamples() {
        let summary = LatencySummary(microseconds: Array(1...1000))
        #expect(summary.count == 1000)
        #expect(summary.p50 == 500)
        #expect(summary.p90 == 900)
        #expect(summary.p99 == 990)
        #expect(summary.p999 == 999)
        #expect(summary.max == 1000)
    }

    @Test func noSamplesIsAllZero() {
        let summary = LatencySummary(microseconds: [])
        #expect(summary == LatencySummary(microseconds: []))
        #expect([summary.count, summary.p50, summary.p99, summary.max] == [0, 0, 0, 0])
    }

    /// HdrHistogram keeps three significant digits: a large value comes back within 0.1 %.
    @Test func largeValuesKeepThreeSignificantDigits() {
        let summary = LatencySummary(microseconds: [123_456_789])
        #expect(abs(Double(summary.max) - 123_456_789) / 123_456_789 < 0.001)
    }
}
