import DroverTestSupport
import Foundation
import Testing

/// A short `drover bench chaos`: real server, real workers, real runs, and the server,
/// workers and limit service killed on a seeded schedule. Every invariant must hold.
@Suite(.timeLimit(.minutes(5)))
struct ChaosSoakTests {
    @Test func aShortSoakWithServerAndWorkerKillsKeepsEveryInvariant() async throws {
        let result = try await drover(
            [
                "bench", "chaos", "--seed", "7", "--duration", "20", "--server-kills", "3", "--worker-kills", "2",
                "--worker-stops", "2", "-o", "json",
            ], guardSeconds: 200)
        #expect(result.status == 0, "\(result)")
        let report = try JSON.object(result.stdout)
        #expect((report["runs"] as? Int ?? 0) > 20, "\(report)")
        #expect(report["lost"] as? Int == 0 && report["duplicated"] as? Int == 0, "\(report)")
        #expect(report["limit_violations"] as? Int == 0 && report["leases_left"] as? Int == 0, "\(report)")
        #expect(report["server_kills"] as? Int == 3 && report["worker_kills"] as? Int == 2, "\(report)")
        #expect((report["max_hellos_per_restart"] as? Int ?? 99) < 10, "\(report)")
    }

    @Test func aStandaloneLimitServiceKilledMidSoakLeavesNoSlotTaken() async throws {
        let result = try await drover(
            [
                "bench", "chaos", "--seed", "11", "--duration", "12", "--server-kills", "1", "--worker-kills", "0",
                "--worker-stops", "0", "--limit-service", "standalone", "--limit-service-kills", "2", "-o", "json",
            ], guardSeconds: 200)
        #expect(result.status == 0, "\(result)")
        let report = try JSON.object(result.stdout)
        #expect(report["limit_service_kills"] as? Int == 2, "\(report)")
        #expect(report["lost"] as? Int == 0 && report["limit_violations"] as? Int == 0, "\(report)")
        #expect(report["leases_left"] as? Int == 0, "\(report)")
    }
}
