import DroverCore
import DroverProto
import SwiftProtobuf

/// What `-o json` prints: protobuf's JSON mapping with proto field names, every object's
/// keys sorted and indented by two spaces, so the same state always prints the same text.
public enum ProtoJSON {
    /// One message as a JSON object.
    public static func render(_ message: some SwiftProtobuf.Message) throws -> String {
        try canonical(message.droverJSON())
    }

    /// Messages as a JSON array (`[]` when empty), as `ls -o json` prints them.
    public static func render(_ messages: [some SwiftProtobuf.Message]) throws -> String {
        try canonical("[" + messages.map { try $0.droverJSON() }.joined(separator: ",") + "]")
    }

    private static func canonical(_ json: String) throws -> String {
        try JSONValue.parse(json, what: "reply").render(pretty: true)
    }
}
