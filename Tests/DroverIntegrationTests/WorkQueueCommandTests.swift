import DroverTestSupport
import Foundation
import Testing

/// `drover work-queue …` against a real server: the default queue, priorities, the
/// table and inspect views, `-o json`, and every change command.
@Suite(.timeLimit(.minutes(2)))
struct WorkQueueCommandTests {
    @Test func everyPoolHasADefaultQueueAndQueuesListByPriority() async throws {
        let home = try TemporaryDirectory()
        let server = try await DroverServer.start(home: home.url)
        defer { server.terminate() }
        #expect(try await server.drover("work-pool", "create", "pool").status == 0)
        let pool = try await server.pool("pool")

        var queues = try await server.queues(pool: "pool")
        #expect(queues.map { $0["name"] as? String } == ["default"])
        let defaultQueue = try #require(queues.first)
        #expect(defaultQueue["id"] as? String == pool["default_queue_id"] as? String)
        #expect(defaultQueue["priority"] as? Int == 1)
        #expect(defaultQueue["description"] as? String == "The work pool's default queue.")
        #expect(defaultQueue["work_pool_name"] as? String == "pool")
        #expect(defaultQueue["work_pool_id"] as? String == pool["id"] as? String)
        #expect(defaultQueue["concurrency_limit"] == nil)

        let first = try await server.drover(
            "work-queue", "create", "urgent", "--pool", "pool", "--priority", "1", "--limit", "5")
        #expect(first.status == 0, "\(first)")
        for line in [
            "Created work queue with properties:", "    name - 'urgent'", "    work pool - 'pool'", "    priority - 1",
            "    concurrency limit - 5", "drover worker start -q 'urgent' -p 'pool'",
            "drover work-queue inspect 'urgent' --pool 'pool'",
        ] {
            #expect(first.stdout.contains(line), "missing \(line) in \(first)")
        }
        #expect(first.stdout.contains(#/    id - [0-9a-f-]{36}\n/#), "\(first)")

        // Without --priority a queue goes after the last; a taken priority moves that queue down.
        let last = try await server.drover("work-queue", "create", "later", "-p", "pool")
        #expect(last.status == 0 && last.stdout.contains("    priority - 3"), "\(last)")
        #expect(last.stdout.contains("    concurrency limit - None"), "\(last)")
        queues = try await server.queues(pool: "pool")
        #expect(queues.map { $0["name"] as? String } == ["urgent", "default", "later"])
        #expect(queues.map { $0["priority"] as? Int } == [1, 2, 3])
        #expect(element(named: "urgent", in: queues)?["concurrency_limit"] as? Int == 5)

        // The pool's table: Name, Priority, Concurrency Limit.
        let table = try await server.output("work-queue", "ls", "--pool", "pool")
        #expect(table.contains("Work Queues in Work Pool 'pool'"), "\(table)")
        let rows = table.split(separator: "\n").map(String.init).filter { $0.hasPrefix("│") }.map(TableRow.cells)
        #expect(rows == [["urgent", "1", "5"], ["default", "2", "None"], ["later", "3", "None"]], "\(table)")

        // Queue names are unique per pool only; ls without --pool lists every pool's queues.
        #expect(try await server.drover("work-pool", "create", "other").status == 0)
        #expect(try await server.drover("work-queue", "create", "urgent", "--pool", "other").status == 0)
        let everything = try await server.queues(pool: nil)
        #expect(everything.count == 5)
        #expect(Set(everything.compactMap { $0["work_pool_name"] as? String }) == ["pool", "other"])
        let wideTable = try await server.output("work-queue", "ls")
        let header = try #require(wideTable.split(separator: "\n").first { $0.contains("Name") })
        for column in ["Name", "Pool", "ID", "Priority", "Concurrency Limit"] { #expect(header.contains(column)) }
        let urgentID = try #require(element(named: "urgent", in: queues)?["id"] as? String)
        #expect(wideTable.contains(urgentID), "\(wideTable)")

        // inspect: the whole record, as text and as JSON.
        let text = try await server.output("work-queue", "inspect", "urgent", "--pool", "pool")
        #expect(text.hasPrefix("WorkQueue(\n"), "\(text)")
        for field in [
            "    id='\(urgentID)',", "    name='urgent',", "    description=None,", "    priority=1,",
            "    concurrency_limit=5,", "    is_paused=False,", "    work_pool_name='pool',",
            "    work_pool_id='\(pool["id"] as! String)',", "    status=WorkQueueStatus.NOT_READY",
        ] {
            #expect(text.contains(field), "missing \(field) in:\n\(text)")
        }
        #expect(text.contains(#/    created=\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}\+00:00,/#), "\(text)")
        let json = try JSON.object(try await server.output("work-queue", "inspect", "urgent", "--pool", "pool", "-o", "json"))
        #expect(try JSON.canonical(value: json) == JSON.canonical(value: #require(element(named: "urgent", in: queues))))
        let jsonLong = try await server.output("work-queue", "inspect", "urgent", "--pool", "pool", "--output", "json")
        #expect(try JSON.canonical(jsonLong) == JSON.canonical(value: json))

        #expect(await server.stop() == .exit(0))
    }

    @Test func updatePauseResumeLimitsAndDelete() async throws {
        let home = try TemporaryDirectory()
        let server = try await DroverServer.start(home: home.url)
        defer { server.terminate() }
        #expect(try await server.drover("work-pool", "create", "pool").status == 0)
        #expect(try await server.drover("work-queue", "create", "jobs", "--pool", "pool").status == 0)
        let created = try await server.queue("jobs", pool: "pool")
        #expect(created["priority"] as? Int == 2)

        let update = try await server.drover(
            "work-queue", "update", "jobs", "--pool", "pool", "--priority", "1", "--description", "Batch jobs",
            "--limit", "4")
        #expect(update.status == 0 && update.stdout == "Updated work queue 'jobs' in work pool 'pool'\n", "\(update)")
        var jobs = try await server.queue("jobs", pool: "pool")
        #expect(jobs["priority"] as? Int == 1)
        #expect(jobs["description"] as? String == "Batch jobs")
        #expect(jobs["concurrency_limit"] as? Int == 4)
        #expect(jobs["id"] as? String == created["id"] as? String)
        #expect((jobs["updated"] as! String) > (created["updated"] as! String))
        #expect(try await server.queue("default", pool: "pool")["priority"] as? Int == 2, "the default queue moved down")

        let pause = try await server.drover("work-queue", "pause", "jobs", "--pool", "pool")
        #expect(pause.status == 0 && pause.stdout == "Paused work queue 'jobs' in work pool 'pool'\n", "\(pause)")
        jobs = try await server.queue("jobs", pool: "pool")
        #expect(jobs["is_paused"] as? Bool == true && jobs["status"] as? String == "WORK_QUEUE_PAUSED")
        let pausedTable = try await server.output("work-queue", "ls", "--pool", "pool")
        #expect(pausedTable.contains("jobs (**)") && pausedTable.contains("(**) denotes a paused queue"), "\(pausedTable)")
        #expect(try await server.output("work-queue", "inspect", "jobs", "--pool", "pool").contains("    is_paused=True,"))

        let resume = try await server.drover("work-queue", "resume", "jobs", "--pool", "pool")
        #expect(resume.status == 0 && resume.stdout == "Resumed work queue 'jobs' in work pool 'pool'\n", "\(resume)")
        jobs = try await server.queue("jobs", pool: "pool")
        #expect((jobs["is_paused"] as? Bool ?? false) == false && jobs["status"] as? String == "WORK_QUEUE_NOT_READY")

        let set = try await server.drover("work-queue", "set-concurrency-limit", "jobs", "9", "--pool", "pool")
        #expect(set.status == 0, "\(set)")
        #expect(set.stdout == "Concurrency limit of 9 set on work queue 'jobs' in work pool 'pool'\n", "\(set)")
        #expect(try await server.queue("jobs", pool: "pool")["concurrency_limit"] as? Int == 9)

        let clear = try await server.drover("work-queue", "clear-concurrency-limit", "jobs", "--pool", "pool")
        #expect(clear.status == 0, "\(clear)")
        #expect(clear.stdout == "Concurrency limits removed on work queue 'jobs' in work pool 'pool'\n", "\(clear)")
        #expect(try await server.queue("jobs", pool: "pool")["concurrency_limit"] == nil)

        // The default queue cannot be deleted; other queues can.
        let before = try await server.snapshot()
        let deleteDefault = try await server.drover("work-queue", "delete", "default", "--pool", "pool")
        #expect(deleteDefault.status == 1 && deleteDefault.stderr == "Can't delete a pool's default queue.\n", "\(deleteDefault)")
        #expect(try await server.snapshot() == before)

        let delete = try await server.drover("work-queue", "delete", "jobs", "--pool", "pool")
        #expect(delete.status == 0 && delete.stdout == "Deleted work queue 'jobs' from work pool 'pool'\n", "\(delete)")
        let gone = try await server.drover("work-queue", "inspect", "jobs", "--pool", "pool")
        #expect(gone.status == 1, "\(gone)")
        #expect(gone.stderr == "No work queue named 'jobs' found in work pool 'pool'.\n", "\(gone)")
        #expect(try await server.queues(pool: "pool").map { $0["name"] as? String } == ["default"])

        #expect(await server.stop() == .exit(0))
    }
}
