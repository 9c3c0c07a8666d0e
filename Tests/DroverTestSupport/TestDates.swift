import Foundation

/// Fixed instants for tests that must not depend on the wall clock.
public enum TestDates {
    /// 2026-01-01T00:00:00Z.
    public static let epoch = Date(timeIntervalSince1970: 1_767_225_600)

    /// `epoch` plus `seconds`.
    public static func at(_ seconds: Double) -> Date {
        epoch.addingTimeInterval(seconds)
    }
}
