import DroverCore
import Foundation
import Testing

@Suite struct UUIDv7Tests {
    private func bytes(of id: UUID) -> [UInt8] {
        withUnsafeBytes(of: id.uuid) { Array($0) }
    }

    private func milliseconds(of date: Date?) -> Int64? {
        date.map { Int64(($0.timeIntervalSince1970 * 1000).rounded()) }
    }

    /// Always returns the same number, so the random bits of an id are known.
    private struct ConstantGenerator: RandomNumberGenerator {
        let value: UInt64
        mutating func next() -> UInt64 { value }
    }

    @Test func setsVersionSevenAndVariantTen() {
        for _ in 0..<100 {
            let id = UUIDv7.make()
            let raw = bytes(of: id)
            #expect(raw[6] >> 4 == 7)
            #expect(raw[8] >> 6 == 0b10)
            let text = Array(id.uuidString.lowercased())
            #expect(text[14] == "7")
            #expect("89ab".contains(text[19]))
        }
    }

    @Test func writesTheMillisecondsBigEndianFirst() throws {
        // 2026-01-01T00:00:00.123Z is 1_767_225_600_123 ms = 0x019B_76DA_A87B.
        let id = UUIDv7.make(at: Date(timeIntervalSince1970: 1_767_225_600.123_9))
        #expect(Array(bytes(of: id)[0..<6]) == [0x01, 0x9B, 0x76, 0xDA, 0xA8, 0x7B])
        #expect(milliseconds(of: UUIDv7.timestamp(of: id)) == 1_767_225_600_123)
    }

    @Test(
        arguments: [
            (0.0, 0), (1.0, 1_000), (3_429.622, 3_429_622), (1_767_225_600.5, 1_767_225_600_500),
            (1_900_000_000.001, 1_900_000_000_001),
            (1_700_000_000.777, 1_700_000_000_777), (4_102_444_800.999_9, 4_102_444_800_999),
        ] as [(Double, Int64)])
    func timestampRoundTripsToTheMillisecond(seconds: Double, expected: Int64) throws {
        // Dates hold seconds since 2001 in a Double, so 3_429.622 reads back as 3_429_621.999… ms.
        let id = UUIDv7.make(at: Date(timeIntervalSince1970: seconds))
        #expect(milliseconds(of: UUIDv7.timestamp(of: id)) == expected)
        let again = UUIDv7.make(at: try #require(UUIDv7.timestamp(of: id)))
        #expect(milliseconds(of: UUIDv7.timestamp(of: again)) == expected)
    }

    @Test func datesBefore1970AreStampedAs1970() {
        let id = UUIDv7.make(at: Date(timeIntervalSince1970: -5))
        #expect(UUIDv7.timestamp(of: id) == Date(timeIntervalSince1970: 0))
    }

    @Test func readsTheTimestampOfRFC9562sExample() throws {
        // RFC 9562, appendix A.6: 2022-02-22T19:22:22Z.
        let id = try #require(UUID(uuidString: "017F22E2-79B0-7CC3-98C4-DC0C0C07398F"))
        #expect(UUIDv7.timestamp(of: id) == Date(timeIntervalSince1970: 1_645_557_742))
    }

    @Test func otherVersionsAndVariantsHaveNoTimestamp() throws {
        #expect(UUIDv7.timestamp(of: try #require(UUID(uuidString: "919108F7-52D1-4320-9BAC-F847DB4148A8"))) == nil)
        // Version 7 but variant 0.
        #expect(UUIDv7.timestamp(of: try #require(UUID(uuidString: "017F22E2-79B0-7CC3-18C4-DC0C0C07398F"))) == nil)
    }

    @Test func idsMadeInATightLoopAreStrictlyIncreasing() {
        let ids = (0..<10_000).map { _ in UUIDv7.make() }
        for (earlier, later) in zip(ids, ids.dropFirst()) {
            #expect(bytes(of: earlier).lexicographicallyPrecedes(bytes(of: later)))
            #expect(earlier.uuidString.lowercased() < later.uuidString.lowercased())
        }
    }

    @Test func idsOfOneGivenMillisecondCountUpAndKeepTheirTimestamp() {
        let date = Date(timeIntervalSince1970: 1_800_000_000.042)
        let ids = (0..<5_000).map { _ in UUIDv7.make(at: date) }
        for (earlier, later) in zip(ids, ids.dropFirst()) {
            #expect(bytes(of: earlier).lexicographicallyPrecedes(bytes(of: later)))
        }
        #expect(Set(ids.map { milliseconds(of: UUIDv7.timestamp(of: $0)) }) == [1_800_000_000_042])
    }

    @Test func theCounterStartsFromTheSeedAndGoesUpByOne() {
        // A millisecond no other test uses, so its counter starts here.
        let date = Date(timeIntervalSince1970: 1_700_000_123.456)
        var zeros = ConstantGenerator(value: 0)
        let first = bytes(of: UUIDv7.make(at: date, random: &zeros))
        let second = bytes(of: UUIDv7.make(at: date, random: &zeros))
        #expect(Array(first[6...]) == [0x70, 0x00, 0x80, 0x00, 0, 0, 0, 0, 0, 0])
        #expect(Array(second[6...]) == [0x70, 0x00, 0x80, 0x01, 0, 0, 0, 0, 0, 0])
    }

    @Test func theRandomBitsComeFromTheGivenGenerator() {
        var ones = ConstantGenerator(value: .max)
        let raw = bytes(of: UUIDv7.make(at: Date(timeIntervalSince1970: 1_700_000_001.555), random: &ones))
        // The seed keeps the counter's top bit clear: rand_a is 0x7FF, the next 14 bits all ones.
        #expect(Array(raw[6...]) == [0x77, 0xFF, 0xBF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF])
    }

    @Test func aLaterMillisecondSortsAfterEvenWhenMadeFirst() {
        var ones = ConstantGenerator(value: .max)
        var zeros = ConstantGenerator(value: 0)
        let later = UUIDv7.make(at: Date(timeIntervalSince1970: 1_700_000_002.002), random: &zeros)
        let earlier = UUIDv7.make(at: Date(timeIntervalSince1970: 1_700_000_002.001), random: &ones)
        #expect(bytes(of: earlier).lexicographicallyPrecedes(bytes(of: later)))
        #expect(earlier.uuidString.lowercased() < later.uuidString.lowercased())
    }

    @Test func interleavedDatesEachKeepTheirOrder() {
        let first = Date(timeIntervalSince1970: 1_750_000_000.001)
        let second = Date(timeIntervalSince1970: 1_760_000_000.001)
        var firstIDs: [UUID] = []
        var secondIDs: [UUID] = []
        for _ in 0..<1_000 {
            firstIDs.append(UUIDv7.make(at: first))
            secondIDs.append(UUIDv7.make(at: second))
        }
        for ids in [firstIDs, secondIDs] {
            for (earlier, later) in zip(ids, ids.dropFirst()) {
                #expect(bytes(of: earlier).lexicographicallyPrecedes(bytes(of: later)))
            }
        }
    }
}
