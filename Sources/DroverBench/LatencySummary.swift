import Histogram

/// Percentiles of a latency distribution, in microseconds, as the bench reports them.
public struct LatencySummary: Sendable, Equatable, Codable {
    public let count: UInt64
    public let p50: UInt64
    public let p90: UInt64
    public let p99: UInt64
    public let p999: UInt64
    public let max: UInt64

    /// Summarises `samples` (microseconds) through an HdrHistogram with 3 significant digits.
    public init(microseconds samples: [UInt64]) {
        var histogram = Histogram<UInt64>(highestTrackableValue: 3_600_000_000, numberOfSignificantValueDigits: .three)
        for sample in samples { _ = histogram.record(Swift.max(1, Swift.min(sample, 3_600_000_000))) }
        count = histogram.totalCount
        p50 = samples.isEmpty ? 0 : histogram.valueAtPercentile(50)
        p90 = samples.isEmpty ? 0 : histogram.valueAtPercentile(90)
        p99 = samples.isEmpty ? 0 : histogram.valueAtPercentile(99)
        p999 = samples.isEmpty ? 0 : histogram.valueAtPercentile(99.9)
        max = samples.isEmpty ? 0 : histogram.max
    }
}
