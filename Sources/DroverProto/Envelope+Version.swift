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
    /// This message in protobuf's JSON mapping, keys sorted so output is stable.
    public func droverJSON(pretty: Bool = true) throws -> String {
        var options = JSONEncodingOptions()
        options.useDeterministicOrdering = true
        options.preserveProtoFieldNames = true
        options.alwaysPrintEnumsAsInts = false
        let compact = try jsonString(options: options)
        return pretty ? JSONPrettyPrinter.format(compact) : compact
    }
}

/// Re-indents compact JSON with two spaces, leaving the content of strings untouched.
public enum JSONPrettyPrinter {
    public static func format(_ json: String) -> String {
        var out = ""
        var indent = 0
        var inString = false
        var escaped = false
        var chars = Array(json)
        var index = 0
        func newline() { out.append("\n"); out.append(String(repeating: "  ", count: indent)) }
        while index < chars.count {
            let c = chars[index]
            if inString {
                out.append(c)
                if escaped { escaped = false } else if c == "\\" { escaped = true } else if c == "\"" { inString = false }
            } else {
                switch c {
                case "\"": inString = true; out.append(c)
                case "{", "[":
                    // Keep empty objects and arrays on one line.
                    if index + 1 < chars.count, chars[index + 1] == (c == "{" ? "}" : "]") {
                        out.append(c); out.append(chars[index + 1]); index += 1
                    } else {
                        out.append(c); indent += 1; newline()
                    }
                case "}", "]": indent -= 1; newline(); out.append(c)
                case ",": out.append(c); newline()
                case ":": out.append(": ")
                case " ", "\n", "\t", "\r": break
                default: out.append(c)
                }
            }
            index += 1
        }
        chars.removeAll()
        return out
    }
}
