#if canImport(ZeroMQ) && canImport(DroverProto)
import DroverProto
import DroverTestSupport
import Foundation
import Testing
import ZeroMQ

#if canImport(Glibc)
import Glibc
#endif

/// A hostile peer on the dispatch endpoint that knows a running worker's routing id (which
/// `worker ls -o json` prints) and forges its reports: without ROUTER_HANDOVER its
/// connection is ignored, the victim keeps its own, and a report counts only from the
/// session the victim was welcomed into anyway.
@Suite(.timeLimit(.minutes(2)))
struct HostileDispatchTests {
    @Test func aPeerWithAVictimsRoutingIDCannotFinishItsRunNorTakeItsConnection() async throws {
        let home = try TemporaryDirectory()
        let gate = home.file("gate")
        let server = try await DroverServer.start(home: home.url)
        defer { server.terminate() }
        try await server.succeed("work-pool", "create", "prey")
        try await server.succeed(
            "deployment", "create", "gated", "--pool", "prey", "--command",
            "while [ ! -e '\(gate.path)' ]; do sleep 0.05; done; echo done")
        let victim = try await DroverWorkerProcess.start(on: server, pool: "prey", name: "victim", arguments: ["--limit", "1"])
        defer { victim.terminate() }
        let id = try await server.runDeployment("gated")
        let running = try await server.awaitFlowRun(id, toBe: "RUNNING")
        let listed = try #require(element(named: "victim", in: try await server.workers(pool: "prey")))
        let victimID = try #require(listed["id"] as? String, "\(listed)")

        let forged: [[UInt8]] = try [UInt64(0), 1, 0x5EED_5EED_5EED_5EED].map { session in
            try Drover_V1_Envelope.with {
                $0.protocolVersion = droverProtocolVersion
                $0.workerMessage = .with {
                    $0.session = session
                    $0.seq = 1
                    $0.runFinished = .with {
                        $0.runID = id
                        $0.attempt = 1
                        $0.outcome = .runCompleted
                        $0.exitCode = 0
                        $0.message = "forged"
                    }
                }
            }.serializedBytes()
        }
        let endpoint = server.dispatchEndpoint
        let answers = try await onOwnThread {
            Result { () throws -> [ZeroMQ.Message] in
                let context = try Context(ioThreads: 1)
                let impostor = try Socket(context: context, type: .dealer)
                try impostor.set(.routingID, Array(victimID.utf8))
                try impostor.connect(endpoint)
                for frame in forged { try impostor.send(ZeroMQ.Message([frame])) }
                // Whatever comes back within a second (a failure guard: nothing should).
                var poller = Poller()
                let index = poller.add(impostor)
                var answers: [ZeroMQ.Message] = []
                while try poller.poll(timeout: .seconds(1))[index].contains(.readable),
                    let answer = try impostor.receive(wait: false)
                {
                    answers.append(answer)
                }
                return answers
            }
        }.get()

        #expect(answers.isEmpty, "the impostor's connection is ignored: nothing of the victim's reaches it")
        let after = try await server.flowRun(id)
        #expect(after.state == "RUNNING", "\(after)")
        #expect(after.history.count == running.history.count, "\(after)")
        let stillListed = try #require(element(named: "victim", in: try await server.workers(pool: "prey")))
        #expect(stillListed["status"] as? String == "ONLINE", "\(stillListed)")

        // The victim's run ends as its own process says, on its own connection.
        #expect(FileManager.default.createFile(atPath: gate.path, contents: nil))
        let completed = try await server.awaitFlowRun(id, toBe: "COMPLETED")
        #expect(completed.attempt == 1 && completed.exitCode == 0, "\(completed)")
        #expect(completed.history.last?.message != "forged", "\(completed)")
        #expect(!victim.stderr.contains("lost the server"), "\(victim.stderr)")
        #expect(!server.stderr.contains("a worker's connection closed"), "\(server.stderr)")
        #expect(!server.stderr.contains("worker lost"), "\(server.stderr)")
        #expect(await victim.stop(signal: SIGINT) == .exit(0), "\(victim.stderr)")
        #expect(await server.stop() == .exit(0))
    }

    /// A peer that set no routing id (ZeroMQ gives it one starting with a zero byte), or one
    /// that is not UTF-8, is told what to set, and nothing it asks for is done.
    @Test(arguments: [nil, [0xFF, 0xFE, 0x41]] as [[UInt8]?])
    func aPeerWithoutAWorkerIDIsToldToSetOne(routingID: [UInt8]?) async throws {
        let home = try TemporaryDirectory()
        let server = try await DroverServer.start(home: home.url)
        defer { server.terminate() }
        let hello: [UInt8] = try Drover_V1_Envelope.with {
            $0.protocolVersion = droverProtocolVersion
            $0.workerMessage = .with {
                $0.hello = .with {
                    $0.workerID = "nameless"
                    $0.workPoolName = "made-by-a-stranger"
                    $0.createPoolIfNotFound = true
                    $0.helloID = 1
                }
            }
        }.serializedBytes()
        let endpoint = server.dispatchEndpoint
        let reply = try await onOwnThread {
            Result { () throws -> Drover_V1_Envelope? in
                let peer = try RawPeer(endpoint: endpoint, routingID: routingID)
                try peer.send([hello])
                return try peer.awaitReply(seconds: 10)
            }
        }.get()

        let refusal = try #require(reply, "no answer within 10 s").coordinatorMessage
        #expect(refusal.reject.error.code == .invalidArgument, "\(refusal)")
        #expect(refusal.reject.error.message.contains("ZMQ_ROUTING_ID"), "\(refusal)")
        #expect(refusal.session == 0 && !refusal.reject.helloAgain)
        let pools = try await server.drover("work-pool", "ls", "-o", "json")
        #expect(pools.status == 0 && !pools.stdout.contains("made-by-a-stranger"), "\(pools)")
        #expect(try await server.workers().isEmpty)
        #expect(await server.stop() == .exit(0))
    }
}
#endif
