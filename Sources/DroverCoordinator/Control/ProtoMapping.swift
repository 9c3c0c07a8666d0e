import DroverCore
import DroverProto
import Foundation
import SwiftProtobuf

// Conversions from Core's domain values to their wire form. The server is the only
// producer of these messages, so the mapping lives here, in one place.

extension Drover_V1_WorkPool {
    init(_ pool: WorkPool, onlineWorkers: Int) {
        self.init()
        id = pool.id.uuidString.lowercased()
        name = pool.name
        type = pool.type.rawValue
        description_p = pool.description
        baseJobTemplate = Google_Protobuf_Struct(pool.baseJobTemplate.json)
        isPaused = pool.isPaused
        if let limit = pool.concurrencyLimit { concurrencyLimit = limit }
        status = Drover_V1_WorkPoolStatus(pool.status(onlineWorkers: onlineWorkers))
        defaultQueueID = pool.defaultQueueID.uuidString.lowercased()
        created = Google_Protobuf_Timestamp(microsecondsOf: pool.created)
        updated = Google_Protobuf_Timestamp(microsecondsOf: pool.updated)
    }
}

extension Drover_V1_WorkPoolStatus {
    init(_ status: WorkPoolStatus) {
        switch status {
        case .ready: self = .ready
        case .notReady: self = .notReady
        case .paused: self = .paused
        }
    }
}

extension Drover_V1_WorkQueue {
    init(_ queue: WorkQueue, poolName: String, onlineWorkers: Int) {
        self.init()
        id = queue.id.uuidString.lowercased()
        name = queue.name
        description_p = queue.description
        priority = queue.priority
        if let limit = queue.concurrencyLimit { concurrencyLimit = limit }
        isPaused = queue.isPaused
        workPoolID = queue.poolID.uuidString.lowercased()
        workPoolName = poolName
        status = queue.isPaused ? .workQueuePaused : (onlineWorkers > 0 ? .workQueueReady : .workQueueNotReady)
        created = Google_Protobuf_Timestamp(microsecondsOf: queue.created)
        updated = Google_Protobuf_Timestamp(microsecondsOf: queue.updated)
    }
}

extension Drover_V1_Error.Code {
    init(_ code: DroverError.Code) {
        switch code {
        case .notFound: self = .notFound
        case .alreadyExists: self = .alreadyExists
        case .invalidArgument: self = .invalidArgument
        case .failedPrecondition: self = .failedPrecondition
        case .unsupportedVersion: self = .unsupportedVersion
        case .malformedMessage: self = .malformedMessage
        case .unavailable: self = .unavailable
        case .internal: self = .internal
        }
    }
}

extension Google_Protobuf_Struct {
    /// A Struct with the members of `json`, which must be an object (anything else gives an empty Struct).
    init(_ json: JSONValue) {
        self.init()
        for (key, value) in json.objectValue ?? [:] {
            fields[key] = Google_Protobuf_Value(json: value)
        }
    }
}

extension Google_Protobuf_Value {
    init(json: JSONValue) {
        self.init()
        switch json {
        case .null: nullValue = .nullValue
        case .bool(let value): boolValue = value
        case .number(let value): numberValue = value
        case .string(let value): stringValue = value
        case .array(let items): listValue = .with { $0.values = items.map(Google_Protobuf_Value.init(json:)) }
        case .object: structValue = Google_Protobuf_Struct(json)
        }
    }
}

extension Google_Protobuf_Timestamp {
    /// A timestamp of `date` at the store's precision, whole microseconds, so a value
    /// reads the same before and after a restart.
    init(microsecondsOf date: Date) {
        let microseconds = Int64((date.timeIntervalSince1970 * 1_000_000).rounded())
        let (seconds, remainder) = microseconds.quotientAndRemainder(dividingBy: 1_000_000)
        let (wholeSeconds, fraction) = remainder < 0 ? (seconds - 1, remainder + 1_000_000) : (seconds, remainder)
        self.init(seconds: wholeSeconds, nanos: Int32(fraction * 1000))
    }
}
