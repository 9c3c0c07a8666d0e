import SwiftProtobuf

/// The protocol version this build speaks; peers must send the same.
public let droverProtocolVersion: UInt32 = UInt32(Drover_V1_ProtocolVersion.current.rawValue)

/// Largest frame either side accepts, in bytes; larger frames disconnect the sender.
public let droverMaxFrameBytes: Int64 = 1 << 20

extension Drover_V1_Envelope {
    /// An envelope of the current protocol version around a control request.
    public static func request(_ request: Drover_V1_ControlRequest) -> Drover_V1_Envelope {
        .with {
            $0.protocolVersion = droverProtocolVersion
            $0.controlRequest = request
        }
    }

    /// An envelope of the current protocol version around a control reply.
    public static func reply(_ reply: Drover_V1_ControlReply) -> Drover_V1_Envelope {
        .with {
            $0.protocolVersion = droverProtocolVersion
            $0.controlReply = reply
        }
    }
}

extension Drover_V1_ControlReply {
    /// A reply that reports a failed request.
    public static func failure(
        requestID: UInt64, code: Drover_V1_Error.Code, message: String
    ) -> Drover_V1_ControlReply {
        .with {
            $0.requestID = requestID
            $0.error = .with {
                $0.code = code
                $0.message = message
            }
        }
    }
}

extension Message {
    /// This message in protobuf's JSON mapping with proto field names, compact.
    ///
    /// Map fields come out sorted, but the members of a `google.protobuf.Struct` come out
    /// in dictionary order; `ProtoJSON` in DroverClient gives the stable, sorted form users see.
    public func droverJSON() throws -> String {
        var options = JSONEncodingOptions()
        options.useDeterministicOrdering = true
        options.preserveProtoFieldNames = true
        return try jsonString(options: options)
    }
}
