import DroverTestSupport
import Foundation
import Testing

/// Bad input gets a clear message and the right exit code (1 for a refused operation,
/// 2 for a usage error), and changes nothing: after each one the server's pools and
/// queues are exactly what they were.
@Suite(.timeLimit(.minutes(2)))
struct BadInputTests {
    /// One bad command: what to run, the exit code, and text its stderr must hold.
    struct Refusal: CustomStringConvertible {
        let arguments: [String]
        let status: Int32
        let message: String
        var description: String { arguments.joined(separator: " ") }

        init(_ arguments: [String], _ status: Int32, _ message: String) {
            self.arguments = arguments
            self.status = status
            self.message = message
        }
    }

    /// Runs each refusal against `server` and checks its exit code, its message, an
    /// empty stdout, and that the server's state did not move.
    func expectRefused(
        _ refusals: [Refusal], on server: DroverServer, sourceLocation: SourceLocation = #_sourceLocation
    ) async throws {
        let before = try await server.snapshot()
        for refusal in refusals {
            let result = try await server.drover(refusal.arguments, sourceLocation: sourceLocation)
            #expect(result.status == refusal.status, "\(result)", sourceLocation: sourceLocation)
            #expect(result.stderr.contains(refusal.message), "expected \(refusal.message)\n\(result)", sourceLocation: sourceLocation)
            #expect(result.stdout.isEmpty, "\(result)", sourceLocation: sourceLocation)
            #expect(try await server.snapshot() == before, "state changed after \(refusal)", sourceLocation: sourceLocation)
        }
    }

    /// A server with pool `p` (limit 2) holding queue `q`.
    func serverWithPoolAndQueue(home: TemporaryDirectory) async throws -> DroverServer {
        let server = try await DroverServer.start(home: home.url)
        for arguments in [
            ["work-pool", "create", "p", "--description", "Original", "--concurrency-limit", "2"],
            ["work-queue", "create", "q", "--pool", "p", "--limit", "1"],
        ] {
            let result = try await server.drover(arguments)
            if result.status != 0 {
                server.terminate()
                try #require(result.status == 0, "\(result)")
            }
        }
        return server
    }

    @Test func namesThatWouldBreakTheCLIOrTheStoreAreRefused() async throws {
        let home = try TemporaryDirectory()
        let server = try await serverWithPoolAndQueue(home: home)
        defer { server.terminate() }
        let long = String(repeating: "x", count: 101)
        var refusals: [Refusal] = []
        for (kind, create) in [
            ("work pool", ["work-pool", "create"]), ("work queue", ["work-queue", "create", "--pool", "p"]),
        ] {
            refusals += [
                Refusal(create + ["a/b"], 1, "Invalid \(kind) name 'a/b': names cannot contain '/' (nor any of / % & > <)."),
                Refusal(create + ["a%b"], 1, "Invalid \(kind) name 'a%b': names cannot contain '%'"),
                Refusal(create + ["a&b"], 1, "names cannot contain '&'"),
                Refusal(create + ["a<b>"], 1, "names cannot contain '<'"),
                Refusal(
                    create + ["a\nb"], 1,
                    "Invalid \(kind) name 'a\\nb': names cannot contain control characters such as newlines or tabs."),
                Refusal(create + ["tab\there"], 1, "Invalid \(kind) name 'tab\\there': names cannot contain control characters"),
                Refusal(
                    create + ["--", "-ab"], 1,
                    "Invalid \(kind) name '-ab': names cannot start with '-', which the command line reads as an option."),
                Refusal(
                    create + [long], 1,
                    "Invalid \(kind) name '\(long)': names are at most 100 characters (this one has 101)."),
                Refusal(create + [""], 1, "A \(kind) name cannot be empty."),
                Refusal(create + [" padded"], 1, "Invalid \(kind) name ' padded': names cannot start or end with a space."),
                Refusal(create + ["padded "], 1, "names cannot start or end with a space."),
                // Without `--`, a leading '-' is an option: a usage error.
                Refusal(create + ["-ab"], 2, "Error: "),
            ]
        }
        try await expectRefused(refusals, on: server)

        // Names at the limits are fine, and print back as given.
        let longest = String(repeating: "y", count: 100)
        for name in [longest, "Bob's pool", "été-pool_1.2"] {
            let create = try await server.drover("work-pool", "create", name)
            #expect(create.status == 0 && create.stdout.hasPrefix("Created work pool '\(name)'!"), "\(create)")
            #expect(try await server.pool(name)["name"] as? String == name)
        }
        #expect(try await server.output("work-pool", "inspect", "Bob's pool").contains(#"    name="Bob's pool","#))
        #expect(await server.stop() == .exit(0))
    }

