#if canImport(ZeroMQ) && canImport(DroverProto)
import DroverProto
import DroverTestSupport
import Foundation
import Testing
import ZeroMQ

/// The control endpoint spoken to with raw ZeroMQ frames, as a broken or foreign peer
/// would: oversized, malformed and multi-frame messages, and another protocol version.
/// Each gets a typed error reply (or, when too big, a dropped connection), nothing
/// changes, and the server keeps serving everyone else. And the CLI's side: a peer that
/// never answers or answers in another version.
@Suite(.timeLimit(.minutes(2)))
struct RawProtocolTests {
    @Test func anOversizedFrameDropsItsConnectionAndTheServerServesOn() async throws {
        let home = try TemporaryDirectory()
        let server = try await DroverServer.start(home: home.url)
        defer { server.terminate() }
        let before = try await server.snapshot()

        // A well-formed request, but 2 MiB: were it read, it would create pool 'huge'.
        let huge = Drover_V1_Envelope.request(
            .with {
                $0.requestID = 7
                $0.createWorkPool = .with {
                    $0.name = "huge"
                    $0.description_p = String(repeating: "x", count: 2 << 20)
                }
            })
        let hugeBytes: [UInt8] = try huge.serializedBytes()
        #expect(Int64(hugeBytes.count) > droverMaxFrameBytes)

        let endpoint = server.endpoint
        let outcome = try await onOwnThread {
            Result { () throws -> (bystander: [Drover_V1_Envelope], sender: [Drover_V1_Envelope]) in
                // A client already connected before the big frame arrives...
                let bystander = try RawPeer(endpoint: endpoint)
                try bystander.send([serverInfoRequest(id: 1)])
                var bystanderReplies = [try bystander.awaitReply(seconds: 5)].compactMap { $0 }

                let sender = try RawPeer(endpoint: endpoint)
                try sender.send([hugeBytes])
                // The sender's next request answers once it reconnected (libzmq does so by
                // itself); it may be lost with the dropped connection, so it is sent again.
                let senderReplies = try sender.askUntilServerInfo(attempts: 5, secondsEach: 2)

                // ...is still served after it.
                try bystander.send([serverInfoRequest(id: 2)])
                bystanderReplies += [try bystander.awaitReply(seconds: 5)].compactMap { $0 }
                return (bystanderReplies, senderReplies)
            }
        }.get()

        #expect(outcome.bystander.count == 2 && outcome.bystander.allSatisfy(\.isServerInfo), "\(outcome.bystander)")
        #expect(outcome.sender.last?.isServerInfo == true, "the sender was served again: \(outcome.sender)")
        #expect(
            !outcome.sender.contains { $0.controlReply.requestID == 7 },
            "the oversized frame was never handled: \(outcome.sender)")
        let list = try await server.drover("work-pool", "ls")
        #expect(list.status == 0 && list.stdout == "No work pools found.\n", "\(list)")
        #expect(try await server.snapshot() == before)
        #expect(await server.stop() == .exit(0))
    }

    @Test func garbageGetsAMalformedMessageReply() async throws {
        let home = try TemporaryDirectory()
        let server = try await DroverServer.start(home: home.url)
        defer { server.terminate() }
        #expect(try await server.drover("work-pool", "create", "existing").status == 0)
        let before = try await server.snapshot()

        let frames: [[UInt8]] = [
            Array("GET / HTTP/1.1\r\nHost: drover\r\n\r\n".utf8),
            [UInt8](repeating: 0xFF, count: 16),
        ]
        let endpoint = server.endpoint
        let replies = try await onOwnThread {
            Result { () throws -> [Drover_V1_Envelope?] in
                let peer = try RawPeer(endpoint: endpoint)
                return try frames.map { frame in
                    try peer.send([frame])
                    return try peer.awaitReply(seconds: 5)
                }
            }
        }.get()

        #expect(replies.count == frames.count)
        for reply in replies {
            let reply = try #require(reply, "no reply within 5 s")
            #expect(reply.protocolVersion == droverProtocolVersion)
            #expect(reply.controlReply.error.code == .malformedMessage, "\(reply)")
            #expect(
                reply.controlReply.error.message == "Malformed message: the frame is not a Drover protobuf envelope.",
                "\(reply)")
        }
        #expect(try await server.snapshot() == before)
        #expect(try await server.drover("work-pool", "inspect", "existing").status == 0, "the server serves on")
        #expect(await server.stop() == .exit(0))
    }

    @Test func anotherProtocolVersionIsRefusedAndActedOnNotAtAll() async throws {
        let home = try TemporaryDirectory()
        let server = try await DroverServer.start(home: home.url)
        defer { server.terminate() }
        let before = try await server.snapshot()

        var create = Drover_V1_Envelope.request(
            .with {
                $0.requestID = 42
                $0.createWorkPool = .with {
                    $0.name = "from-the-future"; $0.type = "process"
                }
            })
        create.protocolVersion = 99
        let bytes: [UInt8] = try create.serializedBytes()
        let endpoint = server.endpoint
        let reply = try await onOwnThread {
            Result { () throws -> Drover_V1_Envelope? in
                let peer = try RawPeer(endpoint: endpoint)
                try peer.send([bytes])
                return try peer.awaitReply(seconds: 5)
            }
        }.get()

        let envelope = try #require(reply, "no reply within 5 s")
        #expect(envelope.protocolVersion == droverProtocolVersion)
        #expect(envelope.controlReply.requestID == 42)
        #expect(envelope.controlReply.error.code == .unsupportedVersion, "\(envelope)")
        #expect(
            envelope.controlReply.error.message
                == "This server speaks Drover protocol version \(droverProtocolVersion); the client sent version 99. "
                + "Use a drover client of the same release.",
            "\(envelope)")
        let inspect = try await server.drover("work-pool", "inspect", "from-the-future")
        #expect(inspect.status == 1 && inspect.stderr == "Work pool 'from-the-future' does not exist.\n", "\(inspect)")
        #expect(try await server.snapshot() == before)
        #expect(await server.stop() == .exit(0))
    }

    @Test func multiFrameAndMisdirectedMessagesAreMalformed() async throws {
        let home = try TemporaryDirectory()
        let server = try await DroverServer.start(home: home.url)
        defer { server.terminate() }
        let before = try await server.snapshot()

        let create: [UInt8] = try Drover_V1_Envelope.request(
            .with {
                $0.requestID = 5
                $0.createWorkPool = .with {
                    $0.name = "split"; $0.type = "process"
                }
            }
        ).serializedBytes()
        let reply: [UInt8] = try Drover_V1_Envelope.reply(
            .with {
                $0.requestID = 6; $0.deleted = .with { $0.name = "x" }
            }
        )
        .serializedBytes()
        let noOperation: [UInt8] = try Drover_V1_Envelope.request(.with { $0.requestID = 8 }).serializedBytes()
        let endpoint = server.endpoint
        let replies = try await onOwnThread {
            Result { () throws -> [Drover_V1_Envelope?] in
                let peer = try RawPeer(endpoint: endpoint)
                var replies: [Drover_V1_Envelope?] = []
                for message in [[create, create], [create, [], create], [reply], [noOperation]] {
                    try peer.send(message)
                    replies.append(try peer.awaitReply(seconds: 5))
                }
                return replies
            }
        }.get()

        let expected: [(Drover_V1_Error.Code, String)] = [
            (.malformedMessage, "Malformed message: expected one frame holding a Drover envelope, got 2."),
            (.malformedMessage, "Malformed message: expected one frame holding a Drover envelope, got 3."),
            (.malformedMessage, "Malformed message: expected a control request on the control endpoint."),
            (.invalidArgument, "does not know the requested operation"),
        ]
        #expect(replies.count == expected.count)
        for (reply, (code, message)) in zip(replies, expected) {
            let reply = try #require(reply, "no reply within 5 s")
            #expect(reply.controlReply.error.code == code, "\(reply)")
            #expect(reply.controlReply.error.message.contains(message), "\(reply)")
        }
        #expect(replies.last??.controlReply.requestID == 8, "an error about a request names the request")
        #expect(try await server.snapshot() == before, "neither frame of a two-frame create was acted on")
        #expect(await server.stop() == .exit(0))
    }

    @Test func aPeerThatNeverAnswersMakesTheCLIGiveUp() async throws {
        let home = try TemporaryDirectory()
        let silent = try await FakeControlServer.start { _ in nil }
        defer { silent.stop() }

        let env = ["DROVER_HOME": home.path, "DROVER_SERVER": silent.endpoint, "DROVER_CLIENT_TIMEOUT": "1"]
        let result = try await drover("work-pool", "ls", env: env)
        #expect(result.status == 1, "\(result)")
        #expect(
            result.stderr == """
                Could not reach a Drover server at \(silent.endpoint): no answer within 1 s.
                Start one with `drover server start`, or point this command at yours with --server or DROVER_SERVER.

                """, "\(result)")
        #expect(await silent.awaitFirstRequest(), "the CLI reached the peer, waited, and gave up")
        #expect(silent.requestsReceived == 1, "one request, no retries")
    }

    @Test func aServerOfAnotherProtocolVersionIsReported() async throws {
        let home = try TemporaryDirectory()
        let future = try await FakeControlServer.start { request in
            var reply = Drover_V1_Envelope.reply(
                .with {
                    $0.requestID = request?.controlRequest.requestID ?? 0
                    $0.workPools = .init()
                })
            reply.protocolVersion = 99
            return try? reply.serializedBytes()
        }
        defer { future.stop() }
        let stranger = try await FakeControlServer.start { _ in Array("HTTP/1.1 400 Bad Request\r\n\r\n".utf8) }
        defer { stranger.stop() }

        let env = ["DROVER_HOME": home.path, "DROVER_CLIENT_TIMEOUT": "10"]
        let newer = try await drover("work-pool", "ls", "--server", future.endpoint, env: env)
        #expect(newer.status == 1, "\(newer)")
        #expect(
            newer.stderr == "The server at \(future.endpoint) speaks Drover protocol version 99; "
                + "this drover speaks version \(droverProtocolVersion). Use a drover of the server's release.\n",
            "\(newer)")

        let foreign = try await drover("work-pool", "ls", "--server", stranger.endpoint, env: env)
        #expect(foreign.status == 1, "\(foreign)")
        #expect(
            foreign.stderr == "The server at \(stranger.endpoint) answered with something that is not a Drover reply. "
                + "Is it a Drover server?\n",
            "\(foreign)")
    }
}
#endif
