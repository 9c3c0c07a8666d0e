import Foundation

/// A work pool's base job template: `job_configuration` with `{{ variable }}`
/// placeholders, and `variables`, the JSON schema of the knobs deployments and runs may
/// set, with their defaults.
///
/// A template is valid when both parts are objects and every placeholder names a
/// declared variable, so rendering can never meet an unknown name.
public struct BaseJobTemplate: Sendable, Hashable {
    /// The whole template, as stored and shown.
    public let json: JSONValue

    /// The largest template accepted, in bytes of JSON text.
    public static let maximumBytes = 64 * 1024
    /// The deepest nesting of objects and arrays accepted. Each level costs two levels of
    /// protobuf `Struct`/`Value` on the wire, and protobuf decoders stop at 100.
    public static let maximumDepth = 32

    /// Validates `json` as a template.
    public init(_ json: JSONValue) throws(DroverError) {
        guard let members = json.objectValue else {
            throw .invalidArgument("The base job template must be a JSON object with 'job_configuration' and 'variables'.")
        }
        guard json.depth <= Self.maximumDepth else {
            throw .invalidArgument(
                "The base job template nests objects and arrays \(json.depth) levels deep; "
                    + "the most accepted is \(Self.maximumDepth).")
        }
        guard let configuration = members["job_configuration"], let variables = members["variables"] else {
            throw .invalidArgument(
                "The base job template must contain both a 'job_configuration' key and a 'variables' key.")
        }
        guard configuration.objectValue != nil else {
            throw .invalidArgument("The base job template's 'job_configuration' must be a JSON object.")
        }
        guard let schema = variables.objectValue else {
            throw .invalidArgument("The base job template's 'variables' must be a JSON schema object.")
        }
        let properties: [String: JSONValue]
        switch schema["properties"] {
        case nil: properties = [:]
        case .object(let members)?: properties = members
        case _?: throw .invalidArgument("The base job template's 'variables.properties' must be a JSON object.")
        }
        let undeclared = Set(Self.placeholders(in: configuration)).subtracting(properties.keys).sorted()
        if !undeclared.isEmpty {
            throw .invalidArgument(
                "The variables used in the job configuration must be declared in 'variables.properties'. "
                    + "Undeclared: \(undeclared.joined(separator: ", ")).")
        }
        self.json = json
    }

    /// Parses and validates template JSON text.
    public init(parsing text: String) throws(DroverError) {
        guard text.utf8.count <= Self.maximumBytes else {
            throw .invalidArgument(
                "The base job template is \(text.utf8.count) bytes; the most accepted is \(Self.maximumBytes).")
        }
        try self.init(JSONValue.parse(text, what: "base job template"))
    }

    /// The variable names referenced as `{{ name }}` anywhere in `value`'s strings.
    public static func placeholders(in value: JSONValue) -> [String] {
        switch value {
        case .string(let text): return placeholderNames(in: text)
        case .array(let items): return items.flatMap(placeholders(in:))
        case .object(let members): return members.values.flatMap(placeholders(in:))
        case .null, .bool, .number: return []
        }
    }

    /// Names inside `{{ … }}` in `text`; dotted names (`{{ a.b }}`) are not variables.
    static func placeholderNames(in text: String) -> [String] {
        var names: [String] = []
        var rest = Substring(text)
        while let open = rest.range(of: "{{") {
            guard let close = rest[open.upperBound...].range(of: "}}") else { break }
            let name = rest[open.upperBound..<close.lowerBound].trimmingCharacters(in: .whitespaces)
            if !name.isEmpty, name.allSatisfy({ $0.isLetter || $0.isNumber || $0 == "_" }) {
                names.append(name)
            }
            rest = rest[close.upperBound...]
        }
        return names
    }
}

extension BaseJobTemplate {
    /// The `process` type's template, with the variables of Prefect's process worker.
    public static let process: BaseJobTemplate = {
        let nullableString: JSONValue = ["anyOf": [["type": "string"], ["type": "null"]]]
        func property(_ title: String, _ description: String, _ schema: [String: JSONValue]) -> JSONValue {
            var members = schema
            members["title"] = .string(title)
            members["description"] = .string(description)
            return .object(members)
        }
        let properties: JSONValue = [
            "command": property(
                "Command",
                "The command to use when starting a flow run. In most cases, this should be left blank "
                    + "and the command will be automatically generated by the worker.",
                ["anyOf": nullableString["anyOf"]!, "default": nil]),
            "env": property(
                "Environment Variables",
                "Environment variables to set when starting a flow run.",
                ["type": "object", "additionalProperties": nullableString]),
            "labels": property(
                "Labels",
                "Labels applied to infrastructure created by a worker.",
                ["type": "object", "additionalProperties": ["type": "string"]]),
            "name": property(
                "Name",
                "Name given to infrastructure created by a worker.",
                ["anyOf": nullableString["anyOf"]!, "default": nil]),
            "stream_output": property(
                "Stream Output",
                "If enabled, workers will stream output from flow run processes to local standard output.",
                ["type": "boolean", "default": true]),
            "working_dir": property(
                "Working Directory",
                "If provided, workers will open flow run processes within the specified path as the working "
                    + "directory. Otherwise, a temporary directory will be created.",
                ["anyOf": [["type": "string", "format": "path"], ["type": "null"]], "default": nil]),
        ]
        let json: JSONValue = [
            "job_configuration": [
                "command": "{{ command }}",
                "env": "{{ env }}",
                "labels": "{{ labels }}",
                "name": "{{ name }}",
                "stream_output": "{{ stream_output }}",
                "working_dir": "{{ working_dir }}",
            ],
            "variables": ["type": "object", "properties": properties],
        ]
        // The literal above is checked by the tests; a failure here is a programming error.
        return try! BaseJobTemplate(json)
    }()
}
