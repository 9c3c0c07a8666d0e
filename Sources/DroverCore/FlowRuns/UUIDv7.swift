import Foundation
import Synchronization

/// Time-ordered UUIDs (version 7 of RFC 9562), the ids of flow runs.
///
/// Layout, most significant bits first:
///
/// | bits | content |
/// | --- | --- |
/// | 48 | Unix time in milliseconds, big-endian (`unix_ts_ms`) |
/// | 4 | version, `0111` |
/// | 12 | `rand_a`: the high bits of a per-millisecond counter |
/// | 2 | variant, `10` |
/// | 14 | the low bits of that counter (the top of `rand_b`) |
/// | 48 | random |
///
/// The counter is RFC 9562's "fixed bit-length dedicated counter" (method 1), 26 bits
/// wide: it starts at a random value below 2^25 in each new millisecond and goes up by one
/// for each further id of that millisecond. So ids of one process sort by time, and
/// within one millisecond in the order they were made, whether compared as bytes or as
/// lowercased `uuidString`s, for at least 2^25 ids per millisecond.
///
/// The process remembers the counters of the most recently used milliseconds, not just the
/// latest, so callers that pass their own dates (manual clocks in tests) do not disturb
/// the order of ids made at another instant in between.
public enum UUIDv7 {
    /// Makes an id stamped with `date`, drawing its random bits from `random`.
    ///
    /// The millisecond is rounded down, allowing a microsecond for floating-point error so
    /// that a date read back with `timestamp(of:)` stamps the same millisecond. Dates before
    /// 1970 are stamped as 1970.
    public static func make(at date: Date, random: inout some RandomNumberGenerator) -> UUID {
        let milliseconds = unixMilliseconds(of: date)
        let seed = random.next() & (Counters.counterLimit / 2 - 1)
        let tail = random.next() & 0xFFFF_FFFF_FFFF
        let counter = counters.withLock { $0.next(at: milliseconds, seed: seed) }
        return assemble(milliseconds: milliseconds, counter: counter, tail: tail)
    }

    /// Makes an id stamped with `date` (now by default), with the system's random numbers.
    public static func make(at date: Date = Date()) -> UUID {
        var random = SystemRandomNumberGenerator()
        return make(at: date, random: &random)
    }

    /// The instant a version 7 id was made, to the millisecond, or nil when `id` is not a
    /// version 7, variant `10` UUID.
    public static func timestamp(of id: UUID) -> Date? {
        let bytes = withUnsafeBytes(of: id.uuid) { Array($0) }
        guard bytes[6] >> 4 == 7, bytes[8] >> 6 == 0b10 else { return nil }
        let milliseconds = bytes[0..<6].reduce(UInt64(0)) { $0 << 8 | UInt64($1) }
        return Date(timeIntervalSince1970: Double(milliseconds) / 1000)
    }

    private static let counters = Mutex(Counters())

    private static func unixMilliseconds(of date: Date) -> UInt64 {
        let milliseconds = (date.timeIntervalSince1970 * 1000 + 0.001).rounded(.down)
        guard milliseconds > 0 else { return 0 }
        return min(UInt64(milliseconds), Counters.largestTimestamp)
    }

    private static func assemble(milliseconds: UInt64, counter: UInt64, tail: UInt64) -> UUID {
        let randA = counter >> 14
        let randBHigh = counter & 0x3FFF
        var bytes = [UInt8](repeating: 0, count: 16)
        for index in 0..<6 {
            bytes[index] = UInt8(truncatingIfNeeded: milliseconds >> (8 * (5 - index)))
        }
        bytes[6] = 0x70 | UInt8(truncatingIfNeeded: randA >> 8)
        bytes[7] = UInt8(truncatingIfNeeded: randA)
        bytes[8] = 0x80 | UInt8(truncatingIfNeeded: randBHigh >> 8)
        bytes[9] = UInt8(truncatingIfNeeded: randBHigh)
        for index in 10..<16 {
            bytes[index] = UInt8(truncatingIfNeeded: tail >> (8 * (15 - index)))
        }
        return UUID(
            uuid: (
                bytes[0], bytes[1], bytes[2], bytes[3], bytes[4], bytes[5], bytes[6], bytes[7],
                bytes[8], bytes[9], bytes[10], bytes[11], bytes[12], bytes[13], bytes[14], bytes[15]
            ))
    }
}

extension UUIDv7 {
    /// The last counter of each recently used millisecond, least recently used forgotten
    /// first.
    struct Counters {
        /// One past the largest counter value (26 bits).
        static let counterLimit: UInt64 = 1 << 26
        /// The largest 48-bit millisecond timestamp.
        static let largestTimestamp: UInt64 = (1 << 48) - 1
        /// How many milliseconds are remembered.
        static let capacity = 32

        private struct Entry {
            var milliseconds: UInt64
            var counter: UInt64
            var lastUse: UInt64
        }

        private var entries: [Entry] = []
        private var uses: UInt64 = 0

        /// The counter for the next id of `milliseconds`: one more than the last one, or
        /// `seed` for a millisecond not seen recently (or whose counter ran out).
        mutating func next(at milliseconds: UInt64, seed: UInt64) -> UInt64 {
            uses += 1
            if let index = entries.firstIndex(where: { $0.milliseconds == milliseconds }) {
                let following = entries[index].counter + 1
                entries[index].counter = following < Self.counterLimit ? following : seed
                entries[index].lastUse = uses
                return entries[index].counter
            }
            let entry = Entry(milliseconds: milliseconds, counter: seed, lastUse: uses)
            if entries.count < Self.capacity {
                entries.append(entry)
            } else {
                let oldest = entries.indices.min { entries[$0].lastUse < entries[$1].lastUse }!
                entries[oldest] = entry
            }
            return seed
        }
    }
}
