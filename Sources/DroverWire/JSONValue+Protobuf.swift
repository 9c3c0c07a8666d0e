import DroverCore
import SwiftProtobuf

// JSON values to and from protobuf's Struct, the wire form of templates, parameters,
// job variables and job configurations.

extension Google_Protobuf_Struct {
    /// A Struct with the members of `json`, which must be an object (anything else gives an empty Struct).
    public init(_ json: JSONValue) {
        self.init()
        for (key, value) in json.objectValue ?? [:] {
            fields[key] = Google_Protobuf_Value(json: value)
        }
    }
}

extension Google_Protobuf_Value {
    /// The protobuf form of a JSON value.
    public init(json: JSONValue) {
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

extension JSONValue {
    /// The JSON object a protobuf Struct holds.
    public init(_ value: Google_Protobuf_Struct) {
        self = .object(value.fields.mapValues(JSONValue.init(protobuf:)))
    }

    /// The JSON value a protobuf Value holds.
    public init(protobuf value: Google_Protobuf_Value) {
        switch value.kind {
        case .nullValue, nil: self = .null
        case .numberValue(let number): self = .number(number)
        case .stringValue(let text): self = .string(text)
        case .boolValue(let flag): self = .bool(flag)
        case .structValue(let object): self = JSONValue(object)
        case .listValue(let list): self = .array(list.values.map(JSONValue.init(protobuf:)))
        }
    }
}
