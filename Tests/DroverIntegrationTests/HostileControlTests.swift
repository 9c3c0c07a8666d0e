#if canImport(ZeroMQ) && canImport(DroverProto)
import DroverProto
import DroverTestSupport
import Foundation
import SwiftProtobuf
import Testing
import ZeroMQ

/// Requests a hostile peer wrote from `proto/` alone, sent as raw frames to the real
/// server: timestamps far outside years 1–9999 (seconds of ±1e13 used to stop the server;
/// years 0 and 10000 were stored and then broke `flow-run ls -o json` for every run), an
/// AcquireMode the limit service does not know (it was granted), and a 600 kB holder.
/// Each is answered INVALID_ARGUMENT, changes nothing, and a bystander client is answered
/// within a second after each.
@Suite(.timeLimit(.minutes(2)))
struct HostileControlTests {
    /// Seconds since 1970 outside the valid range, as a fuzzer sends them.
    static let farFuture: Int64 = 10_000_000_000_000
    static let yearZero: Int64 = -62_150_000_000  // 0000-06-14
    static let yearTenThousand: Int64 = 253_410_000_000  // 10000-03-29

    /// What one hostile request led to: the reply to it, and the bystander's reply after it.
    struct Exchange: Sendable {
        let what: String
        let reply: Drover_V1_Envelope?
        let bystander: Drover_V1_Envelope?
    }

    /// Sends each of `requests` from a hostile peer on `endpoint` and, after each, a
    /// GetServerInfo from a bystander already connected to `control`.
    private static func exchange(
        _ requests: [(what: String, envelope: Drover_V1_Envelope)], endpoint: String, control: String
    ) async throws -> [Exchange] {
        let frames = try requests.map { (what: $0.what, bytes: try $0.envelope.serializedBytes() as [UInt8]) }
        return try await onOwnThread {
            Result { () throws -> [Exchange] in
                let bystander = try RawPeer(endpoint: control)
                try bystander.send([serverInfoRequest(id: 1)])
                guard try bystander.awaitReply(seconds: 5)?.isServerInfo == true else {
                    Issue.record("the bystander was not served before the hostile requests")
                    return []
                }
                let hostile = try RawPeer(endpoint: endpoint)
                var exchanges: [Exchange] = []
                for (index, frame) in frames.enumerated() {
                    try hostile.send([frame.bytes])
                    let reply = try hostile.awaitReply(seconds: 20)  // a failure guard
                    try bystander.send([serverInfoRequest(id: 2 + UInt64(index))])
                    // The server must still answer others promptly: a second is the promise.
                    let served = try bystander.awaitReply(seconds: 1)
                    exchanges.append(Exchange(what: frame.what, reply: reply, bystander: served))
                }
                return exchanges
            }
        }.get()
    }

    private static func control(_ id: UInt64, _ operation: Drover_V1_ControlRequest.OneOf_Operation) -> Drover_V1_Envelope {
        .request(
            .with {
                $0.requestID = id; $0.operation = operation
            })
    }

    private static func limits(_ id: UInt64, _ operation: Drover_V1_LimitRequest.OneOf_Operation) -> Drover_V1_Envelope {
        .with {
            $0.protocolVersion = droverProtocolVersion
            $0.limitRequest = .with {
                $0.requestID = id; $0.operation = operation
            }
        }
    }

    private static func stamp(_ seconds: Int64, nanos: Int32 = 0) -> Google_Protobuf_Timestamp {
        Google_Protobuf_Timestamp(seconds: seconds, nanos: nanos)
    }

    private static func interval(anchor seconds: Int64, name: String = "hostile") -> Drover_V1_ControlRequest.OneOf_Operation {
        .createDeployment(
            .with {
                $0.name = name
                $0.workPoolName = "pool"
                $0.command = "true"
                $0.schedules = [
                    .with {
                        $0.interval = .with {
                            $0.seconds = 3600; $0.anchorDate = stamp(seconds)
                        }
                    }
                ]
            })
    }

