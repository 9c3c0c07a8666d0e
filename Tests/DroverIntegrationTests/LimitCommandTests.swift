import DroverTestSupport
import Foundation
import Testing

#if canImport(Glibc)
import Glibc
#endif

/// `drover concurrency-limit`, `global-concurrency-limit` (`gcl`), `concurrency acquire` and
/// `rate-limit` against a real server and its embedded limit service: the tutorial's
/// commands and output, every change command, `-o json`, bad input, and slots that are
/// held while a command runs and freed when it ends.
@Suite(.timeLimit(.minutes(2)))
struct LimitCommandTests {
    // MARK: Tag limits (the tutorial, section 4)

    @Test func tutorialTagLimitCommands() async throws {
        let home = try TemporaryDirectory()
        let server = try await DroverServer.start(home: home.url)
        defer { server.terminate() }

        let created = try await server.drover("concurrency-limit", "create", "global_limit", "1")
        #expect(created.status == 0, "\(created)")
        #expect(
            created.stdout == """

                Created concurrency limit with properties:
                    tag - 'global_limit'
                    concurrency_limit - 1

                Delete the concurrency limit:
                    drover concurrency-limit delete 'global_limit'

                Inspect the concurrency limit:
                    drover concurrency-limit inspect 'global_limit'

                """, "\(created)")

        // inspect: the panel with the limit's id, its table, and the (empty) holders.
        let json = try JSON.object(try await server.output("concurrency-limit", "inspect", "global_limit", "-o", "json"))
        #expect(json["name"] as? String == "tag:global_limit")
        #expect(json["limit"] as? Int == 1)
        let id = try #require(json["id"] as? String)
        #expect(isUUID(id))
        let panel = try await server.output("concurrency-limit", "inspect", "global_limit")
        let lines = panel.split(separator: "\n").map(String.init)
        #expect(lines.first?.hasPrefix("╭") == true && lines.last?.hasPrefix("╰") == true, "\(panel)")
        #expect(lines.dropFirst().first?.contains("Concurrency Limit ID: \(id)") == true, "\(panel)")
        #expect(Set(lines.map(\.count)).count == 1, "every line of the panel is as wide:\n\(panel)")
        let inner = lines.dropFirst().dropLast().map { String($0.dropFirst(2).dropLast(2)) }
        let rows = inner.filter { $0.hasPrefix("│") || $0.hasPrefix("┃") }.map(TableRow.cells)
        #expect(rows.contains(["global_limit", "1", "'a few seconds ago'", "'a few seconds ago'"]), "\(panel)")
        #expect(inner.contains { $0.contains("┃ Tag ") && $0.contains("┃ Concurrency Limit ┃ Created") }, "\(panel)")
        #expect(inner.contains { $0.contains("┃ Active Task Run IDs ┃") }, "\(panel)")

