import Foundation

extension Date {
    /// Whole microseconds since 1970-01-01T00:00:00Z, rounded to the nearest: the precision
    /// at which the store keeps times and compares scheduled times.
    ///
    /// Total: it never traps. A time beyond what `Int64` microseconds hold (about 292,000
    /// years either side of 1970) gives `Int64.max` or `Int64.min`, and a NaN time gives 0.
    /// Times that come from outside are range-checked where they arrive; this keeps one bad
    /// value from stopping the process wherever it turns up.
    public var microsecondsSince1970: Int64 {
        let microseconds = (timeIntervalSince1970 * 1_000_000).rounded()
        if microseconds.isNaN { return 0 }
        // 2^63 is exactly representable as a Double; Int64.max is not.
        if microseconds >= 9_223_372_036_854_775_808.0 { return .max }
        if microseconds <= -9_223_372_036_854_775_808.0 { return .min }
        return Int64(microseconds)
    }
}
