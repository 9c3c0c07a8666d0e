import DroverCore
import DroverProto
import Foundation
import SwiftProtobuf

// Core values to and from their wire form, for the server and the clients alike.

extension StateType {
    /// The Core state of a wire state type; nil for an unspecified or unknown one.
    public init?(wire: Drover_V1_StateType) {
        switch wire {
        case .scheduled: self = .scheduled
        case .pending: self = .pending
        case .running: self = .running
        case .completed: self = .completed
        case .failed: self = .failed
        case .crashed: self = .crashed
        case .cancelling: self = .cancelling
        case .cancelled: self = .cancelled
        case .unspecified, .UNRECOGNIZED: return nil
        }
    }
}

extension Drover_V1_StateType {
    /// The wire form of a Core state.
    public init(_ type: StateType) {
        switch type {
        case .scheduled: self = .scheduled
        case .pending: self = .pending
        case .running: self = .running
        case .completed: self = .completed
        case .failed: self = .failed
        case .crashed: self = .crashed
        case .cancelling: self = .cancelling
        case .cancelled: self = .cancelled
        }
    }
}

extension Drover_V1_Error.Code {
    /// The wire form of a Core error code.
    public init(_ code: DroverError.Code) {
        switch code {
        case .notFound: self = .notFound
        case .alreadyExists: self = .alreadyExists
        case .invalidArgument: self = .invalidArgument
        case .failedPrecondition: self = .failedPrecondition
        case .unsupportedVersion: self = .unsupportedVersion
        case .malformedMessage: self = .malformedMessage
        case .unavailable: self = .unavailable
        case .internal: self = .internal
        case .permissionDenied: self = .permissionDenied
        }
    }
}

extension DroverError.Code {
    /// The Core code for a wire error code.
    public init(_ code: Drover_V1_Error.Code) {
        switch code {
        case .notFound: self = .notFound
        case .alreadyExists: self = .alreadyExists
        case .invalidArgument: self = .invalidArgument
        case .failedPrecondition: self = .failedPrecondition
        case .unsupportedVersion: self = .unsupportedVersion
        case .malformedMessage: self = .malformedMessage
        case .unavailable: self = .unavailable
        case .permissionDenied: self = .permissionDenied
        case .internal, .unspecified, .UNRECOGNIZED: self = .internal
        }
    }
}

extension Google_Protobuf_Timestamp {
    /// A timestamp of `date` at the store's precision, whole microseconds, so a value
    /// reads the same before and after a restart.
    ///
    /// Total: it never traps, and the result is always valid (`isValid`). A date outside
    /// 0001-01-01T00:00:00Z ... 9999-12-31T23:59:59.999999Z is clamped to the nearer end
    /// (a NaN date gives 1970-01-01), so one bad stored value can never fail a whole reply.
    public init(microsecondsOf date: Date) {
        let earliest = Self.minimumValidSeconds * 1_000_000
        let latest = Self.maximumValidSeconds * 1_000_000 + 999_999
        let microseconds = min(max(date.microsecondsSince1970, earliest), latest)
        let (seconds, remainder) = microseconds.quotientAndRemainder(dividingBy: 1_000_000)
        let (wholeSeconds, fraction) = remainder < 0 ? (seconds - 1, remainder + 1_000_000) : (seconds, remainder)
        self.init(seconds: wholeSeconds, nanos: Int32(fraction * 1000))
    }
}

extension Drover_V1_CatchUp {
    public init(_ policy: CatchUpPolicy) {
        switch policy {
        case .all: self = .all
        case .latest: self = .latest
        case .none: self = .none
        }
    }

    /// The policy asked for; nil when unspecified.
    public var policy: CatchUpPolicy? {
        switch self {
        case .all: .all
        case .latest: .latest
        case .none: CatchUpPolicy.none
        case .unspecified, .UNRECOGNIZED: nil
        }
    }
}

extension Drover_V1_CollisionStrategy {
    public init(_ strategy: CollisionStrategy) {
        switch strategy {
        case .enqueue: self = .enqueue
        case .cancelNew: self = .cancelNew
        }
    }

    /// The strategy asked for; nil when unspecified.
    public var strategy: CollisionStrategy? {
        switch self {
        case .enqueue: .enqueue
        case .cancelNew: .cancelNew
        case .unspecified, .UNRECOGNIZED: nil
        }
    }
}
