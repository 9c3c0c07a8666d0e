import DroverTestSupport
import Foundation
import Testing

/// `drover work-pool …` against a real server: every subcommand, its messages, its
/// table and inspect views, and its `-o json` output.
@Suite(.timeLimit(.minutes(2)))
struct WorkPoolCommandTests {
    @Test func createListAndInspectShowTheWholeRecord() async throws {
        let home = try TemporaryDirectory()
        let server = try await DroverServer.start(home: home.url)
        defer { server.terminate() }

        let empty = try await server.drover("work-pool", "ls")
        #expect(empty.status == 0 && empty.stdout == "No work pools found.\n", "\(empty)")
        #expect(try await server.output("work-pool", "ls", "-o", "json").trimmingCharacters(in: .whitespacesAndNewlines) == "[]")

        let alpha = try await server.drover(
            "work-pool", "create", "alpha", "--type", "process", "--description", "First pool",
            "--concurrency-limit", "3")
        #expect(alpha.status == 0, "\(alpha)")
        #expect(alpha.stdout.hasPrefix("Created work pool 'alpha'!\n"), "\(alpha)")
        #expect(alpha.stdout.contains("drover worker start --pool alpha"), "\(alpha)")
        #expect(alpha.stdout.contains("└── Type: process"), "\(alpha)")
        #expect(alpha.stdout.contains("└── Description: First pool"), "\(alpha)")
        #expect(alpha.stdout.contains("└── Status: Not ready"), "\(alpha)")
        #expect(alpha.stderr.isEmpty, "\(alpha)")

        let beta = try await server.drover("work-pool", "create", "beta", "--paused")
        #expect(beta.status == 0, "\(beta)")
        #expect(beta.stdout.hasPrefix("Created work pool 'beta'!\n"), "\(beta)")
        #expect(!beta.stdout.contains("worker start"), "a paused pool gets no worker hint: \(beta)")
        #expect(beta.stdout.contains("└── Description: None"), "\(beta)")
        #expect(beta.stdout.contains("└── Status: Paused"), "\(beta)")

        // -o json and --output json print the same records, newest first.
        let short = try JSON.array(try await server.output("work-pool", "ls", "-o", "json"))
        let long = try JSON.array(try await server.output("work-pool", "ls", "--output", "json"))
        #expect(try JSON.canonical(value: short) == JSON.canonical(value: long))
        #expect(short.map { $0["name"] as? String } == ["beta", "alpha"])
        let alphaJSON = try #require(element(named: "alpha", in: short))
        let betaJSON = try #require(element(named: "beta", in: short))
        #expect(isUUID(alphaJSON["id"]) && isUUID(betaJSON["id"]))
        #expect(alphaJSON["id"] as? String != betaJSON["id"] as? String)
        #expect(alphaJSON["type"] as? String == "process")
        #expect(alphaJSON["description"] as? String == "First pool")
        #expect(alphaJSON["concurrency_limit"] as? Int == 3)
        #expect((alphaJSON["is_paused"] as? Bool ?? false) == false)
        #expect(alphaJSON["status"] as? String == "NOT_READY")
        #expect(isUUID(alphaJSON["default_queue_id"]))
        #expect(alphaJSON["created"] is String && alphaJSON["created"] as? String == alphaJSON["updated"] as? String)
        #expect(betaJSON["concurrency_limit"] == nil, "no limit means the field is absent")
        #expect(betaJSON["is_paused"] as? Bool == true)
        #expect(betaJSON["status"] as? String == "PAUSED")

        // A pool created without a template gets its type's default template.
        let defaultTemplate = try await drover("work-pool", "get-default-base-job-template", "--type", "process")
        #expect(defaultTemplate.status == 0, "\(defaultTemplate)")
        let template = try #require(alphaJSON["base_job_template"])
        #expect(try JSON.canonical(value: template) == JSON.canonical(defaultTemplate.stdout))

        // The table: Name, Type, ID, Concurrency Limit; None when unlimited; (**) when paused.
        let table = try await server.output("work-pool", "ls")
        let lines = table.split(separator: "\n").map(String.init)
        #expect(lines.first?.trimmingCharacters(in: .whitespaces) == "Work Pools", "\(table)")
        let header = try #require(lines.first { $0.contains("Name") }, "\(table)")
        for column in ["Name", "Type", "ID", "Concurrency Limit"] { #expect(header.contains(column), "\(table)") }
        let alphaRow = try #require(lines.first { $0.contains(alphaJSON["id"] as! String) }, "\(table)")
        #expect(TableRow.cells(alphaRow) == ["alpha", "process", alphaJSON["id"] as! String, "3"], "\(table)")
        let betaRow = try #require(lines.first { $0.contains(betaJSON["id"] as! String) }, "\(table)")
        #expect(TableRow.cells(betaRow) == ["beta (**)", "process", betaJSON["id"] as! String, "None"], "\(table)")
        #expect(lines.last?.trimmingCharacters(in: .whitespaces) == "(**) denotes a paused pool", "\(table)")

        // inspect -o json is the same record as in the list.
        let inspected = try JSON.object(try await server.output("work-pool", "inspect", "alpha", "-o", "json"))
        #expect(try JSON.canonical(value: inspected) == JSON.canonical(value: alphaJSON))

        // The text view names every field of the record.
        let text = try await server.output("work-pool", "inspect", "alpha")
        let id = alphaJSON["id"] as! String
        let defaultQueueID = alphaJSON["default_queue_id"] as! String
        #expect(text.hasPrefix("WorkPool(\n"), "\(text)")
        for field in [
            "    id='\(id)',", "    name='alpha',", "    description='First pool',", "    type='process',",
            "    base_job_template={", "    is_paused=False,", "    concurrency_limit=3,",
            "    status=WorkPoolStatus.NOT_READY,", "    default_queue_id='\(defaultQueueID)'",
        ] {
            #expect(text.contains(field), "missing \(field) in:\n\(text)")
        }
        let stamp = #/    created=\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}\+00:00,\n    updated=\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}\+00:00,/#
        #expect(text.contains(stamp), "\(text)")
        let betaText = try await server.output("work-pool", "inspect", "beta")
        #expect(betaText.contains("    description=None,") && betaText.contains("    concurrency_limit=None,"), "\(betaText)")
        #expect(betaText.contains("    is_paused=True,") && betaText.contains("status=WorkPoolStatus.PAUSED"), "\(betaText)")

        // default_queue_id names the pool's `default` queue.
        let queues = try JSON.array(try await server.output("work-queue", "ls", "--pool", "alpha", "-o", "json"))
        #expect(queues.map { $0["name"] as? String } == ["default"])
        #expect(queues.first?["id"] as? String == defaultQueueID)
        #expect(queues.first?["priority"] as? Int == 1)

        #expect(await server.stop() == .exit(0))
    }

    @Test func updatePauseResumeLimitsAndDelete() async throws {
        let home = try TemporaryDirectory()
        let server = try await DroverServer.start(home: home.url)
        defer { server.terminate() }
        #expect(try await server.drover("work-pool", "create", "pool").status == 0)
        let created = try JSON.object(try await server.output("work-pool", "inspect", "pool", "-o", "json"))

        let update = try await server.drover(
            "work-pool", "update", "pool", "--description", "Changed", "--concurrency-limit", "5")
        #expect(update.status == 0 && update.stdout == "Updated work pool 'pool'\n", "\(update)")
        var pool = try await server.pool("pool")
        #expect(pool["description"] as? String == "Changed")
        #expect(pool["concurrency_limit"] as? Int == 5)
        #expect(pool["id"] as? String == created["id"] as? String)
        #expect(pool["created"] as? String == created["created"] as? String)
        #expect((pool["updated"] as! String) > (created["updated"] as! String), "an update moves `updated` on")

        let pause = try await server.drover("work-pool", "pause", "pool")
        #expect(pause.status == 0 && pause.stdout == "Paused work pool 'pool'\n", "\(pause)")
        pool = try await server.pool("pool")
        #expect(pool["is_paused"] as? Bool == true && pool["status"] as? String == "PAUSED")
        #expect(pool["concurrency_limit"] as? Int == 5, "pausing keeps the limit")
        #expect(try await server.output("work-pool", "ls").contains("pool (**)"))

        let resume = try await server.drover("work-pool", "resume", "pool")
        #expect(resume.status == 0 && resume.stdout == "Resumed work pool 'pool'\n", "\(resume)")
        pool = try await server.pool("pool")
        #expect((pool["is_paused"] as? Bool ?? false) == false && pool["status"] as? String == "NOT_READY")
        #expect(try TableRow.cells(await server.poolTableRow("pool")).first == "pool", "no (**) once resumed")

        let set = try await server.drover("work-pool", "set-concurrency-limit", "pool", "7")
        #expect(set.status == 0 && set.stdout == "Set concurrency limit for work pool 'pool' to 7\n", "\(set)")
        #expect(try await server.pool("pool")["concurrency_limit"] as? Int == 7)

        // 0 is a limit (it holds every run), not the absence of one.
        let zero = try await server.drover("work-pool", "set-concurrency-limit", "pool", "0")
        #expect(zero.status == 0 && zero.stdout == "Set concurrency limit for work pool 'pool' to 0\n", "\(zero)")
        #expect(try await server.pool("pool")["concurrency_limit"] as? Int == 0)
        #expect(try TableRow.cells(await server.poolTableRow("pool")).last == "0")

        let clear = try await server.drover("work-pool", "clear-concurrency-limit", "pool")
        #expect(clear.status == 0 && clear.stdout == "Cleared concurrency limit for work pool 'pool'\n", "\(clear)")
        #expect(try await server.pool("pool")["concurrency_limit"] == nil)
        #expect(try TableRow.cells(await server.poolTableRow("pool")).last == "None")
        #expect(try await server.output("work-pool", "inspect", "pool").contains("    concurrency_limit=None,"))

        // Queues of the pool go with it.
        #expect(try await server.drover("work-queue", "create", "extra", "--pool", "pool").status == 0)
        let delete = try await server.drover("work-pool", "delete", "pool")
        #expect(delete.status == 0 && delete.stdout == "Deleted work pool 'pool'\n", "\(delete)")
        let gone = try await server.drover("work-pool", "inspect", "pool")
        #expect(gone.status == 1 && gone.stderr == "Work pool 'pool' does not exist.\n" && gone.stdout.isEmpty, "\(gone)")
        #expect(try JSON.array(try await server.output("work-queue", "ls", "-o", "json")).isEmpty)
        #expect(try await server.output("work-pool", "ls") == "No work pools found.\n")

        #expect(await server.stop() == .exit(0))
    }

    @Test func baseJobTemplateFromFile() async throws {
        let home = try TemporaryDirectory()
        let server = try await DroverServer.start(home: home.url)
        defer { server.terminate() }

        // get-default-base-job-template --file writes what it would print.
        let file = home.file("default-template.json")
        let write = try await server.drover("work-pool", "get-default-base-job-template", "--file", file.path)
        #expect(write.status == 0, "\(write)")
        #expect(write.stdout == "Wrote the default base job template of type 'process' to \(file.path)\n", "\(write)")
        let printed = try await server.output("work-pool", "get-default-base-job-template")
        #expect(try JSON.canonical(String(contentsOf: file, encoding: .utf8)) == JSON.canonical(printed))

        let custom = home.file("custom.json")
        let customText = """
            {"job_configuration": {"command": "{{ command }}", "cwd": "{{ working_dir }}"},
             "variables": {"type": "object", "properties": {
                "command": {"type": "string", "default": "run"},
                "working_dir": {"type": "string"}}}}
            """
        try Data(customText.utf8).write(to: custom)
        let create = try await server.drover("work-pool", "create", "custom", "--base-job-template", custom.path)
        #expect(create.status == 0, "\(create)")
        let pool = try await server.pool("custom")
        #expect(try JSON.canonical(value: #require(pool["base_job_template"])) == JSON.canonical(customText))

        // update --base-job-template replaces it.
        let update = try await server.drover("work-pool", "update", "custom", "--base-job-template", file.path)
        #expect(update.status == 0 && update.stdout == "Updated work pool 'custom'\n", "\(update)")
        let updated = try await server.pool("custom")
        #expect(try JSON.canonical(value: #require(updated["base_job_template"])) == JSON.canonical(printed))

        #expect(await server.stop() == .exit(0))
    }

    @Test func jsonOutputIsStableText() async throws {
        let home = try TemporaryDirectory()
        let server = try await DroverServer.start(home: home.url)
        defer { server.terminate() }
        #expect(try await server.drover("work-pool", "create", "stable").status == 0)
        // Each command is a new process, with its own hash seed for dictionary order.
        var texts: Set<String> = []
        for _ in 0..<3 { texts.insert(try await server.output("work-pool", "inspect", "stable", "-o", "json")) }
        #expect(texts.count == 1, "`-o json` printed the same record differently:\n\(texts.joined(separator: "\n"))")
        #expect(await server.stop() == .exit(0))
    }

    @Test func defaultBaseJobTemplateNeedsNoServer() async throws {
        let home = try TemporaryDirectory()
        // Nothing listens here, and the command must not try to reach it.
        let env = ["DROVER_HOME": home.path, "DROVER_SERVER": "tcp://127.0.0.1:1", "DROVER_CLIENT_TIMEOUT": "30"]
        let implicit = try await drover("work-pool", "get-default-base-job-template", env: env)
        let explicit = try await drover("work-pool", "get-default-base-job-template", "--type", "process", env: env)
        #expect(implicit.status == 0 && explicit.status == 0, "\(implicit)\n\(explicit)")
        #expect(implicit.stdout == explicit.stdout)
        let template = try JSON.object(explicit.stdout)
        let configuration = try #require(template["job_configuration"] as? [String: Any])
        let variables = try #require(template["variables"] as? [String: Any])
        let properties = try #require(variables["properties"] as? [String: Any])
        let names = ["command", "env", "labels", "name", "stream_output", "working_dir"]
        #expect(configuration.keys.sorted() == names)
        #expect(properties.keys.sorted() == names)
        for name in names { #expect(configuration[name] as? String == "{{ \(name) }}") }
        #expect((properties["stream_output"] as? [String: Any])?["default"] as? Bool == true)
    }
}
