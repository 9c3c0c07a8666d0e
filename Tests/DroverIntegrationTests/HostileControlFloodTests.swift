#if canImport(ZeroMQ) && canImport(DroverProto)
import DroverProto
import DroverTestSupport
import Foundation
import Testing
import ZeroMQ

#if canImport(Glibc)
import Glibc
#endif

/// A control client that sends thousands of requests with large replies and never reads
/// them: the replies it leaves unread are bounded (then dropped and counted), so the
/// server's memory stays bounded, everyone else is still served meanwhile, and deadlines
/// come on time (a hung worker is lost after its heartbeats, not after the flood).
@Suite(.timeLimit(.minutes(5)))
struct HostileControlFloodTests {
    static let pools = 100
    static let requests = 5_000
    /// Generous: an idle server takes some 45 MiB, and its queue for one client holds 512
    /// replies of some 190 kB; 5,000 of them held would be 950 MiB.
    static let rssBoundMiB = 300
    /// A base job template that is quick to list: with the process type's default one, a
    /// debug build takes some 120 ms to list 100 pools, and minutes to fill the flooder's
    /// queue; with this one and long descriptions, 10 ms for a list as large.
    static let smallTemplate =
        #"{"job_configuration": {"command": "{{ command }}"}, "variables": {"properties": {"command": {"type": "string"}}}}"#

    @Test func aClientThatNeverReadsCannotTakeTheServersMemoryNorItsAnswers() async throws {
        let home = try TemporaryDirectory()
        let server = try await DroverServer.start(
            home: home.url,
            arguments: ["--control-port", "0", "--dispatch-port", "0", "--limits-port", "0", "--heartbeat-interval", "0.5"])
        defer { server.terminate() }
        let endpoint = server.endpoint

        // 100 pools of some 1.9 kB each, created over one pipelined connection.
        let created = try await onOwnThread {
            Result { () throws -> Int in
                let peer = try RawPeer(endpoint: endpoint)
                for index in 0..<Self.pools {
                    try peer.send([
                        try Drover_V1_Envelope.request(
                            .with {
                                $0.requestID = UInt64(index + 1)
                                $0.createWorkPool = .with {
                                    $0.name = "pool-\(index)"
                                    $0.type = "process"
                                    $0.description_p = String(repeating: "d", count: 1_700)
                                    // pool-0 keeps the default template: its worker runs a real process.
                                    if index > 0 { $0.baseJobTemplateJson = Self.smallTemplate }
                                }
                            }
                        ).serializedBytes()
                    ])
                }
                var created = 0
                while created < Self.pools, let reply = try peer.awaitReply(seconds: 10), case .workPool? = reply.controlReply.result {
                    created += 1
                }
                return created
            }
        }.get()
        try #require(created == Self.pools)
        let listing = try await server.drover("work-pool", "ls", "-o", "json")
        try #require(listing.status == 0, "\(listing)")
        try await server.succeed("deployment", "create", "long", "--pool", "pool-0", "--command", "sleep 60")
        let worker = try await DroverWorkerProcess.start(on: server, pool: "pool-0", name: "w1", arguments: ["--limit", "1"])
        defer { worker.terminate() }
        let run = try await server.runDeployment("long")
        let group = try #require(try await server.awaitFlowRun(run, toBe: "RUNNING").startedPID)
        defer { ProcessGroup.kill(group) }

        // The flood, on a thread of its own. It never reads, and stays connected until told.
        let request: [UInt8] = try Drover_V1_Envelope.request(
            .with {
                $0.requestID = 1; $0.listWorkPools = .init()
            }
        )
        .serializedBytes()
        let done = Latch()
        defer { done.open() }
        let flood = Task {
            await onOwnThread {
                Result { () throws -> Int in
                    let context = try Context(ioThreads: 1)
                    let flooder = try Socket(context: context, type: .dealer)
                    try flooder.set(.sendTimeout, 60_000)
                    // Its own libzmq takes in as little as it can: what it does not take
                    // stays queued at the server, which is what is measured.
                    try flooder.set(.receiveHighWaterMark, 1)
                    try flooder.connect(endpoint)
                    var sent = 0
                    for _ in 0..<Self.requests where try flooder.send(ZeroMQ.Message([request])) { sent += 1 }
                    _ = done.wait(seconds: 240)
                    return sent
                }
            }
        }

        // Meanwhile a well-behaved client is answered, and the server's memory stays bounded:
        // until the flooder's queue is full and replies to it are dropped, and a while after.
        var peakMiB = 0
        var answers: [(result: DroverResult, seconds: Double)] = []
        answers.append((try await server.drover("work-pool", "ls"), 0))
        // A worker that hangs now is lost after its 3 heartbeats (1.5 s), however busy the loop.
        worker.send(SIGSTOP)
        let stopped = Date()
        _ = try await server.awaitFlowRun(run, toBe: "CRASHED", seconds: 60)
        let lostAfter = Date().timeIntervalSince(stopped)
        worker.send(SIGKILL)
        worker.send(SIGCONT)
        var afterFull = 0
        let guardDeadline = Date(timeIntervalSinceNow: 200)
        while afterFull < 10 {
            peakMiB = max(peakMiB, try residentMiB(of: server.pid))
            let start = Date()
            let result = try await server.drover("work-pool", "ls")
            answers.append((result, Date().timeIntervalSince(start)))
            if server.stderr.contains("dropped a control reply") { afterFull += 1 }
            try #require(Date() < guardDeadline, "no reply to the flooder was dropped: \(server.stderr)")
        }
        peakMiB = max(peakMiB, try residentMiB(of: server.pid))
        done.open()
        let sent = try await flood.value.get()

        #expect(sent == Self.requests)
        let slowest = answers.map(\.seconds).max() ?? 0
        #expect(
            answers.allSatisfy { $0.result.status == 0 && $0.result.stdout.contains("pool-99") },
            "slowest \(slowest) s: \(answers.filter { $0.result.status != 0 }.map(\.result))")
        #expect(peakMiB < Self.rssBoundMiB, "the server's resident memory reached \(peakMiB) MiB")
        #expect(lostAfter < 10, "the hung worker was lost \(lostAfter) s after it stopped (heartbeats: 1.5 s)")
        // What could not be queued was dropped, counted, and said once in a while, not once per reply.
        let warnings = server.stderr.components(separatedBy: "dropped a control reply").count - 1
        #expect(warnings >= 1 && warnings <= 30, "\(warnings) warnings")
        #expect(server.stderr.contains("replies.dropped="), "\(server.stderr)")
        #expect(await server.stop() == .exit(0))
    }
}

/// The resident set size of process `pid` in MiB, from `/proc/PID/status` (VmRSS).
func residentMiB(of pid: Int32) throws -> Int {
    let status = try String(contentsOfFile: "/proc/\(pid)/status", encoding: .utf8)
    guard let line = status.split(separator: "\n").first(where: { $0.hasPrefix("VmRSS:") }),
        let kilobytes = line.split(separator: " ").dropFirst().first.flatMap({ Int($0) })
    else { throw CocoaError(.fileReadCorruptFile) }
    return kilobytes / 1024
}
#endif