    private static func run(expectedStart: Google_Protobuf_Timestamp) -> Drover_V1_ControlRequest.OneOf_Operation {
        .runDeployment(
            .with {
                $0.name = "deploy"; $0.expectedStartTime = expectedStart
            })
    }

    @Test func timestampsOutsideTheValidRangeAreRefusedAndTheServerServesOn() async throws {
        let home = try TemporaryDirectory()
        let server = try await DroverServer.start(home: home.url)
        defer { server.terminate() }
        try await server.succeed("work-pool", "create", "pool")
        try await server.succeed("deployment", "create", "deploy", "--pool", "pool", "--command", "true")
        let goodRun = try await server.runDeployment("deploy")
        let deploymentsBefore = try await server.output("deployment", "ls", "-o", "json")

        let requests: [(what: String, field: String, operation: Drover_V1_ControlRequest.OneOf_Operation)] = [
            ("expected_start_time 1e13", "expected_start_time", Self.run(expectedStart: Self.stamp(Self.farFuture))),
            ("expected_start_time -1e13", "expected_start_time", Self.run(expectedStart: Self.stamp(-Self.farFuture))),
            ("expected_start_time in year 0", "expected_start_time", Self.run(expectedStart: Self.stamp(Self.yearZero))),
            ("expected_start_time in year 10000", "expected_start_time", Self.run(expectedStart: Self.stamp(Self.yearTenThousand))),
            ("expected_start_time with nanos -1", "expected_start_time", Self.run(expectedStart: Self.stamp(0, nanos: -1))),
            ("anchor_date 1e13", "anchor_date", Self.interval(anchor: Self.farFuture)),
            ("anchor_date -1e13", "anchor_date", Self.interval(anchor: -Self.farFuture)),
            ("anchor_date in year 0", "anchor_date", Self.interval(anchor: Self.yearZero)),
            ("anchor_date in year 10000", "anchor_date", Self.interval(anchor: Self.yearTenThousand)),
            (
                "a new schedule's anchor_date 1e13", "anchor_date",
                .createDeploymentSchedule(
                    .with {
                        $0.deploymentName = "deploy"
                        $0.schedule = .with {
                            $0.interval = .with {
                                $0.seconds = 60; $0.anchorDate = Self.stamp(Self.farFuture)
                            }
                        }
                    })
            ),
            (
                "an rrule's default_start 1e13", "default_start",
                .createDeployment(
                    .with {
                        $0.name = "hostile"
                        $0.workPoolName = "pool"
                        $0.command = "true"
                        $0.schedules = [
                            .with {
                                $0.rrule = .with {
                                    $0.rrule = "FREQ=DAILY"; $0.defaultStart = Self.stamp(Self.farFuture)
                                }
                            }
                        ]
                    })
            ),
        ]
        let exchanges = try await Self.exchange(
            requests.enumerated().map { index, request in
                (what: request.what, envelope: Self.control(100 + UInt64(index), request.operation))
            },
            endpoint: server.endpoint, control: server.endpoint)

        #expect(exchanges.count == requests.count)
        for (exchange, request) in zip(exchanges, requests) {
            let reply = try #require(exchange.reply, "no answer to \(exchange.what)")
            #expect(reply.controlReply.error.code == .invalidArgument, "\(exchange.what): \(reply)")
            let message = reply.controlReply.error.message
            #expect(message.hasPrefix("Invalid \(request.field): "), "\(exchange.what): \(message)")
            #expect(message.contains("0001-01-01T00:00:00Z to 9999-12-31T23:59:59.999999999Z"), "\(exchange.what): \(message)")
            #expect(exchange.bystander?.isServerInfo == true, "the bystander waited over a second after \(exchange.what)")
        }

        // Nothing was made, and every list still prints.
        let runs = try JSON.array(try await server.output("flow-run", "ls", "-o", "json"))
        #expect(runs.map { $0["id"] as? String } == [goodRun], "\(runs)")
        #expect(try await server.output("deployment", "ls", "-o", "json") == deploymentsBefore)
        #expect(await server.stop() == .exit(0), "\(server.stderr)")
    }

