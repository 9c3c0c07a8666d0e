import DroverProto
import SwiftProtobuf

/// JSON for lists: a top-level array of objects in protobuf's JSON mapping, as
/// `prefect … ls -o json` prints.
enum JSONArray {
    static func render<M: SwiftProtobuf.Message>(_ items: [M]) throws -> String {
        guard !items.isEmpty else { return "[]" }
        let objects = try items.map { try $0.droverJSON(pretty: false) }
        return JSONPrettyPrinter.format("[" + objects.joined(separator: ",") + "]")
    }
}
