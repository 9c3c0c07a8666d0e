import DroverCore
import DroverProto
import Foundation
import SwiftProtobuf

// The one check of a timestamp that arrives from outside, and its valid range.
//
// Drover accepts the range of `google.protobuf.Timestamp` itself: 0001-01-01T00:00:00Z to
// 9999-12-31T23:59:59.999999999Z, with `nanos` from 0 to 999,999,999. A value outside it
// would be stored and then fail every JSON reply that lists it, or overflow the store's
// microseconds; so it is refused where it arrives, and nothing changes.
extension Google_Protobuf_Timestamp {
    /// The earliest valid time, 0001-01-01T00:00:00Z, in seconds since 1970.
    public static let minimumValidSeconds: Int64 = -62_135_596_800
    /// The last valid whole second, 9999-12-31T23:59:59Z, in seconds since 1970 (any
    /// valid `nanos` may follow it).
    public static let maximumValidSeconds: Int64 = 253_402_300_799
    /// The valid range as messages and documents state it.
    public static let validRangeText = "0001-01-01T00:00:00Z to 9999-12-31T23:59:59.999999999Z"

    /// Whether this is a time Drover accepts: seconds within `minimumValidSeconds` ...
    /// `maximumValidSeconds` and nanos within 0 ..< 1,000,000,000.
    public var isValid: Bool {
        (Self.minimumValidSeconds...Self.maximumValidSeconds).contains(seconds) && (0..<1_000_000_000).contains(nanos)
    }

    /// This timestamp as a `Date`, if it lies within 0001-01-01T00:00:00Z ...
    /// 9999-12-31T23:59:59.999999999Z and its `nanos` within 0 ..< 1,000,000,000.
    ///
    /// Call it on every timestamp a peer sends, before acting on the request. It never
    /// traps, whatever the fields hold. The returned date has a `Double`'s precision
    /// (about a microsecond near year 9999); the store keeps whole microseconds.
    ///
    /// - Parameter field: the field's name as the protocol spells it, such as
    ///   `expected_start_time`, for the message.
    /// - Throws: `DroverError` with code `.invalidArgument` and a message, for people, that
    ///   names `field`, what it held and the valid range.
    public func validDate(field: String) throws(DroverError) -> Date {
        guard (0..<1_000_000_000).contains(nanos) else {
            throw .invalidArgument(
                "Invalid \(field): its nanos must be from 0 to 999999999; got \(nanos). "
                    + "Valid times are \(Self.validRangeText).")
        }
        guard (Self.minimumValidSeconds...Self.maximumValidSeconds).contains(seconds) else {
            throw .invalidArgument(
                "Invalid \(field): \(seconds) seconds since 1970 is outside the valid range, \(Self.validRangeText).")
        }
        return Date(timeIntervalSince1970: Double(seconds) + Double(nanos) / 1_000_000_000)
    }
}