    @Test func limitRequestsWithAnUnknownModeOrAHugeHolderAreRefusedAndTheServiceServesOn() async throws {
        let home = try TemporaryDirectory()
        let server = try await DroverServer.start(home: home.url)
        defer { server.terminate() }
        try await server.succeed("global-concurrency-limit", "create", "db", "--limit", "1")
        let hugeHolder = String(repeating: "h", count: 600_000)

        let requests: [(what: String, expected: String, operation: Drover_V1_LimitRequest.OneOf_Operation)] = [
            (
                "AcquireMode 99 that may wait", "Unknown Acquire mode 99",
                .acquire(
                    .with {
                        $0.limits = ["db"]; $0.holder = "mode-99"; $0.mode = .UNRECOGNIZED(99); $0.wait = true
                    })
            ),
            (
                "AcquireMode 99 that may not wait", "Unknown Acquire mode 99",
                .acquire(
                    .with {
                        $0.limits = ["db"]; $0.mode = .UNRECOGNIZED(99); $0.wait = false
                    })
            ),
            (
                "a 600 kB holder", "A holder is at most 512 bytes; got 600000.",
                .acquire(
                    .with {
                        $0.limits = ["db"]; $0.holder = hugeHolder; $0.wait = true
                    })
            ),
            (
                "a Release by a 600 kB holder", "A holder is at most 512 bytes; got 600000.",
                .release(.with { $0.holders = [hugeHolder] })
            ),
            (
                "a 600 kB limit name", "Invalid concurrency limit name '",
                .getLimit(.with { $0.name = String(repeating: "n", count: 600_000) })
            ),
        ]
        let exchanges = try await Self.exchange(
            requests.enumerated().map { index, request in
                (what: request.what, envelope: Self.limits(100 + UInt64(index), request.operation))
            },
            endpoint: server.limitsEndpoint, control: server.endpoint)

        #expect(exchanges.count == requests.count)
        for (exchange, request) in zip(exchanges, requests) {
            let reply = try #require(exchange.reply, "no answer to \(exchange.what)")
            guard case .error(let error)? = reply.limitReply.result else {
                Issue.record("\(exchange.what) was not refused: \(reply)")
                continue
            }
            #expect(error.code == .invalidArgument, "\(exchange.what): \(error)")
            #expect(error.message.hasPrefix(request.expected), "\(exchange.what): \(error.message.prefix(300))")
            #expect(error.message.utf8.count < 1_000, "\(exchange.what): the reply does not echo the request")
            #expect(exchange.bystander?.isServerInfo == true, "the bystander waited over a second after \(exchange.what)")
        }

        // Nothing holds or waits for the limit's one slot: a plain try takes it at once.
        let limit = try JSON.object(try await server.output("global-concurrency-limit", "inspect", "db", "-o", "json"))
        #expect(limit["active_slots"] == nil && limit["leases"] == nil && limit["waiting"] == nil, "\(limit)")
        let plain = try await Self.exchange(
            [
                (
                    "a plain Acquire",
                    Self.limits(
                        200,
                        .acquire(
                            .with {
                                $0.limits = ["db"]; $0.holder = "plain"; $0.wait = false
                            }))
                )
            ],
            endpoint: server.limitsEndpoint, control: server.endpoint)
        #expect(plain.first?.reply?.limitReply.granted.lease.holder == "plain", "\(plain.first?.reply as Any)")
        _ = try JSON.array(try await server.output("flow-run", "ls", "-o", "json"))
        #expect(await server.stop() == .exit(0), "\(server.stderr)")
    }
}
#endif
