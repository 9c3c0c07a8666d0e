import DroverCore
import Foundation
import SwiftProtobuf
import Testing

@testable import DroverWire

/// The one check of a timestamp from outside, at the edges of its range, and the total
/// conversion of Core dates to the wire.
@Suite struct TimestampValidationTests {
    /// 0001-01-01T00:00:00Z and 9999-12-31T23:59:59Z, in seconds since 1970.
    static let yearOneStart: Int64 = -62_135_596_800
    static let yearNineThousandNineHundredNinetyNineEnd: Int64 = 253_402_300_799

    private func timestamp(_ seconds: Int64, _ nanos: Int32 = 0) -> Google_Protobuf_Timestamp {
        Google_Protobuf_Timestamp(seconds: seconds, nanos: nanos)
    }

    private func refusal(_ stamp: Google_Protobuf_Timestamp, field: String = "expected_start_time") -> DroverError? {
        #expect(throws: DroverError.self) { try stamp.validDate(field: field) }
    }

    // MARK: Accepted

    @Test func theFirstInstantOfYearOneIsAccepted() throws {
        let date = try timestamp(Self.yearOneStart).validDate(field: "anchor_date")
        #expect(date.timeIntervalSince1970 == -62_135_596_800)
        // swift-protobuf's JSON form (proleptic Gregorian, as the Timestamp spec) names the instant.
        #expect(try timestamp(Self.yearOneStart).jsonString() == #""0001-01-01T00:00:00Z""#)
    }

