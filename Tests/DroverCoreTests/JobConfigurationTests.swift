import DroverCore
import Testing

@Suite struct JobConfigurationTests {
    private func render(
        _ template: BaseJobTemplate = .process, deployment: [String: JSONValue] = [:], run: [String: JSONValue] = [:]
    ) throws -> JobConfiguration {
        try JobConfiguration.render(template: template, deploymentVariables: deployment, runVariables: run)
    }

    /// The process template with its `job_configuration` replaced.
    private func processTemplate(configuration: JSONValue) throws -> BaseJobTemplate {
        try BaseJobTemplate([
            "job_configuration": configuration,
            "variables": try #require(BaseJobTemplate.process.json["variables"]),
        ])
    }

    // MARK: The process template

    @Test func processDefaults() throws {
        let configuration = try render()
        #expect(
            configuration.values == [
                "command": .null, "env": .null, "labels": .null, "name": .null, "stream_output": true,
                "working_dir": .null,
            ])
        #expect(configuration.streamOutput)
        #expect(configuration.command == nil)
        #expect(configuration.environment == [:])
        #expect(configuration.workingDirectory == nil)
        #expect(configuration.name == nil)
        #expect(configuration.labels == [:])
    }

    @Test func runVariablesOverrideDeploymentVariablesWhichOverrideDefaults() throws {
        let configuration = try render(
            deployment: ["command": "python flow.py", "working_dir": "/srv/deployment", "stream_output": false],
            run: ["working_dir": "/srv/run", "name": "nightly"])
        #expect(configuration.command == "python flow.py")
        #expect(configuration.workingDirectory == "/srv/run")
        #expect(configuration.streamOutput == false)
        #expect(configuration.name == "nightly")
        #expect(configuration.values["stream_output"] == false)
    }

    @Test func aRunCanClearADeploymentsValueWithNull() throws {
        let configuration = try render(deployment: ["command": "python flow.py"], run: ["command": nil])
        #expect(configuration.values["command"] == .null)
        #expect(configuration.command == nil)
    }

    @Test func environmentComesThroughTyped() throws {
        let env: JSONValue = ["PLAIN": "1", "PORT": .number(8080), "DEBUG": true, "UNSET": nil, "LIST": ["a"]]
        let configuration = try render(deployment: ["env": env, "labels": ["team": "data", "tier": .number(2)]])
        #expect(configuration.values["env"] == env)
        #expect(configuration.environment == ["PLAIN": "1", "PORT": "8080", "DEBUG": "true", "LIST": #"["a"]"#])
        #expect(configuration.labels == ["team": "data", "tier": "2"])
    }

    @Test func streamOutputAcceptsTheTextFalse() throws {
        #expect(try render(run: ["stream_output": "FALSE"]).streamOutput == false)
        #expect(try render(run: ["stream_output": "true"]).streamOutput)
        #expect(try render(run: ["stream_output": nil]).streamOutput)
    }

    @Test func emptyStringsReadAsUnset() throws {
        let configuration = try render(run: ["command": "", "working_dir": "", "name": ""])
        #expect(configuration.command == nil)
        #expect(configuration.workingDirectory == nil)
        #expect(configuration.name == nil)
    }

    @Test func placeholdersAmongTextAreReplacedByTheValuesText() throws {
        let template = try processTemplate(configuration: [
            "name": "prefix-{{ name }}",
            "command": "run --out={{working_dir}} --stream={{ stream_output }} --env={{ env }} --cmd=[{{ command }}]",
            "labels": "{{ name }}{{ name }}",
        ])
        let configuration = try render(template, run: ["name": "nightly", "env": ["A": .number(1)]])
        #expect(configuration.name == "prefix-nightly")
        #expect(configuration.command == #"run --out= --stream=true --env={"A":1} --cmd=[]"#)
        #expect(configuration.values["labels"] == "nightlynightly")
    }

    @Test func aPlaceholderWithoutAValueRendersAsNull() throws {
        // `env` and `labels` have no default.
        let configuration = try render()
        #expect(configuration.values["env"] == .null)
        let mixed = try render(try processTemplate(configuration: ["name": "x-{{ env }}-y"]))
        #expect(mixed.values == ["name": "x--y"])
    }

    // MARK: Unknown variables

    @Test func refusesUnknownDeploymentVariablesListingTheKnownOnes() throws {
        let error = try #require(throws: DroverError.self) { try render(deployment: ["image": "python:3.12"]) }
        #expect(
            error
                == .invalidArgument(
                    "Unknown job variable 'image' for this work pool. "
                        + "Known variables: command, env, labels, name, stream_output, working_dir."))
    }

    @Test func refusesUnknownRunVariables() throws {
        let error = try #require(throws: DroverError.self) {
            try render(deployment: ["command": "x"], run: ["zz": .number(1), "cpu": .number(2)])
        }
        #expect(
            error
                == .invalidArgument(
                    "Unknown job variable 'cpu' for this work pool. "
                        + "Known variables: command, env, labels, name, stream_output, working_dir."))
    }

    @Test func refusesAnyVariableWhenNoneAreDeclared() throws {
        let template = try BaseJobTemplate(["job_configuration": ["fixed": true], "variables": [:]])
        #expect(try render(template).values == ["fixed": true])
        let error = try #require(throws: DroverError.self) { try render(template, run: ["x": .number(1)]) }
        #expect(error == .invalidArgument("Unknown job variable 'x': this work pool declares no job variables."))
    }

    // MARK: Custom templates

    @Test func rendersNestedObjectsAndArrays() throws {
        let template = try BaseJobTemplate([
            "job_configuration": [
                "spec": [
                    "containers": [
                        [
                            "image": "{{image}}",
                            "args": ["run", "{{ flag }}", .number(3), nil, false, "{{ a.b }}", "{{ resources }}"],
                        ]
                    ],
                    "resources": "{{ resources }}",
                    "replicas": "{{ replicas }}",
                ],
                "count": .number(2),
                "enabled": false,
                "literal": "{{ {{ image }}",
            ],
            "variables": [
                "properties": [
                    "image": ["type": "string", "default": "python:3.12"],
                    "flag": ["type": "string", "default": "--fast"],
                    "resources": ["type": "object", "default": ["cpu": .number(2)]],
                    "replicas": ["type": "integer"],
                ]
            ],
        ])
        let configuration = try render(template, deployment: ["flag": "--slow"], run: ["replicas": .number(4)])
        #expect(
            configuration.values == [
                "spec": [
                    "containers": [
                        [
                            "image": "python:3.12",
                            "args": ["run", "--slow", .number(3), nil, false, "{{ a.b }}", ["cpu": .number(2)]],
                        ]
                    ],
                    "resources": ["cpu": .number(2)],
                    "replicas": .number(4),
                ],
                "count": .number(2),
                "enabled": false,
                "literal": "{{ {{ image }}",
            ])
    }
}
