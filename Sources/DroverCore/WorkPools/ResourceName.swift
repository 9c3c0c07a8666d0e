/// Rules for the names of pools, queues and other objects users create.
///
/// A name must survive every place it travels: CLI arguments, table output, the store,
/// event topics (`pool/<name>/…`) and later URLs. So it is non-empty, at most
/// `maximumLength` characters, has no surrounding spaces, no control characters, none of
/// `/ % & > <` (Prefect bans the same), and does not start with `-` (it would read as an
/// option).
public enum ResourceName {
    /// The longest name accepted, in characters.
    public static let maximumLength = 100
    /// Characters that may not appear in a name.
    public static let bannedCharacters: [Character] = ["/", "%", "&", ">", "<"]

    /// Returns `name` if it is valid, or throws `invalidArgument` saying what is wrong.
    /// - Parameter kind: what is being named, for the message ("work pool", "work queue").
    @discardableResult
    public static func validate(_ name: String, kind: String) throws(DroverError) -> String {
        func invalid(_ reason: String) -> DroverError {
            .invalidArgument("Invalid \(kind) name '\(printable(name))': \(reason)")
        }
        if name.isEmpty {
            throw .invalidArgument("A \(kind) name cannot be empty.")
        }
        if name.count > maximumLength {
            throw invalid("names are at most \(maximumLength) characters (this one has \(name.count)).")
        }
        if name.first!.isWhitespace || name.last!.isWhitespace {
            throw invalid("names cannot start or end with a space.")
        }
        if name.unicodeScalars.contains(where: { $0.properties.generalCategory == .control }) {
            throw invalid("names cannot contain control characters such as newlines or tabs.")
        }
        if let banned = name.first(where: { bannedCharacters.contains($0) }) {
            throw invalid("names cannot contain '\(banned)' (nor any of / % & > <).")
        }
        if name.hasPrefix("-") {
            throw invalid("names cannot start with '-', which the command line reads as an option.")
        }
        return name
    }

    /// `name` with control characters escaped, safe to echo in a message.
    public static func printable(_ name: String) -> String {
        var out = ""
        for scalar in name.unicodeScalars {
            if scalar.properties.generalCategory == .control {
                out += scalar.escaped(asASCII: true)
            } else {
                out.unicodeScalars.append(scalar)
            }
        }
        return out.count > maximumLength + 20 ? String(out.prefix(maximumLength)) + "…" : out
    }
}
