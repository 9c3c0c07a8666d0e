import Foundation

/// A scheduled time at the store's precision, whole microseconds, to compare times read
/// back from the store with times a schedule computes.
struct ScheduleKey: Hashable {
    let microseconds: Int64

    init(_ date: Date) {
        microseconds = Int64((date.timeIntervalSince1970 * 1_000_000).rounded())
    }
}