    @Test func duplicateNamesAreRefused() async throws {
        let home = try TemporaryDirectory()
        let server = try await serverWithPoolAndQueue(home: home)
        defer { server.terminate() }
        try await expectRefused(
            [
                Refusal(
                    ["work-pool", "create", "p", "--description", "Replacement", "--paused"], 1,
                    "Work pool named 'p' already exists. Use `drover work-pool update` to change it."),
                Refusal(
                    ["work-queue", "create", "q", "--pool", "p", "--priority", "1"], 1,
                    "Work queue with name: 'q' already exists in work pool 'p'."),
                Refusal(
                    ["work-queue", "create", "default", "--pool", "p"], 1,
                    "Work queue with name: 'default' already exists in work pool 'p'."),
            ], on: server)
        #expect(try await server.pool("p")["description"] as? String == "Original")
        #expect(await server.stop() == .exit(0))
    }

    @Test func unknownPoolsAndQueuesAreReported() async throws {
        let home = try TemporaryDirectory()
        let server = try await serverWithPoolAndQueue(home: home)
        defer { server.terminate() }
        let noPool = "Work pool 'nope' does not exist."
        let noQueue = "No work queue named 'nope' found in work pool 'p'."
        var refusals = [
            ["work-pool", "inspect", "nope"], ["work-pool", "inspect", "nope", "-o", "json"],
            ["work-pool", "update", "nope", "--description", "x"], ["work-pool", "pause", "nope"],
            ["work-pool", "resume", "nope"], ["work-pool", "delete", "nope"],
            ["work-pool", "set-concurrency-limit", "nope", "3"], ["work-pool", "clear-concurrency-limit", "nope"],
            ["work-queue", "ls", "--pool", "nope"], ["work-queue", "create", "q2", "--pool", "nope"],
        ].map { Refusal($0, 1, noPool) }
        for command in [
            ["inspect"], ["update", "--limit", "1"], ["pause"], ["resume"], ["delete"],
            ["set-concurrency-limit", "4"], ["clear-concurrency-limit"],
        ] {
            let verb = command[0]
            let rest = Array(command.dropFirst())
            refusals.append(Refusal(["work-queue", verb, "q"] + rest + ["--pool", "nope"], 1, noPool))
            refusals.append(Refusal(["work-queue", verb, "nope"] + rest + ["--pool", "p"], 1, noQueue))
        }
        // A name with a newline is echoed escaped, so the message stays one line.
        refusals.append(Refusal(["work-pool", "inspect", "no\npe"], 1, "Work pool 'no\\npe' does not exist."))
        try await expectRefused(refusals, on: server)
        #expect(await server.stop() == .exit(0))
    }

