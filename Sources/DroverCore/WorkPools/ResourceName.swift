/// Rules for the names of pools, queues and other objects users create.
///
/// A name must survive every place it travels: CLI arguments, table output, the store,
/// event topics (`pool/<name>/…`) and later URLs. So it is non-empty, at most
/// `maximumLength` characters and `maximumBytes` bytes of UTF-8 (one character may hold
/// many bytes), has no surrounding spaces, no control characters, none of
/// `/ % & > <` (Prefect bans the same), and does not start with `-` (it would read as an
/// option).
public enum ResourceName {
    /// The longest name accepted, in characters.
    public static let maximumLength = 100
    /// The longest name accepted, in bytes of UTF-8: four per character.
    public static let maximumBytes = 4 * maximumLength
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
        if name.utf8.count > maximumBytes {
            throw invalid("names are at most \(maximumBytes) bytes of UTF-8 (this one has \(name.utf8.count)).")
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

    /// `name` with control characters escaped, safe to echo in a message. Text of more than
    /// `maximumLength` + 20 Unicode scalars (escaped) is cut to its first `maximumLength`,
    /// and "…": however long the name, the message stays short.
    public static func printable(_ name: String) -> String {
        var out = String.UnicodeScalarView()
        var count = 0
        for scalar in name.unicodeScalars {
            if scalar.properties.generalCategory == .control {
                let escaped = scalar.escaped(asASCII: true).unicodeScalars
                out.append(contentsOf: escaped)
                count += escaped.count
            } else {
                out.append(scalar)
                count += 1
            }
            if count > maximumLength + 20 {
                return String(String.UnicodeScalarView(out.prefix(maximumLength))) + "…"
            }
        }
        return String(out)
    }
}