    @Test func theLastNanosecondOfYear9999IsAccepted() throws {
        let date = try timestamp(Self.yearNineThousandNineHundredNinetyNineEnd, 999_999_999).validDate(field: "anchor_date")
        #expect(abs(date.timeIntervalSince1970 - 253_402_300_800) < 0.001)
        #expect(
            try timestamp(Self.yearNineThousandNineHundredNinetyNineEnd).validDate(field: "x").timeIntervalSince1970
                == 253_402_300_799)
        #expect(
            try timestamp(Self.yearNineThousandNineHundredNinetyNineEnd, 999_999_999).jsonString()
                == #""9999-12-31T23:59:59.999999999Z""#)
    }

    @Test func ordinaryTimesAndTheEpochAreAccepted() throws {
        #expect(try timestamp(0).validDate(field: "x") == Date(timeIntervalSince1970: 0))
        #expect(try timestamp(1_767_225_600, 500_000_000).validDate(field: "x") == Date(timeIntervalSince1970: 1_767_225_600.5))
        #expect(try timestamp(-1, 500_000_000).validDate(field: "x") == Date(timeIntervalSince1970: -0.5))
    }

    // MARK: Refused

    @Test func oneSecondBeforeYearOneIsRefused() throws {
        let error = try #require(refusal(timestamp(Self.yearOneStart - 1), field: "anchor_date"))
        #expect(error.code == .invalidArgument)
        #expect(
            error.message
                == "Invalid anchor_date: -62135596801 seconds since 1970 is outside the valid range, "
                + "0001-01-01T00:00:00Z to 9999-12-31T23:59:59.999999999Z.")
    }

    @Test func oneSecondAfterYear9999IsRefused() throws {
        let error = try #require(refusal(timestamp(Self.yearNineThousandNineHundredNinetyNineEnd + 1)))
        #expect(error.code == .invalidArgument)
        #expect(error.message.hasPrefix("Invalid expected_start_time: 253402300800 seconds since 1970"))
        #expect(error.message.contains("0001-01-01T00:00:00Z to 9999-12-31T23:59:59.999999999Z"))
    }

    @Test func nanosMustBeFromZeroToJustUnderOneSecond() throws {
        let negative = try #require(refusal(timestamp(0, -1), field: "default_start"))
        #expect(negative.code == .invalidArgument)
        #expect(
            negative.message
                == "Invalid default_start: its nanos must be from 0 to 999999999; got -1. "
                + "Valid times are 0001-01-01T00:00:00Z to 9999-12-31T23:59:59.999999999Z.")
        let whole = try #require(refusal(timestamp(0, 1_000_000_000)))
        #expect(whole.message.contains("got 1000000000"))
        // The first nanosecond before year 1 can only be written with negative nanos.
        #expect(refusal(timestamp(Self.yearOneStart, -1)) != nil)
        #expect(refusal(timestamp(Self.yearNineThousandNineHundredNinetyNineEnd, 1_000_000_000)) != nil)
        #expect(refusal(timestamp(0, .min)) != nil)
        #expect(refusal(timestamp(0, .max)) != nil)
    }

    @Test func theValuesThatUsedToStopTheServerAreRefused() throws {
        for seconds: Int64 in [10_000_000_000_000, -10_000_000_000_000, .max, .min, .max - 1, .min + 1] {
            let error = try #require(refusal(timestamp(seconds)), "seconds \(seconds)")
            #expect(error.code == .invalidArgument)
            #expect(error.message.contains("\(seconds) seconds since 1970"))
        }
        #expect(refusal(timestamp(.max, 999_999_999)) != nil)
        #expect(refusal(timestamp(.min, -1)) != nil)
    }

    @Test func isValidAgreesWithTheCheck() {
        let cases = [
            timestamp(Self.yearOneStart), timestamp(Self.yearOneStart - 1),
            timestamp(Self.yearNineThousandNineHundredNinetyNineEnd, 999_999_999),
            timestamp(Self.yearNineThousandNineHundredNinetyNineEnd + 1), timestamp(0, -1), timestamp(0, 1_000_000_000),
            timestamp(.max), timestamp(.min),
        ]
        for stamp in cases {
            #expect(stamp.isValid == ((try? stamp.validDate(field: "x")) != nil), "\(stamp)")
        }
    }

    // MARK: Core to wire

    @Test func coreDatesBeyondTheRangeAreClampedToItsEnds() throws {
        let latest = Google_Protobuf_Timestamp(seconds: Self.yearNineThousandNineHundredNinetyNineEnd, nanos: 999_999_000)
        let earliest = Google_Protobuf_Timestamp(seconds: Self.yearOneStart, nanos: 0)
        let far: [(Date, Google_Protobuf_Timestamp)] = [
            (Date(timeIntervalSince1970: 1e13), latest), (Date(timeIntervalSince1970: -1e13), earliest),
            (Date(timeIntervalSince1970: 253_402_300_800), latest), (Date(timeIntervalSince1970: -62_135_596_801), earliest),
            (Date(timeIntervalSince1970: 1e300), latest), (Date(timeIntervalSince1970: -1e300), earliest),
            (Date(timeIntervalSince1970: .infinity), latest), (Date(timeIntervalSince1970: -.infinity), earliest),
        ]
        for (date, expected) in far {
            let stamp = Google_Protobuf_Timestamp(microsecondsOf: date)
            #expect(stamp == expected, "\(date.timeIntervalSince1970)")
            #expect(stamp.isValid)
        }
        #expect(Google_Protobuf_Timestamp(microsecondsOf: Date(timeIntervalSince1970: .nan)) == timestamp(0))
    }

    @Test func clampedTimestampsStillPrintAsJSON() throws {
        // What `flow-run ls -o json` does with every run: it must not fail for one bad row.
        for seconds in [1e13, -1e13, 1e300] {
            let stamp = Google_Protobuf_Timestamp(microsecondsOf: Date(timeIntervalSince1970: seconds))
            #expect(try stamp.jsonString().hasPrefix(seconds > 0 ? "\"9999-12-31T23:59:59" : "\"0001-01-01T00:00:00"))
        }
    }

    @Test func coreDatesWithinTheRangeKeepTheirMicroseconds() {
        let date = Date(timeIntervalSince1970: 1_767_225_600.123456)
        #expect(Google_Protobuf_Timestamp(microsecondsOf: date) == timestamp(1_767_225_600, 123_456_000))
        #expect(Google_Protobuf_Timestamp(microsecondsOf: Date(timeIntervalSince1970: -0.5)) == timestamp(-1, 500_000_000))
        #expect(Google_Protobuf_Timestamp(microsecondsOf: Date(timeIntervalSince1970: -62_135_596_800)) == timestamp(Self.yearOneStart))
    }

    @Test func microsecondsSince1970NeverTraps() {
        #expect(Date(timeIntervalSince1970: 1e13).microsecondsSince1970 == .max)
        #expect(Date(timeIntervalSince1970: -1e13).microsecondsSince1970 == .min)
        #expect(Date(timeIntervalSince1970: .infinity).microsecondsSince1970 == .max)
        #expect(Date(timeIntervalSince1970: -.infinity).microsecondsSince1970 == .min)
        #expect(Date(timeIntervalSince1970: .nan).microsecondsSince1970 == 0)
        #expect(Date(timeIntervalSince1970: 1.000001).microsecondsSince1970 == 1_000_001)
        #expect(Date(timeIntervalSince1970: -1.000001).microsecondsSince1970 == -1_000_001)
        #expect(Date(timeIntervalSince1970: 9_223_372_036_854).microsecondsSince1970 < .max)
    }
}