    @Test func negativeNonNumericAndOversizedLimitsAreRefused() async throws {
        let home = try TemporaryDirectory()
        let server = try await serverWithPoolAndQueue(home: home)
        defer { server.terminate() }
        // Each command with the limit value in place of LIMIT, and the subject its message names.
        let commands: [(arguments: [String], subject: String)] = [
            (["work-pool", "create", "new", "--concurrency-limit", "LIMIT"], "work pool 'new'"),
            (["work-pool", "update", "p", "--concurrency-limit", "LIMIT"], "work pool 'p'"),
            (["work-pool", "set-concurrency-limit", "p", "LIMIT"], "work pool 'p'"),
            (["work-queue", "create", "new", "--pool", "p", "--limit", "LIMIT"], "work queue 'new'"),
            (["work-queue", "update", "q", "--pool", "p", "--limit", "LIMIT"], "work queue 'q'"),
            (["work-queue", "set-concurrency-limit", "q", "LIMIT", "--pool", "p"], "work queue 'q'"),
        ]
        var refusals: [Refusal] = []
        for (arguments, subject) in commands {
            func with(_ value: String) -> [String] { arguments.map { $0 == "LIMIT" ? value : $0 } }
            refusals += [
                Refusal(with("-1"), 2, "Error: '-1' is negative: limits, priorities and counts are 0 or more."),
                Refusal(with("abc"), 2, "Error: Concurrency limit for \(subject) must be a whole number; got 'abc'."),
                Refusal(with("1.5"), 2, "Error: Concurrency limit for \(subject) must be a whole number; got '1.5'."),
                Refusal(
                    with("99999999999999999999"), 2,
                    "Error: Concurrency limit for \(subject) must be a whole number; got '99999999999999999999'."),
                Refusal(
                    with("1000001"), 2,
                    "Error: Concurrency limit for \(subject) must be between 0 and 1000000; got 1000001."),
            ]
            // `-1` that reaches the parser (after `--`, or as --option=-1) is refused as negative too.
            let negative = "Error: Concurrency limit for \(subject) cannot be negative; got -1."
            if let index = arguments.firstIndex(of: "LIMIT"), arguments[index - 1].hasPrefix("--") {
                var joined = arguments
                joined.replaceSubrange((index - 1)...index, with: ["\(arguments[index - 1])=-1"])
                refusals.append(Refusal(joined, 2, negative))
            } else {
                let positional = arguments.filter { $0 != "LIMIT" } + ["--", "-1"]
                refusals.append(Refusal(positional, 2, negative))
            }
        }
        for verb in ["create", "update"] {
            let base = ["work-queue", verb, verb == "create" ? "new" : "q", "--pool", "p", "--priority"]
            refusals += [
                Refusal(base + ["0"], 2, "Error: Priority must be between 1 (first) and 1000000; got 0."),
                Refusal(base + ["1000001"], 2, "Error: Priority must be between 1 (first) and 1000000; got 1000001."),
                Refusal(base + ["-1"], 2, "Error: '-1' is negative: limits, priorities and counts are 0 or more."),
                Refusal(base + ["abc"], 2, "Error: The value 'abc' is invalid for '--priority <priority>'"),
            ]
        }
        refusals += [
            Refusal(
                ["work-pool", "update", "p"], 2,
                "Error: Nothing to update: give --description, --concurrency-limit or --base-job-template."),
            Refusal(
                ["work-queue", "update", "q", "--pool", "p"], 2,
                "Error: Nothing to update: give --limit, --priority or --description."),
        ]
        try await expectRefused(refusals, on: server)

        #expect(await server.stop() == .exit(0))
    }