        // ls: only tag limits, with Prefect's columns and footer.
        #expect(try await server.drover("gcl", "create", "not-a-tag", "--limit", "3").status == 0)
        let table = try await server.output("concurrency-limit", "ls")
        #expect(table.contains("Concurrency Limits"), "\(table)")
        #expect(table.contains("inspect a concurrency limit to show active task run IDs"), "\(table)")
        #expect(!table.contains("not-a-tag"), "\(table)")
        let header = try #require(table.split(separator: "\n").first { $0.hasPrefix("┃") })
        #expect(
            TableRow.cells(header.replacingOccurrences(of: "┃", with: "│"))
                == ["Tag", "ID", "Concurrency Limit", "Active Task Runs"], "\(table)")
        let listed = table.split(separator: "\n").map(String.init).filter { $0.hasPrefix("│") }.map(TableRow.cells)
        #expect(listed == [["global_limit", id, "1", "0"]], "\(table)")
        let listJSON = try JSON.array(try await server.output("concurrency-limit", "ls", "-o", "json"))
        #expect(listJSON.map { $0["name"] as? String } == ["tag:global_limit"])

        // As Prefect's, create on a tag that has a limit sets it: same words, same limit.
        let again = try await server.drover("concurrency-limit", "create", "global_limit", "1")
        #expect(again.status == 0 && again.stdout == created.stdout, "\(again)")
        let raised = try await server.drover("concurrency-limit", "create", "global_limit", "4")
        #expect(raised.status == 0 && raised.stdout.contains("    concurrency_limit - 4\n"), "\(raised)")
        let afterRaise = try JSON.object(try await server.output("concurrency-limit", "inspect", "global_limit", "-o", "json"))
        #expect(afterRaise["id"] as? String == id && afterRaise["limit"] as? Int == 4)

        let deleted = try await server.drover("concurrency-limit", "delete", "global_limit")
        #expect(deleted.status == 0, "\(deleted)")
        #expect(deleted.stdout == "Deleted concurrency limit set on the tag: global_limit\n", "\(deleted)")
        for command in ["inspect", "delete", "reset"] {
            let missing = try await server.drover("concurrency-limit", command, "global_limit")
            #expect(missing.status == 1, "\(missing)")
            #expect(missing.stderr == "No concurrency limit found for the tag: global_limit\n", "\(missing)")
            #expect(missing.stdout.isEmpty, "\(missing)")
        }
        #expect(try await server.output("concurrency-limit", "ls") == "No concurrency limits found.\n")
        #expect(try await server.output("concurrency-limit", "ls", "-o", "json") == "[]\n")
    }

    @Test func inspectListsHoldersAndResetFreesTheirSlots() async throws {
        let home = try TemporaryDirectory()
        let server = try await DroverServer.start(home: home.url)
        defer { server.terminate() }
        #expect(try await server.drover("concurrency-limit", "create", "db", "2").status == 0)

        let gate = try Gate(in: home)
        let runID = UUID().uuidString.lowercased()
        let holder = try BackgroundDrover(
            server: server, ["concurrency", "acquire", "tag:db", "--", "sh", "-c", "echo holding; read x < \"$0\"", gate.path],
            env: ["DROVER_FLOW_RUN_ID": runID])
        defer { holder.stop() }
        #expect(await holder.awaitLine("holding"))

        let limit = try JSON.object(try await server.output("concurrency-limit", "inspect", "db", "-o", "json"))
        #expect(limit["active_slots"] as? Int == 1)
        let leases = try #require(limit["leases"] as? [[String: Any]])
        #expect(leases.count == 1)
        let lease = try #require(leases.first)
        let holderName = try #require(lease["holder"] as? String)
        #expect(holderName.hasPrefix("flow-run/\(runID) pid \(holder.pid) on "), "\(lease)")
        #expect(lease["limits"] as? [String] == ["tag:db"])

        let panel = try await server.output("concurrency-limit", "inspect", "db")
        #expect(panel.contains("│ \(holderName)"), "\(panel)")
        let table = try await server.output("concurrency-limit", "ls")
        #expect(table.split(separator: "\n").map(String.init).filter { $0.hasPrefix("│") }.map(TableRow.cells).first?.last == "1")

        let reset = try await server.drover("concurrency-limit", "reset", "db")
        #expect(reset.status == 0 && reset.stdout == "Reset concurrency limit set on the tag: db\n", "\(reset)")
        let afterReset = try JSON.object(try await server.output("concurrency-limit", "inspect", "db", "-o", "json"))
        #expect(afterReset["active_slots"] == nil, "\(afterReset)")

        try await gate.open()
        #expect(await holder.awaitExit() == .exit(0), "\(holder)")
    }

    // MARK: Global concurrency limits (the transcript, section 8)

    @Test func globalLimitLifecycle() async throws {
        let home = try TemporaryDirectory()
        let server = try await DroverServer.start(home: home.url)
        defer { server.terminate() }

        let created = try await server.drover("global-concurrency-limit", "create", "demo-gcl", "--limit", "2")
        #expect(created.status == 0, "\(created)")
        let match = try #require(
            created.stdout.wholeMatch(
                of:
                    #/Created global concurrency limit with name 'demo-gcl' and ID '([0-9a-f-]{36})'\. Run `drover gcl inspect demo-gcl` to view details\.\n/#
            ),
            "\(created)")
        let id = String(match.1)

        func row() async throws -> [String] {
            let table = try await server.output("gcl", "ls")
            #expect(table.contains("Global Concurrency Limits"), "\(table)")
            #expect(table.contains("List Global Concurrency Limits using `drover global-concurrency-limit ls`"), "\(table)")
            let rows = table.split(separator: "\n").map(String.init).filter { $0.hasPrefix("│") }.map(TableRow.cells)
            try #require(rows.count == 1, "\(table)")
            return rows[0]
        }
        var cells = try await row()
        #expect(Array(cells.prefix(6)) == [id, "demo-gcl", "True", "2", "0", "0.0"], "\(cells)")
        #expect(cells[6].wholeMatch(of: #/\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}\+00:00/#) != nil, "\(cells)")
        #expect(cells[7] == "a few seconds ago", "\(cells)")

        let text = try await server.output("gcl", "inspect", "demo-gcl")
        for line in [
            "Global concurrency limit 'demo-gcl'", "    ID:                    \(id)", "    Active:                True",
            "    Limit:                 2", "    Active slots:          0", "    Slot decay per second: 0.0",
            "    Applies to all runs:   False", "    Waiting:               0", "No leases hold its slots.",
        ] {
            #expect(text.contains(line + "\n"), "missing \(line) in:\n\(text)")
        }

        let updated = try await server.drover("global-concurrency-limit", "update", "demo-gcl", "--limit", "3")
        #expect(updated.status == 0 && updated.stdout == "Updated global concurrency limit with name 'demo-gcl'.\n", "\(updated)")
        let disabled = try await server.drover("global-concurrency-limit", "disable", "demo-gcl")
        #expect(disabled.status == 0 && disabled.stdout == "Disabled global concurrency limit with name 'demo-gcl'.\n", "\(disabled)")
        cells = try await row()
        #expect(Array(cells.prefix(4)) == [id, "demo-gcl", "False", "3"], "\(cells)")
        let enabled = try await server.drover("gcl", "enable", "demo-gcl")
        #expect(enabled.status == 0 && enabled.stdout == "Enabled global concurrency limit with name 'demo-gcl'.\n", "\(enabled)")

        let rate = try await server.drover(
            "gcl", "update", "demo-gcl", "--slot-decay-per-second", "0.5", "--all-runs", "--disable")
        #expect(rate.status == 0, "\(rate)")
        var json = try JSON.object(try await server.output("gcl", "inspect", "demo-gcl", "-o", "json"))
        #expect(json["slot_decay_per_second"] as? Double == 0.5)
        #expect(json["applies_to_all_runs"] as? Bool == true)
        #expect(json["active"] == nil, "disabled: false, which JSON leaves out")
        #expect(json["limit"] as? Int == 3)
        #expect(try await server.drover("gcl", "update", "demo-gcl", "--no-all-runs", "--enable").status == 0)
        json = try JSON.object(try await server.output("gcl", "inspect", "demo-gcl", "--output", "json"))
        #expect(json["applies_to_all_runs"] == nil && json["active"] as? Bool == true, "\(json)")
        let list = try JSON.array(try await server.output("gcl", "ls", "-o", "json"))
        #expect(try list.map { try JSON.canonical(value: $0) } == [try JSON.canonical(value: json)])

        let duplicate = try await server.drover("global-concurrency-limit", "create", "demo-gcl", "--limit", "2")
        #expect(duplicate.status == 1, "\(duplicate)")
        #expect(
            duplicate.stderr
                == "Global concurrency limit 'demo-gcl' already exists. Please try creating with a different name.\n",
            "\(duplicate)")

        // Created disabled, as a rate limit, applying to all runs.
        let full = try await server.drover(
            "gcl", "create", "api", "-l", "5", "--slot-decay-per-second", "2", "--disable", "--all-runs")
        #expect(full.status == 0, "\(full)")
        let api = try JSON.object(try await server.output("gcl", "inspect", "api", "-o", "json"))
        #expect(api["limit"] as? Int == 5 && api["slot_decay_per_second"] as? Double == 2)
        #expect(api["active"] == nil && api["applies_to_all_runs"] as? Bool == true, "\(api)")
        #expect(try await server.output("gcl", "inspect", "api").contains("    Slot decay per second: 2.0 (a rate limit)\n"))

        let deleted = try await server.drover("global-concurrency-limit", "delete", "demo-gcl")
        #expect(deleted.status == 0 && deleted.stdout == "Deleted global concurrency limit with name 'demo-gcl'.\n", "\(deleted)")
        for arguments in [
            ["gcl", "inspect", "demo-gcl"], ["gcl", "delete", "demo-gcl"], ["gcl", "enable", "demo-gcl"],
            ["gcl", "update", "demo-gcl", "--limit", "1"],
        ] {
            let missing = try await server.drover(arguments)
            #expect(missing.status == 1 && missing.stderr == "Global concurrency limit 'demo-gcl' not found.\n", "\(missing)")
        }
    }

    @Test func badInputIsAUsageErrorAndChangesNothing() async throws {
        let home = try TemporaryDirectory()
        let server = try await DroverServer.start(home: home.url)
        defer { server.terminate() }
        #expect(try await server.drover("gcl", "create", "db", "--limit", "1").status == 0)
        let before = try await server.output("gcl", "ls", "-o", "json")

        let refusals: [([String], String)] = [
            (["gcl", "create", "bad", "--limit", "-1"], "'-1' is negative"),
            (["gcl", "create", "bad", "--limit", "abc"], "must be a whole number; got 'abc'"),
            (["gcl", "create", "bad"], "Missing expected argument '--limit <limit>'"),
            (["gcl", "create", "bad", "-l", "1", "--slot-decay-per-second", "-0.5"], "Slot decay per second must be a number from 0"),
            (
                ["gcl", "create", "bad", "-l", "1", "--slot-decay-per-second", "fast"],
                "Slot decay per second must be a number such as 0.5; got 'fast'"
            ),
            (["gcl", "update", "db"], "Nothing to update"),
            (["gcl", "update", "db", "--limit", "x"], "must be a whole number; got 'x'"),
            (["gcl", "update", "db", "--enable", "--disable"], "--disable"),
            (["concurrency-limit", "create", "t", "abc"], "must be a whole number; got 'abc'"),
            (["concurrency-limit", "create", "t", "-2"], "'-2' is negative"),
            (["concurrency", "acquire", "db"], "Give the command to run after --"),
            (["concurrency", "acquire", "--", "true"], "Give at least one limit name."),
            (["concurrency", "acquire", "db", "--slots", "0", "--", "true"], "--slots must be a whole number from 1"),
            (["concurrency", "acquire", "db", "--timeout", "soon", "--", "true"], "--timeout must be a number of seconds"),
            (["concurrency", "acquire", "db", "--lease-ttl", "0", "--", "true"], "--lease-ttl must be a number of seconds"),
            (["rate-limit"], "Give at least one rate limit name."),
            (["rate-limit", "db", "--timeout", "-3"], "'-3' is negative"),
        ]
        for (arguments, message) in refusals {
            let result = try await server.drover(arguments)
            #expect(result.status == 2, "\(result)")
            #expect(result.stderr.contains(message), "expected \(message)\n\(result)")
            #expect(result.stdout.isEmpty, "\(result)")
        }
        #expect(try await server.output("gcl", "ls", "-o", "json") == before)
    }

    // MARK: concurrency acquire

    @Test func acquireRunsTheCommandAndReleasesItsSlot() async throws {
        let home = try TemporaryDirectory()
        let server = try await DroverServer.start(home: home.url)
        defer { server.terminate() }
        #expect(try await server.drover("gcl", "create", "db", "--limit", "1").status == 0)

        let ran = try await server.drover(
            "concurrency", "acquire", "db", "--", "sh", "-c", "echo \"ran with $0\"; echo oops >&2; exit 3", "arg")
        #expect(ran.status == 3, "\(ran)")
        #expect(ran.stdout == "ran with arg\n", "\(ran)")
        #expect(ran.stderr == "oops\n", "\(ran)")
        let limit = try JSON.object(try await server.output("gcl", "inspect", "db", "-o", "json"))
        #expect(limit["active_slots"] == nil && limit["leases"] == nil, "released: \(limit)")

        // Free again: a try that must not wait succeeds at once.
        let next = try await server.drover("concurrency", "acquire", "db", "--timeout", "0", "--", "true")
        #expect(next.status == 0 && next.stdout.isEmpty && next.stderr.isEmpty, "\(next)")

        // A command that cannot start: the shell's codes, and the slot is released.
        let missing = try await server.drover("concurrency", "acquire", "db", "--", "/nonexistent/command")
        #expect(missing.status == 127, "\(missing)")
        #expect(missing.stderr.contains("Could not run '/nonexistent/command': No such file or directory"), "\(missing)")
        let afterMissing = try JSON.object(try await server.output("gcl", "inspect", "db", "-o", "json"))
        #expect(afterMissing["active_slots"] == nil, "\(afterMissing)")

        // A name that is no limit limits nothing, with a note; --strict refuses it.
        let unknown = try await server.drover("concurrency", "acquire", "db", "nope", "--", "true")
        #expect(unknown.status == 0 && unknown.stderr.contains("no limit is named 'nope'"), "\(unknown)")
        let strict = try await server.drover("concurrency", "acquire", "db", "nope", "--strict", "--", "echo", "ran")
        #expect(strict.status == 1 && strict.stdout.isEmpty, "\(strict)")
        #expect(strict.stderr.contains("'nope'"), "\(strict)")

        // The limit service found through --limits and DROVER_LIMITS as well as through the server.
        let status = try JSON.object(try await server.output("server", "status", "-o", "json"))
        let limitsEndpoint = try #require((status["endpoints"] as? [String: String])?["limits"])
        let viaFlag = try await DroverIntegrationTests.drover(
            ["gcl", "ls", "-o", "json", "--limits", limitsEndpoint, "--server", "tcp://127.0.0.1:1"],
            env: ["DROVER_HOME": server.home.path])
        #expect(viaFlag.status == 0 && viaFlag.stdout.contains("\"db\""), "\(viaFlag)")
        let viaEnvironment = try await DroverIntegrationTests.drover(
            ["concurrency", "acquire", "db", "--", "true"],
            env: ["DROVER_HOME": server.home.path, "DROVER_LIMITS": limitsEndpoint, "DROVER_SERVER": "tcp://127.0.0.1:1"])
        #expect(viaEnvironment.status == 0, "\(viaEnvironment)")
        let nobody = try await server.drover(
            ["gcl", "ls", "--limits", "tcp://127.0.0.1:1"], env: ["DROVER_CLIENT_TIMEOUT": "0.3"])
        #expect(nobody.status == 1 && nobody.stderr.contains("Could not reach a Drover limit service at tcp://127.0.0.1:1"), "\(nobody)")
    }

    @Test func acquireTimesOutWhileAnotherHoldsTheOnlySlotAndWaitersGoInTurn() async throws {
        let home = try TemporaryDirectory()
        let server = try await DroverServer.start(home: home.url)
        defer { server.terminate() }
        #expect(try await server.drover("gcl", "create", "db", "--limit", "1").status == 0)

        let gate = try Gate(in: home)
        let holder = try BackgroundDrover(
            server: server, ["concurrency", "acquire", "db", "--", "sh", "-c", "echo holding; read x < \"$0\"", gate.path])
        defer { holder.stop() }
        #expect(await holder.awaitLine("holding"))

        let started = Date()
        let late = try await server.drover("concurrency", "acquire", "db", "--timeout", "1", "--", "echo", "ran")
        let waited = Date().timeIntervalSince(started)
        #expect(late.status == 1, "\(late)")
        #expect(late.stdout.isEmpty, "the command must not run: \(late)")
        #expect(late.stderr.contains("Waiting for a slot of 'db' (position 1)"), "\(late)")
        #expect(late.stderr.contains("Timed out waiting for a slot of 'db'"), "\(late)")
        #expect(waited >= 0.9 && waited < 10, "waited \(waited) s")
        let busy = try await server.drover("concurrency", "acquire", "db", "--timeout", "0", "--", "echo", "ran")
        #expect(busy.status == 1 && busy.stdout.isEmpty && busy.stderr.contains("No free slot of 'db'"), "\(busy)")

        // A waiter without a timeout runs the moment the holder's command ends.
        let waiter = try BackgroundDrover(server: server, ["concurrency", "acquire", "db", "--", "echo", "granted"])
        defer { waiter.stop() }
        try await awaitLimit("db", on: server) { ($0["waiting"] as? Int) == 1 }
        #expect(waiter.isRunning && !waiter.stdout.contains("granted"))
        try await gate.open()
        #expect(await holder.awaitExit() == .exit(0), "\(holder)")
        #expect(await waiter.awaitExit() == .exit(0), "\(waiter)")
        #expect(waiter.stdout == "granted\n", "\(waiter)")
        let limit = try JSON.object(try await server.output("gcl", "inspect", "db", "-o", "json"))
        #expect(limit["active_slots"] == nil && limit["waiting"] == nil, "\(limit)")
    }

    @Test func stopSignalsReachTheCommandAndTheSlotIsReleased() async throws {
        let home = try TemporaryDirectory()
        let server = try await DroverServer.start(home: home.url)
        defer { server.terminate() }
        #expect(try await server.drover("gcl", "create", "db", "--limit", "1").status == 0)

        // SIGTERM is passed on; a command that a signal ends gives 128 + the signal.
        let killed = try BackgroundDrover(server: server, ["concurrency", "acquire", "db", "--", "sh", "-c", "echo up; exec sleep 60"])
        defer { killed.stop() }
        #expect(await killed.awaitLine("up"))
        killed.send(SIGTERM)
        #expect(await killed.awaitExit() == .exit(128 + SIGTERM), "\(killed)")

        // A command that handles the signal decides the exit code.
        let handled = try BackgroundDrover(
            server: server,
            ["concurrency", "acquire", "db", "--", "sh", "-c", "trap 'echo stopping; exit 7' INT; echo up; while :; do sleep 0.05; done"])
        defer { handled.stop() }
        #expect(await handled.awaitLine("up"))
        handled.send(SIGINT)
        #expect(await handled.awaitExit() == .exit(7), "\(handled)")
        #expect(handled.stdout.contains("stopping"), "\(handled)")
        let next = try await server.drover("concurrency", "acquire", "db", "--timeout", "0", "--", "true")
        #expect(next.status == 0, "released after the signal: \(next)")

        // A signal while waiting withdraws the wait: the command never runs.
        let gate = try Gate(in: home)
        let holder = try BackgroundDrover(
            server: server, ["concurrency", "acquire", "db", "--", "sh", "-c", "echo holding; read x < \"$0\"", gate.path])
        defer { holder.stop() }
        #expect(await holder.awaitLine("holding"))
        let waiter = try BackgroundDrover(server: server, ["concurrency", "acquire", "db", "--", "echo", "ran"])
        defer { waiter.stop() }
        try await awaitLimit("db", on: server) { ($0["waiting"] as? Int) == 1 }
        waiter.send(SIGINT)
        #expect(await waiter.awaitExit() == .exit(128 + SIGINT), "\(waiter)")
        #expect(waiter.stdout.isEmpty && waiter.stderr.contains("Stopped waiting for a slot of 'db'."), "\(waiter)")
        let limit = try JSON.object(try await server.output("gcl", "inspect", "db", "-o", "json"))
        #expect(limit["waiting"] == nil, "withdrawn: \(limit)")
        try await gate.open()
        #expect(await holder.awaitExit() == .exit(0), "\(holder)")
    }

    @Test func leasesAreRenewedWhileTheCommandRuns() async throws {
        let home = try TemporaryDirectory()
        let server = try await DroverServer.start(home: home.url)
        defer { server.terminate() }
        #expect(try await server.drover("gcl", "create", "db", "--limit", "1").status == 0)

        let gate = try Gate(in: home)
        let holder = try BackgroundDrover(
            server: server,
            ["concurrency", "acquire", "db", "--lease-ttl", "1", "--", "sh", "-c", "echo holding; read x < \"$0\"", gate.path])
        defer { holder.stop() }
        #expect(await holder.awaitLine("holding"))
        let first = try #require(try await leases(of: "db", on: server).first)
        #expect(first["ttl_ms"] as? Int == 1000)
        // Renewed every third of its TTL: its expiry moves on, again and again, past the first TTL.
        var expiries: Set<String> = []
        try await awaitLimit("db", on: server) { limit in
            if let expires = (limit["leases"] as? [[String: Any]])?.first?["expires"] as? String { expiries.insert(expires) }
            return expiries.count >= 5
        }
        let later = try await leases(of: "db", on: server)
        #expect(later.first?["id"] as? String == first["id"] as? String, "still the same lease: \(later)")
        try await gate.open()
        #expect(await holder.awaitExit() == .exit(0), "\(holder)")
    }

    // MARK: rate-limit

    @Test func rateLimitTakesDecayingSlots() async throws {
        let home = try TemporaryDirectory()
        let server = try await DroverServer.start(home: home.url)
        defer { server.terminate() }
        #expect(try await server.drover("gcl", "create", "db", "--limit", "1").status == 0)
        #expect(try await server.drover("gcl", "create", "api", "--limit", "2", "--slot-decay-per-second", "0.01").status == 0)

        let notRate = try await server.drover("rate-limit", "db")
        #expect(notRate.status == 1 && notRate.stdout.isEmpty, "\(notRate)")
        #expect(notRate.stderr.contains("'db' is not a rate limit"), "\(notRate)")

        for _ in 0..<2 {
            let granted = try await server.drover("rate-limit", "api", "--timeout", "5")
            #expect(granted.status == 0 && granted.stdout.isEmpty && granted.stderr.isEmpty, "\(granted)")
        }
        let json = try JSON.object(try await server.output("gcl", "inspect", "api", "-o", "json"))
        #expect(json["active_slots"] as? Int == 2, "\(json)")
        // 0.01 slots a second: the third call has to wait ~100 s.
        let full = try await server.drover("rate-limit", "api", "--timeout", "0")
        #expect(full.status == 1 && full.stderr.contains("No free slot of 'api'"), "\(full)")
        let timedOut = try await server.drover("rate-limit", "api", "--timeout", "0.5")
        #expect(timedOut.status == 1 && timedOut.stderr.contains("Timed out waiting for a slot of 'api'"), "\(timedOut)")
        let strict = try await server.drover("rate-limit", "nope", "--strict")
        #expect(strict.status == 1 && strict.stderr.contains("'nope'"), "\(strict)")
    }

    // MARK: Helpers

    /// The leases of limit `name`, from `gcl inspect -o json`.
    private func leases(of name: String, on server: DroverServer) async throws -> [[String: Any]] {
        let limit = try JSON.object(try await server.output("gcl", "inspect", name, "-o", "json"))
        return limit["leases"] as? [[String: Any]] ?? []
    }

    /// Reads limit `name` (`gcl inspect -o json`) until `condition` holds, for at most 20 s.
    private func awaitLimit(
        _ name: String, on server: DroverServer, sourceLocation: SourceLocation = #_sourceLocation,
        _ condition: ([String: Any]) -> Bool
    ) async throws {
        let deadline = Date(timeIntervalSinceNow: 20)
        var last: [String: Any] = [:]
        while Date() < deadline {
            last = try JSON.object(try await server.output("gcl", "inspect", name, "-o", "json"))
            if condition(last) { return }
        }
        Issue.record("limit '\(name)' never reached the expected state: \(last)", sourceLocation: sourceLocation)
        throw LimitStateTimeout()
    }
}

