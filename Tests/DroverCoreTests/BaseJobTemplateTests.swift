import DroverCore
import Testing

@Suite struct BaseJobTemplateTests {
    private var processProperties: [String: JSONValue] {
        get throws { try #require(BaseJobTemplate.process.json["variables"]?["properties"]?.objectValue) }
    }

    // MARK: The built-in process template

    @Test func processTemplateDeclaresPrefectsSixVariables() throws {
        #expect(
            try processProperties.keys.sorted() == [
                "command", "env", "labels", "name", "stream_output", "working_dir",
            ])
        #expect(BaseJobTemplate.process.json["variables"]?["type"] == "object")
    }

    @Test func processTemplateVariableTitles() throws {
        let titles = try processProperties.mapValues { $0["title"] }
        #expect(
            titles == [
                "command": "Command", "env": "Environment Variables", "labels": "Labels", "name": "Name",
                "stream_output": "Stream Output", "working_dir": "Working Directory",
            ])
        for (name, property) in try processProperties {
            #expect(property["description"]?.stringValue?.isEmpty == false, "\(name) has no description")
        }
    }

    @Test func processTemplateVariableTypesAndDefaults() throws {
        let properties = try processProperties
        let nullableString: JSONValue = [["type": "string"], ["type": "null"]]

        #expect(properties["stream_output"]?["type"] == "boolean")
        #expect(properties["stream_output"]?["default"] == .bool(true))

        #expect(properties["working_dir"]?["anyOf"] == [["type": "string", "format": "path"], ["type": "null"]])
        #expect(properties["working_dir"]?["default"] == .null)

        #expect(properties["env"]?["type"] == "object")
        #expect(properties["env"]?["additionalProperties"] == ["anyOf": nullableString])
        #expect(properties["env"]?["default"] == nil)

        #expect(properties["labels"]?["type"] == "object")
        #expect(properties["labels"]?["additionalProperties"] == ["type": "string"])

        for name in ["command", "name"] {
            #expect(properties[name]?["anyOf"] == nullableString, "\(name)")
            #expect(properties[name]?["default"] == .null, "\(name)")
        }
    }

    @Test func processTemplateJobConfigurationUsesEachVariable() throws {
        let configuration = try #require(BaseJobTemplate.process.json["job_configuration"]?.objectValue)
        #expect(
            configuration == [
                "command": "{{ command }}", "env": "{{ env }}", "labels": "{{ labels }}", "name": "{{ name }}",
                "stream_output": "{{ stream_output }}", "working_dir": "{{ working_dir }}",
            ])
        #expect(Set(BaseJobTemplate.placeholders(in: .object(configuration))) == Set(try processProperties.keys))
    }

    @Test func processTemplateSurvivesItsOwnValidation() throws {
        let reparsed = try BaseJobTemplate(parsing: BaseJobTemplate.process.json.render())
        #expect(reparsed == BaseJobTemplate.process)
        #expect(WorkPoolType.process.defaultBaseJobTemplate == .process)
    }

    // MARK: Validation

    @Test func acceptsAMinimalTemplate() throws {
        let template = try BaseJobTemplate(parsing: #"{"job_configuration": {}, "variables": {}}"#)
        #expect(template.json == ["job_configuration": [:], "variables": [:]])
    }

    @Test func acceptsDeclaredPlaceholdersNestedInArraysAndObjects() throws {
        let json: JSONValue = [
            "job_configuration": ["args": ["--x", "{{ x }}"], "nested": ["deep": "prefix-{{y}}-suffix"]],
            "variables": ["properties": ["x": ["type": "string"], "y": ["type": "string"]]],
        ]
        #expect(try BaseJobTemplate(json).json == json)
    }

    @Test(arguments: [
        #"{"variables": {}}"#,
        #"{"job_configuration": {}}"#,
        #"{}"#,
    ])
    func rejectsTemplatesMissingAPart(_ text: String) throws {
        let error = try #require(throws: DroverError.self) { try BaseJobTemplate(parsing: text) }
        #expect(
            error
                == .invalidArgument(
                    "The base job template must contain both a 'job_configuration' key and a 'variables' key."))
    }

    @Test func rejectsANonObjectTemplate() throws {
        let error = try #require(throws: DroverError.self) { try BaseJobTemplate(parsing: "[1, 2]") }
        #expect(error.code == .invalidArgument)
        #expect(error.message.contains("must be a JSON object"))
    }

    @Test func rejectsNonObjectJobConfiguration() throws {
        let error = try #require(throws: DroverError.self) {
            try BaseJobTemplate(parsing: #"{"job_configuration": "run", "variables": {}}"#)
        }
        #expect(error == .invalidArgument("The base job template's 'job_configuration' must be a JSON object."))
    }

    @Test func rejectsNonObjectVariables() throws {
        let error = try #require(throws: DroverError.self) {
            try BaseJobTemplate(parsing: #"{"job_configuration": {}, "variables": []}"#)
        }
        #expect(error == .invalidArgument("The base job template's 'variables' must be a JSON schema object."))
    }

    @Test func rejectsNonObjectProperties() throws {
        let error = try #require(throws: DroverError.self) {
            try BaseJobTemplate(parsing: #"{"job_configuration": {}, "variables": {"properties": 3}}"#)
        }
        #expect(
            error
                == .invalidArgument(
                    "The base job template's 'variables.properties' must be a JSON object."))
    }

    @Test func rejectsUndeclaredPlaceholdersAndListsThem() throws {
        let text = """
            {"job_configuration": {"a": "{{ zed }}", "b": ["{{ declared }}", "{{ alpha }}"], "c": "{{ zed }}"},
             "variables": {"properties": {"declared": {}}}}
            """
        let error = try #require(throws: DroverError.self) { try BaseJobTemplate(parsing: text) }
        #expect(error.code == .invalidArgument)
        #expect(error.message.hasSuffix("Undeclared: alpha, zed."))
        #expect(error.message.contains("must be declared in 'variables.properties'"))
    }

    @Test func rejectsInvalidJSON() throws {
        let error = try #require(throws: DroverError.self) { try BaseJobTemplate(parsing: "{nope") }
        #expect(error.code == .invalidArgument)
        #expect(error.message.hasPrefix("The base job template is not valid JSON"))
    }

    @Test func rejectsTemplatesOverTheSizeLimit() throws {
        let prefix = #"{"job_configuration": {}, "variables": {}, "padding": ""#
        let suffix = #""}"#
        let padding = String(repeating: "x", count: BaseJobTemplate.maximumBytes - prefix.utf8.count - suffix.utf8.count)
        let atLimit = prefix + padding + suffix
        #expect(atLimit.utf8.count == BaseJobTemplate.maximumBytes)
        _ = try BaseJobTemplate(parsing: atLimit)

        let overLimit = prefix + padding + "x" + suffix
        let error = try #require(throws: DroverError.self) { try BaseJobTemplate(parsing: overLimit) }
        #expect(
            error
                == .invalidArgument(
                    "The base job template is \(BaseJobTemplate.maximumBytes + 1) bytes; the most accepted is 65536."))
    }

    // MARK: Placeholders

    @Test(
        arguments: [
            ("{{ name }}", ["name"]),
            ("{{name}}", ["name"]),
            ("{{  name  }}", ["name"]),
            ("{{ a }}-{{b}} and {{ c_1 }}", ["a", "b", "c_1"]),
            ("{{ flow_run.id }}", []),
            ("{{ a.b }} then {{ c }}", ["c"]),
            ("no placeholders", []),
            ("{{ }}", []),
            ("{{ unclosed", []),
            ("{{ two words }}", []),
        ] as [(String, [String])])
    func findsPlaceholders(_ text: String, _ expected: [String]) {
        #expect(BaseJobTemplate.placeholders(in: .string(text)) == expected)
    }

    @Test func placeholdersIgnoreKeysAndNonStrings() {
        let value: JSONValue = ["{{ key }}": .number(1), "list": [true, nil, "{{ v }}"]]
        #expect(BaseJobTemplate.placeholders(in: value) == ["v"])
    }
}
