/// `KEY=VALUE` command-line arguments, as given to `--param` and `--job-variable`.
///
/// Each item is split at its first `=`, so values may contain `=`. The value is read as
/// JSON when it is valid JSON (`8080`, `true`, `null`, `[1, 2]`, `{"a": 1}`, `"quoted"`)
/// and taken as a plain string otherwise (`hello`, `007`, or nothing at all). When a key
/// repeats, the last value wins.
public enum KeyValueArgument {
    /// Parses `items` into a JSON object's members.
    /// - Parameter what: what the items are, for the message ("--param").
    /// - Throws: `invalidArgument` for an item without `=` or with nothing before it.
    public static func parse(_ items: [String], what: String) throws(DroverError) -> [String: JSONValue] {
        var members: [String: JSONValue] = [:]
        for item in items {
            guard let equals = item.firstIndex(of: "="), equals != item.startIndex else {
                throw .invalidArgument("Expected KEY=VALUE for \(what), got '\(ResourceName.printable(item))'.")
            }
            let text = String(item[item.index(after: equals)...])
            members[String(item[..<equals])] = (try? JSONValue.parse(text, what: what)) ?? .string(text)
        }
        return members
    }
}
