import Foundation

/// A work pool's base job template rendered for one flow run: what a worker needs to start
/// the run's infrastructure (for a `process` pool: command, environment, working directory).
public struct JobConfiguration: Sendable, Hashable {
    /// The rendered `job_configuration`: every placeholder replaced by its variable's value.
    public let values: [String: JSONValue]

    /// Wraps already rendered values.
    public init(values: [String: JSONValue]) {
        self.values = values
    }

    /// Renders `template`'s `job_configuration` for one run.
    ///
    /// The variables are the defaults of `variables.properties` (only properties with a
    /// `default` key), overridden by the deployment's job variables, overridden in turn by
    /// the run's: Prefect's order. Values are not checked against the properties' schemas.
    ///
    /// Then each string of `job_configuration` is rendered: a string that is exactly one
    /// placeholder (`"{{ env }}"`) becomes the variable's JSON value itself, or `null`
    /// when the variable has no value; in a string with other text around placeholders,
    /// each is replaced by the value's text (strings as they are, `null` as nothing, other
    /// values as compact JSON). Objects and arrays are rendered member by member; other
    /// values are kept. Placeholders follow `BaseJobTemplate`'s rules, so `{{ a.b }}` is
    /// plain text.
    ///
    /// - Throws: `invalidArgument` when an override names a variable the template does not
    ///   declare, listing those it does.
    public static func render(
        template: BaseJobTemplate, deploymentVariables: [String: JSONValue], runVariables: [String: JSONValue]
    ) throws(DroverError) -> JobConfiguration {
        let properties = try checkVariables(
            template: template, deploymentVariables: deploymentVariables, runVariables: runVariables)
        var variables = properties.compactMapValues { $0["default"] }
        variables.merge(deploymentVariables) { _, override in override }
        variables.merge(runVariables) { _, override in override }
        let configuration = template.json["job_configuration"]?.objectValue ?? [:]
        return JobConfiguration(values: configuration.mapValues { render($0, variables: variables) })
    }

    /// Checks that every override names a variable `template` declares, without
    /// rendering anything; returns the template's variable properties.
    ///
    /// - Throws: `invalidArgument` for an unknown variable, listing those it declares.
    @discardableResult
    public static func checkVariables(
        template: BaseJobTemplate, deploymentVariables: [String: JSONValue], runVariables: [String: JSONValue]
    ) throws(DroverError) -> [String: JSONValue] {
        let properties = template.json["variables"]?["properties"]?.objectValue ?? [:]
        for overrides in [deploymentVariables, runVariables] where !overrides.isEmpty {
            for key in overrides.keys.sorted() where properties[key] == nil {
                let known = properties.keys.sorted()
                throw .invalidArgument(
                    known.isEmpty
                        ? "Unknown job variable '\(key)': this work pool declares no job variables."
                        : "Unknown job variable '\(key)' for this work pool. Known variables: "
                            + "\(known.joined(separator: ", ")).")
            }
        }
        return properties
    }

    private static func render(_ value: JSONValue, variables: [String: JSONValue]) -> JSONValue {
        switch value {
        case .string(let text):
            let pieces = TemplateText.pieces(of: text)
            if pieces.count == 1, case .placeholder(let name) = pieces[0] {
                return variables[name] ?? .null
            }
            return .string(
                pieces.map { piece in
                    switch piece {
                    case .text(let text): text
                    case .placeholder(let name): Self.text(of: variables[name] ?? .null)
                    }
                }.joined())
        case .array(let items): return .array(items.map { render($0, variables: variables) })
        case .object(let members): return .object(members.mapValues { render($0, variables: variables) })
        case .null, .bool, .number: return value
        }
    }

    /// A value as it reads inside text: strings as they are, `null` as nothing, the rest
    /// as compact JSON.
    private static func text(of value: JSONValue) -> String {
        switch value {
        case .string(let text): text
        case .null: ""
        default: value.render()
        }
    }
}

extension JobConfiguration {
    /// The `command` to start the run with; nil when unset, `null`, empty or not a string,
    /// in which case the worker builds the command itself.
    public var command: String? {
        nonEmptyString("command")
    }

    /// The environment variables set for the run, from the `env` object: `null` values are
    /// dropped (they unset nothing), other non-strings become their compact JSON text
    /// (`8080`, `true`). Empty when `env` is missing or not an object.
    public var environment: [String: String] {
        stringMap("env")
    }

    /// The directory to start the run in (`working_dir`); nil when unset, `null`, empty or
    /// not a string, in which case the worker makes a temporary one.
    public var workingDirectory: String? {
        nonEmptyString("working_dir")
    }

    /// Whether the worker copies the run's output to its own (`stream_output`): a JSON
    /// bool, or the text `true`/`false` in any case; true when missing or anything else.
    public var streamOutput: Bool {
        switch values["stream_output"] {
        case .bool(let value)?: value
        case .string(let text)? where text.lowercased() == "false": false
        default: true
        }
    }

    /// The name given to the run's infrastructure; nil when unset, `null`, empty or not a
    /// string.
    public var name: String? {
        nonEmptyString("name")
    }

    /// Labels for the run's infrastructure, from the `labels` object, converted like
    /// `environment`.
    public var labels: [String: String] {
        stringMap("labels")
    }

    private func nonEmptyString(_ key: String) -> String? {
        guard let text = values[key]?.stringValue, !text.isEmpty else { return nil }
        return text
    }

    private func stringMap(_ key: String) -> [String: String] {
        guard let members = values[key]?.objectValue else { return [:] }
        return members.compactMapValues { value in
            switch value {
            case .null: nil
            case .string(let text): text
            default: value.render()
            }
        }
    }
}