    @Test func badBaseJobTemplateFilesAreRefused() async throws {
        let home = try TemporaryDirectory()
        let server = try await serverWithPoolAndQueue(home: home)
        defer { server.terminate() }
        func file(_ name: String, _ text: String) throws -> String {
            let url = home.file(name)
            try Data(text.utf8).write(to: url)
            return url.path
        }
        let missing = home.file("missing.json").path
        let invalid = try file("invalid.json", "{not json")
        let undeclared = try file(
            "undeclared.json",
            #"{"job_configuration": {"command": "{{ command }}", "image": "{{ image }}"}, "variables": {"properties": {"command": {"type": "string"}}}}"#
        )
        let notObject = try file("array.json", "[1, 2, 3]")
        let noVariables = try file("no-variables.json", #"{"job_configuration": {}}"#)
        let badProperties = try file("bad-properties.json", #"{"job_configuration": {}, "variables": {"properties": [1]}}"#)
        let huge = try file(
            "huge.json",
            #"{"job_configuration": {}, "variables": {"description": ""# + String(repeating: "z", count: 70_000) + #""}}"#)
        let hugeSize = try #require(try FileManager.default.attributesOfItem(atPath: huge)[.size] as? Int)

        let problems: [(path: String, message: String)] = [
            (missing, "Base job template file '\(missing)' does not exist or cannot be read."),
            (invalid, "The base job template is not valid JSON"),
            (
                undeclared,
                "The variables used in the job configuration must be declared in 'variables.properties'. Undeclared: image."
            ),
            (notObject, "The base job template must be a JSON object with 'job_configuration' and 'variables'."),
            (noVariables, "The base job template must contain both a 'job_configuration' key and a 'variables' key."),
            (badProperties, "The base job template's 'variables.properties' must be a JSON object."),
            (huge, "Base job template file '\(huge)' is \(hugeSize) bytes; the most accepted is 65536."),
            (home.path, "Could not read base job template file '\(home.path)'"),
        ]
        var refusals: [Refusal] = []
        for (path, message) in problems {
            refusals.append(Refusal(["work-pool", "create", "templated", "--base-job-template", path], 1, message))
            refusals.append(Refusal(["work-pool", "update", "p", "--base-job-template", path], 1, message))
        }
        try await expectRefused(refusals, on: server)
        #expect(await server.stop() == .exit(0))
    }

    @Test func anEmptyBaseJobTemplateFileIsRefused() async throws {
        let home = try TemporaryDirectory()
        let server = try await serverWithPoolAndQueue(home: home)
        defer { server.terminate() }
        let empty = home.file("empty.json")
        try Data().write(to: empty)

        let update = try await server.drover("work-pool", "update", "p", "--base-job-template", empty.path)
        #expect(update.status == 1 && update.stderr.contains("is empty"), "\(update)")

        let before = try await server.snapshot()
        let create = try await server.drover("work-pool", "create", "templated", "--base-job-template", empty.path)
        let after = try await server.snapshot()
        #expect(create.status == 1, "\(create)")
        #expect(after == before, "a pool was created")
        #expect(await server.stop() == .exit(0))
    }

    @Test func aTemplateTooDeepToTravelIsRefused() async throws {
        let home = try TemporaryDirectory()
        let server = try await serverWithPoolAndQueue(home: home)
        defer { server.terminate() }
        // Valid JSON, 1 KiB, every placeholder declared; but 60 arrays deep. In the reply it
        // becomes a protobuf Struct 120 messages deep, past SwiftProtobuf's decoding limit of 100.
        let deep = home.file("deep.json")
        let nested = String(repeating: "[", count: 60) + String(repeating: "]", count: 60)
        try Data(#"{"job_configuration": {}, "variables": {"properties": {}, "examples": \#(nested)}}"#.utf8).write(to: deep)
        let before = try await server.snapshot()

        let create = try await server.drover("work-pool", "create", "deep", "--base-job-template", deep.path)
        let update = try await server.drover("work-pool", "update", "p", "--base-job-template", deep.path)
        let list = try await server.drover("work-pool", "ls", "-o", "json")
        let queues = try await server.drover("work-queue", "ls", "-o", "json")
        let after = try? StateSnapshot(poolsJSON: list.stdout, queuesJSON: queues.stdout)
        // Were it stored, its replies could not be decoded: create would say "not a Drover
        // reply" and every later `work-pool ls` would fail until the pool was deleted.
        for result in [create, update] {
            #expect(result.status == 1, "\(result)")
            #expect(!result.stderr.contains("not a Drover reply"), "\(result)")
        }
        #expect(list.status == 0, "`work-pool ls` broke for every pool: \(list)")
        #expect(after == before, "the store changed")
        #expect(await server.stop() == .exit(0))
    }

    @Test func unknownTypesAndUsageErrorsAreRefused() async throws {
        let home = try TemporaryDirectory()
        let server = try await serverWithPoolAndQueue(home: home)
        defer { server.terminate() }
        try await expectRefused(
            [
                Refusal(
                    ["work-pool", "create", "k", "--type", "kubernetes"], 1,
                    "Unknown work pool type 'kubernetes'. Please choose from process."),
                Refusal(["work-pool", "create", "k", "-t", "Process"], 1, "Unknown work pool type 'Process'."),
                Refusal(
                    ["work-pool", "get-default-base-job-template", "--type", "kubernetes"], 1,
                    "Unknown work pool type 'kubernetes'. Please choose from process."),
                Refusal(["work-pool", "bogus"], 2, "Error: Unexpected argument 'bogus'"),
                Refusal(["bogus"], 2, "Error: Unexpected argument 'bogus'"),
                Refusal(["work-pool", "ls", "-o", "yaml"], 2, "Error: The value 'yaml' is invalid for '-o <output>'"),
                Refusal(["work-pool", "create"], 2, "Error: Missing expected argument '<name>'"),
                Refusal(["work-pool", "inspect"], 2, "Error: Missing expected argument '<name>'"),
                Refusal(["work-pool", "set-concurrency-limit", "p"], 2, "Error: Missing expected argument '<concurrency-limit>'"),
                Refusal(["work-queue", "create", "q2"], 2, "Error: Missing expected argument '--pool <pool>'"),
                Refusal(["work-queue", "inspect", "q"], 2, "Error: Missing expected argument '--pool <pool>'"),
                Refusal(["work-pool", "create", "k", "--paused", "--bogus"], 2, "Error: Unknown option '--bogus'"),
            ], on: server)
        #expect(await server.stop() == .exit(0))
    }

    @Test func badServerAndClientSettingsAreRefused() async throws {
        let home = try TemporaryDirectory()
        for (arguments, message) in [
            (
                ["--control-port", "99999"],
                "Invalid value '99999' for DROVER_SERVER_CONTROL_PORT: expected a port number from 0 to 65535 (0 picks a free port). (from flag)"
            ),
            (["--control-port", "http"], "Invalid value 'http' for DROVER_SERVER_CONTROL_PORT"),
            // 192.0.2.1 is TEST-NET-1: never an address of this machine (--insecure gets it past
            // the refusal to listen beyond loopback, to the bind).
            (
                ["--control-port", "0", "--dispatch-port", "0", "--limits-port", "0", "--host", "192.0.2.1", "--insecure"],
                "Could not bind tcp://192.0.2.1:0: "
            ),
            (["--control-port", "0", "--log-level", "loud"], "Invalid value 'loud' for DROVER_LOGGING_LEVEL"),
        ] {
            switch try await DroverServer.launch(home: home.url, arguments: arguments) {
            case .ready(let server):
                server.terminate()
                Issue.record("drover server start \(arguments) started")
            case .exited(let exit, let result):
                #expect(exit == .exit(1), "\(result)")
                #expect(result.stderr.contains(message), "\(result)")
            }
        }

        // A home that cannot be a directory.
        let file = home.file("plain-file")
        try Data("x".utf8).write(to: file)
        switch try await DroverServer.launch(home: file) {
        case .ready(let server):
            server.terminate()
            Issue.record("drover server start --home FILE started")
        case .exited(let exit, let result):
            #expect(exit == .exit(1), "\(result)")
            #expect(result.stderr.contains("Could not create DROVER_HOME at \(file.path): "), "\(result)")
        }

        let env = ["DROVER_HOME": home.path]
        let badFlag = try await drover("work-pool", "ls", "--server", "garbage", env: env)
        #expect(badFlag.status == 1, "\(badFlag)")
        #expect(
            badFlag.stderr
                == "Invalid value 'garbage' for DROVER_SERVER: expected an endpoint such as tcp://127.0.0.1:4201. (from flag)\n",
            "\(badFlag)")
        let badEnvironment = try await drover(
            "work-pool", "ls", env: env.merging(["DROVER_SERVER": "tcp://127.0.0.1:1", "DROVER_CLIENT_TIMEOUT": "soon"]) { $1 })
        #expect(badEnvironment.status == 1, "\(badEnvironment)")
        #expect(
            badEnvironment.stderr
                == "Invalid value 'soon' for DROVER_CLIENT_TIMEOUT: expected a number of seconds above 0. (from env)\n",
            "\(badEnvironment)")
    }
}
