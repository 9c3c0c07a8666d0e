import DroverTestSupport
import Foundation
import Testing

/// `drover work-pool preview`: a run scheduled for later shows when the window reaches it.
@Suite(.timeLimit(.minutes(2)))
struct WorkPoolPreviewTests {
    @Test func aRunInTwoHoursShowsInAThreeHourPreviewOnly() async throws {
        let home = try TemporaryDirectory()
        let server = try await DroverServer.start(home: home.url)
        defer { server.terminate() }
        try await server.succeed("work-pool", "create", "later")
        try await server.succeed("deployment", "create", "nightly", "--pool", "later", "--command", "true")
        let deployment = try JSON.object(try await server.output("deployment", "inspect", "nightly"))

        let id = try await server.runDeployment("nightly", "--start-in", "2h")
        let run = try await server.flowRun(id)
        #expect(run.state == "SCHEDULED")

        let table = try await server.output("work-pool", "preview", "later", "--hours", "3")
        let row = try #require(table.split(separator: "\n").map(String.init).first { $0.contains(id) }, "\(table)")
        let cells = TableRow.cells(row)
        #expect(cells.count == 4, "\(row)")
        #expect(cells.first?.hasSuffix("(**)") == false, "not late: \(row)")
        #expect(Array(cells.dropFirst()) == [id, run.name, deployment["id"] as? String ?? "?"], "\(row)")
        #expect(table.contains("(**) denotes a late run"), "\(table)")

        let json = try JSON.array(try await server.output("work-pool", "preview", "later", "--hours", "3", "-o", "json"))
        #expect(json.map { $0["id"] as? String } == [id], "\(json)")
        #expect(json.first?["expected_start_time"] as? String == run.json["expected_start_time"] as? String)

        let soon = try await server.output("work-pool", "preview", "later", "--hours", "1")
        #expect(soon == "No runs found - try increasing how far into the future you preview with the --hours flag\n", "\(soon)")
        #expect(try await server.output("work-pool", "preview", "later", "--hours", "1", "-o", "json") == "[]\n")
        #expect(await server.stop() == .exit(0))
    }
}
