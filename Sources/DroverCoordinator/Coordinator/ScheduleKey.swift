import DroverCore
import Foundation

/// A scheduled time at the store's precision, whole microseconds, to compare times read
/// back from the store with times a schedule computes.
struct ScheduleKey: Hashable {
    let microseconds: Int64

    init(_ date: Date) {
        microseconds = date.microsecondsSince1970
    }
}
