#if canImport(ZeroMQ) && canImport(DroverProto)
import DroverProto
import DroverTestSupport
import Foundation
import Testing
import ZeroMQ

#if canImport(Glibc)
import Glibc
#endif

/// 24,000 Hellos from peers that pose as workers of a healthy worker's pool, each under a
/// new name, claiming the healthy worker's run, while that worker runs it and a control
/// client sends 5,000 requests it never reads: the run stays its own and completes, the
/// healthy worker goes on taking runs, clients are answered, and what the flood leaves
/// behind (sessions, departed workers, log lines, memory) is bounded.
@Suite(.timeLimit(.minutes(4)))
struct HostileHelloFloodTests {
    static let peers = 24
    static let hellosPerPeer = 1_000
    static let unreadRequests = 5_000
    /// An idle server takes some 45 MiB.
    static let rssBoundMiB = 300

    @Test func aHelloFloodNeitherStealsARunNorStarvesTheFleet() async throws {
        let home = try TemporaryDirectory()
        let gate = home.file("gate")
        let server = try await DroverServer.start(home: home.url, arguments: ["--heartbeat-interval", "0.5"])
        defer { server.terminate() }
        try await server.succeed("work-pool", "create", "pool")
        try await server.succeed(
            "deployment", "create", "gated", "--pool", "pool", "--command",
            "while [ ! -e '\(gate.path)' ]; do sleep 0.05; done; echo done")
        let healthy = try await DroverWorkerProcess.start(on: server, pool: "pool", name: "healthy", arguments: ["--limit", "1"])
        defer { healthy.terminate() }
        let run = try await server.runDeployment("gated")
        _ = try await server.awaitFlowRun(run, toBe: "RUNNING")

        let endpoint = server.dispatchEndpoint
        let done = Latch()
        defer { done.open() }
        let flooded = Latch()
        // A control client that never reads, all along.
        let controlEndpoint = server.endpoint
        let unread = Task {
            await onOwnThread {
                Result { () throws -> Int in
                    let context = try Context(ioThreads: 1)
                    let flooder = try Socket(context: context, type: .dealer)
                    try flooder.set(.sendTimeout, 30_000)
                    try flooder.set(.receiveHighWaterMark, 1)
                    try flooder.connect(controlEndpoint)
                    let request: [UInt8] = try Drover_V1_Envelope.request(
                        .with {
                            $0.requestID = 1; $0.listWorkPools = .init()
                        }
                    )
                    .serializedBytes()
                    var sent = 0
                    for _ in 0..<Self.unreadRequests where try flooder.send(ZeroMQ.Message([request])) { sent += 1 }
                    _ = done.wait(seconds: 120)
                    return sent
                }
            }
        }
        let flood = Task {
            await onOwnThread {
                Result { () throws -> (sent: Int, welcomed: Int, refusedClaims: Int) in
                    let context = try Context(ioThreads: 1)
                    var sockets: [Socket] = []
                    for peer in 0..<Self.peers {
                        let socket = try Socket(context: context, type: .dealer)
                        try socket.set(.routingID, Array("flood-\(peer)".utf8))
                        try socket.set(.sendTimeout, 30_000)
                        try socket.connect(endpoint)
                        sockets.append(socket)
                    }
                    var sent = 0
                    var welcomed = 0
                    var refusedClaims = 0
                    var answeredLast = Set<Int>()
                    func readAnswers() {
                        for (peer, socket) in sockets.enumerated() {
                            while let answer = try? socket.receive(wait: false) {
                                guard answer.frames.count == 1,
                                    let envelope = try? Drover_V1_Envelope(serializedBytes: answer.frames[0]),
                                    case .welcome(let welcome)? = envelope.coordinatorMessage.kind
                                else { continue }
                                welcomed += 1
                                if welcome.staleRunIds == [run.lowercased()] { refusedClaims += 1 }
                                if welcome.helloID == UInt64(Self.hellosPerPeer) { answeredLast.insert(peer) }
                            }
                        }
                    }
                    for round in 0..<Self.hellosPerPeer {
                        for (peer, socket) in sockets.enumerated() {
                            let hello = try Self.hello(peer: peer, round: round, claiming: run)
                            if try socket.send(ZeroMQ.Message([hello])) { sent += 1 }
                        }
                        readAnswers()
                    }
                    // Until every peer's last Hello is answered (a failure guard of 60 s).
                    let deadline = Date(timeIntervalSinceNow: 60)
                    while answeredLast.count < Self.peers, Date() < deadline {
                        readAnswers()
                        usleep(1_000)
                    }
                    // Then a peer that floods and hangs up at once, with its Hellos still queued
                    // at the server: they are dropped, not welcomed into sessions lost at once.
                    do {
                        let burst = try Socket(context: context, type: .dealer)
                        try burst.set(.routingID, Array("flood-burst".utf8))
                        try burst.connect(endpoint)
                        for round in 0..<Self.hellosPerPeer {
                            _ = try burst.send(ZeroMQ.Message([try Self.hello(peer: Self.peers, round: round, claiming: run)]))
                        }
                        var poller = Poller()
                        let index = poller.add(burst)
                        _ = try poller.poll(timeout: .seconds(10))[index]
                    }
                    flooded.open()
                    _ = done.wait(seconds: 120)
                    return (sent, welcomed, refusedClaims)
                }
            }
        }

        // Meanwhile the healthy worker keeps its run, and clients are answered, all through the
        // flood and for a while after it.
        var answers: [(status: Int32, seconds: Double)] = []
        var peakMiB = 0
        let guardDeadline = Date(timeIntervalSinceNow: 120)
        var afterFlood = 0
        while afterFlood < 5 {
            if flooded.isOpen { afterFlood += 1 }
            peakMiB = max(peakMiB, try residentMiB(of: server.pid))
            let start = Date()
            let listing = try await server.drover("work-pool", "ls")
            answers.append((listing.status, Date().timeIntervalSince(start)))
            try #require(Date() < guardDeadline, "the listings did not finish: \(answers)")
        }
        done.open()
        let (sent, welcomed, refusedClaims) = try await flood.value.get()
        #expect(try await unread.value.get() == Self.unreadRequests)
        peakMiB = max(peakMiB, try residentMiB(of: server.pid))

        // Each Hello is answered (a flood is served, not a reason to stop listening), and
        // none of them gets the healthy worker's run: each Welcome names it stale.
        #expect(sent == Self.peers * Self.hellosPerPeer)
        #expect(welcomed == sent)
        #expect(refusedClaims == welcomed)
        #expect(answers.allSatisfy { $0.status == 0 }, "\(answers)")
        #expect(answers.count >= 5)
        #expect(peakMiB < Self.rssBoundMiB, "the server's resident memory reached \(peakMiB) MiB")

        // The healthy worker's run is its own still: its end is the healthy worker's report.
        #expect(FileManager.default.createFile(atPath: gate.path, contents: nil))
        let completed = try await server.awaitFlowRun(run, toBe: "COMPLETED")
        #expect(completed.attempt == 1 && completed.workerName == "healthy", "\(completed)")
        let next = try await server.runDeployment("gated")
        let second = try await server.awaitFlowRun(next, toBe: "COMPLETED")
        #expect(second.workerName == "healthy", "\(second)")

        // What the flood left is bounded: the workers listed, and the lines logged.
        let workers = try await server.workers()
        #expect(workers.count <= Self.peers + 2, "\(workers.count) workers listed")
        #expect(element(named: "healthy", in: workers)?["status"] as? String == "ONLINE")
        let connectedLines = server.stderr.components(separatedBy: "worker connected").count - 1
        #expect(connectedLines < 2_000, "\(connectedLines) 'worker connected' lines for \(sent) Hellos")
        #expect(await server.stop() == .exit(0))
    }

    /// Hello number `round` of flooding peer `peer`: a new name and Hello id each time, in
    /// the healthy worker's pool, claiming its run.
    static func hello(peer: Int, round: Int, claiming run: String) throws -> [UInt8] {
        try Drover_V1_Envelope.with {
            $0.protocolVersion = droverProtocolVersion
            $0.workerMessage = .with {
                $0.hello = .with {
                    $0.workerID = "flood-\(peer)"
                    $0.workPoolName = "pool"
                    $0.name = "flood-\(peer)-\(round)"
                    $0.limit = 5
                    $0.helloID = UInt64(round + 1)
                    $0.type = "process"
                    $0.activeRuns = [
                        .with {
                            $0.runID = run; $0.attempt = 1; $0.started = true
                        }
                    ]
                }
            }
        }.serializedBytes()
    }
}
#endif