private struct LimitStateTimeout: Error {}

/// A FIFO a test's command blocks on (`read x < FIFO`) until the test opens it.
private struct Gate {
    let path: String

    init(in directory: TemporaryDirectory) throws {
        path = directory.file("gate-\(UUID().uuidString.prefix(8))").path
        guard mkfifo(path, 0o600) == 0 else { throw POSIXError(.init(rawValue: errno) ?? .EIO) }
    }

    /// Lets the command that reads the FIFO go on (opening blocks until it reads).
    func open() async throws {
        let path = self.path
        let written = await onOwnThread { () -> Bool in
            let fd = Glibc.open(path, O_WRONLY)
            guard fd >= 0 else { return false }
            defer { close(fd) }
            return write(fd, "go\n", 3) == 3
        }
        try #require(written, "could not open the gate \(path)")
    }
}

/// A `drover` command left running while the test goes on, such as a `concurrency acquire`
/// holding a slot. `stop()` (for `defer`) sends SIGTERM, which it passes on to its command,
/// then SIGKILL if it lingers, so no command outlives the test.
private final class BackgroundDrover: @unchecked Sendable, CustomStringConvertible {
    private let child: ChildProcess
    private let lines = OutputLines()

    init(server: DroverServer, _ arguments: [String], env: [String: String] = [:]) throws {
        let environment = DroverBinary.baseEnvironment()
            .merging(server.clientEnvironment) { _, new in new }
            .merging(env) { _, new in new }
        let lines = self.lines
        child = try ChildProcess(
            executable: DroverBinary.url, arguments: arguments, environment: environment,
            onStdoutLine: { lines.append($0) }, onStdoutEnd: { lines.end() })
    }

    var pid: Int32 { child.pid }
    var isRunning: Bool { child.isRunning }
    var stdout: String { child.stdout }
    var stderr: String { child.stderr }

    func send(_ signal: Int32) { child.send(signal) }

    /// Waits (bounded) for a stdout line containing `text`.
    func awaitLine(_ text: String, seconds: Double = 20) async -> Bool {
        let lines = self.lines
        return await onOwnThread { lines.wait(seconds: seconds) { $0.contains(text) } != nil }
    }

    /// Waits (bounded) for it to exit, with its output complete, and returns how it ended.
    func awaitExit(seconds: Double = 20) async -> ProcessExit {
        let child = self.child
        await onOwnThread {
            _ = child.waitForExit(seconds: seconds)
            child.killAndReap()
            child.finishReading()
        }
        return child.exit
    }

    func stop() {
        guard child.isRunning else { return }
        child.send(SIGTERM)
        _ = child.waitForExit(seconds: 10)
        child.killAndReap()
    }

    var description: String {
        "drover \(child.arguments.joined(separator: " ")) -> \(child.exit)\n--- stdout\n\(child.stdout)--- stderr\n\(child.stderr)"
    }
}
