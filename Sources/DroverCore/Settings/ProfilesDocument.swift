/// The profiles file, `DROVER_HOME/profiles.toml`: named sets of settings and which
/// one is active.
///
/// ```toml
/// active = "default"
///
/// [profiles.default]
/// DROVER_SERVER = "tcp://127.0.0.1:4201"
/// ```
///
/// Only this subset of TOML is read: comments, `key = "string"` pairs (bare numbers and
/// booleans are read as text), and `[profiles.NAME]` tables.
public struct ProfilesDocument: Sendable, Equatable {
    /// The name of the profile used when `DROVER_PROFILE` is not set.
    public var active: String
    /// Settings of each profile, by profile name.
    public var profiles: [String: [String: String]]

    public init(active: String = "default", profiles: [String: [String: String]] = ["default": [:]]) {
        self.active = active
        self.profiles = profiles
    }

    /// Parses the file's text, or throws naming the line that is wrong.
    public init(parsing text: String) throws(DroverError) {
        self.init(active: "default", profiles: [:])
        var current: String?
        // "\r\n" is one Character in Swift, so split on it too or a CRLF file reads as one line.
        let lines = text.split(omittingEmptySubsequences: false, whereSeparator: { $0 == "\n" || $0 == "\r\n" })
        for (offset, rawLine) in lines.enumerated() {
            let line = Self.stripComment(rawLine).trimmingSpaces()
            if line.isEmpty { continue }
            func bad(_ reason: String) -> DroverError {
                .invalidArgument("profiles.toml line \(offset + 1): \(reason)")
            }
            if line.hasPrefix("[") {
                guard line.hasSuffix("]"), line.hasPrefix("[profiles.") else {
                    throw bad("expected a table such as [profiles.default]")
                }
                let rawName = String(line.dropFirst("[profiles.".count).dropLast()).trimmingSpaces()
                let name = rawName.hasPrefix("\"") ? try Self.unquote(rawName, or: bad("bad quoted name")) : rawName
                guard !name.isEmpty else { throw bad("a profile needs a name") }
                current = name
                profiles[name, default: [:]] = profiles[name] ?? [:]
                continue
            }
            guard let equals = line.firstIndex(of: "=") else { throw bad("expected KEY = \"value\"") }
            let key = String(line[..<equals]).trimmingSpaces()
            let rawValue = String(line[line.index(after: equals)...]).trimmingSpaces()
            guard !key.isEmpty else { throw bad("a key is missing before '='") }
            let value = rawValue.hasPrefix("\"") ? try Self.unquote(rawValue, or: bad("unterminated string")) : rawValue
            if let profile = current {
                profiles[profile]![key] = value
            } else if key == "active" {
                active = value
            } else {
                throw bad("unknown top-level key '\(key)'")
            }
        }
        if profiles.isEmpty { profiles = [active: [:]] }
    }

    /// The file's text, keys sorted so that rewrites are stable.
    public func render() -> String {
        var out = "active = \(Self.quote(active))\n"
        for name in profiles.keys.sorted() {
            let bare = name.allSatisfy { $0.isLetter || $0.isNumber || $0 == "-" || $0 == "_" }
            out += "\n[profiles.\(bare ? name : Self.quote(name))]\n"
            for key in profiles[name]!.keys.sorted() {
                out += "\(key) = \(Self.quote(profiles[name]![key]!))\n"
            }
        }
        return out
    }

    private static func stripComment(_ line: Substring) -> Substring {
        var inString = false
        var escaped = false
        for index in line.indices {
            let c = line[index]
            if escaped { escaped = false; continue }
            if c == "\\" && inString {
                escaped = true
            } else if c == "\"" {
                inString.toggle()
            } else if c == "#" && !inString {
                return line[..<index]
            }
        }
        return line
    }

    static func quote(_ text: String) -> String {
        var out = "\""
        for c in text {
            switch c {
            case "\"": out += "\\\""
            case "\\": out += "\\\\"
            case "\n": out += "\\n"
            case "\t": out += "\\t"
            case "\r": out += "\\r"
            default: out.append(c)
            }
        }
        return out + "\""
    }

    static func unquote(_ text: String, or error: DroverError) throws(DroverError) -> String {
        guard text.count >= 2, text.hasPrefix("\""), text.hasSuffix("\"") else { throw error }
        var out = ""
        var escaped = false
        for c in text.dropFirst().dropLast() {
            if escaped {
                switch c {
                case "n": out.append("\n")
                case "t": out.append("\t")
                case "r": out.append("\r")
                default: out.append(c)
                }
                escaped = false
            } else if c == "\\" {
                escaped = true
            } else if c == "\"" {
                throw error
            } else {
                out.append(c)
            }
        }
        if escaped { throw error }
        return out
    }
}

extension StringProtocol {
    func trimmingSpaces() -> String {
        var slice = Substring(self)
        while let first = slice.first, first == " " || first == "\t" || first == "\r" { slice.removeFirst() }
        while let last = slice.last, last == " " || last == "\t" || last == "\r" { slice.removeLast() }
        return String(slice)
    }
}
