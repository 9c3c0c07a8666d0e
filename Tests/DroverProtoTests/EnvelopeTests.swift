import DroverProto
import Testing

@Suite struct EnvelopeTests {
    private var createPoolRequest: Drover_V1_ControlRequest {
        .with {
            $0.requestID = 42
            $0.createWorkPool = .with {
                $0.name = "local"
                $0.type = "process"
                $0.concurrencyLimit = 5
            }
        }
    }

    @Test func protocolVersionIsOne() {
        #expect(droverProtocolVersion == 1)
        #expect(droverProtocolVersion == UInt32(Drover_V1_ProtocolVersion.current.rawValue))
    }

    @Test func requestEnvelopeCarriesVersionAndBody() {
        let envelope = Drover_V1_Envelope.request(createPoolRequest)
        #expect(envelope.protocolVersion == droverProtocolVersion)
        #expect(envelope.body == .controlRequest(createPoolRequest))
        #expect(envelope.controlRequest.createWorkPool.name == "local")
    }

    @Test func replyEnvelopeCarriesVersionAndBody() {
        let reply = Drover_V1_ControlReply.with {
            $0.requestID = 42
            $0.deleted = .with {
                $0.id = "abc"; $0.name = "local"
            }
        }
        let envelope = Drover_V1_Envelope.reply(reply)
        #expect(envelope.protocolVersion == droverProtocolVersion)
        #expect(envelope.body == .controlReply(reply))
    }

    @Test func binaryRoundTrip() throws {
        let envelopes = [
            Drover_V1_Envelope.request(createPoolRequest),
            .reply(.failure(requestID: 9, code: .alreadyExists, message: "Work pool named 'local' already exists.")),
            .reply(
                .with {
                    $0.requestID = 3
                    $0.workQueues = .with {
                        $0.workQueues = [
                            .with {
                                $0.name = "default"; $0.priority = 1; $0.workPoolName = "local"
                            },
                            .with {
                                $0.name = "held"; $0.priority = 2; $0.concurrencyLimit = 0; $0.isPaused = true
                            },
                        ]
                    }
                }),
        ]
        for envelope in envelopes {
            let bytes: [UInt8] = try envelope.serializedBytes()
            #expect(!bytes.isEmpty)
            let decoded = try Drover_V1_Envelope(serializedBytes: bytes)
            #expect(decoded == envelope)
        }
    }

    @Test func explicitZeroSurvivesTheBinaryRoundTrip() throws {
        let request = Drover_V1_CreateWorkQueue.with {
            $0.name = "q"; $0.concurrencyLimit = 0
        }
        let decoded = try Drover_V1_CreateWorkQueue(serializedBytes: try request.serializedBytes() as [UInt8])
        #expect(decoded.hasConcurrencyLimit)
        #expect(decoded.concurrencyLimit == 0)
        #expect(!decoded.hasPriority)
    }

    // MARK: JSON

    @Test func droverJSONUsesProtoFieldNames() throws {
        let pool = try createPoolRequest.createWorkPool.droverJSON()
        #expect(pool == #"{"name":"local","type":"process","concurrency_limit":5}"#)

        let queue = Drover_V1_CreateWorkQueue.with {
            $0.name = "q"; $0.workPoolName = "local"; $0.priority = 2
        }
        let text = try queue.droverJSON()
        #expect(text.contains(#""work_pool_name":"local""#))
        #expect(!text.contains("workPoolName"))
    }

    @Test func droverJSONOmitsUnsetOptionalFields() throws {
        let unset = try Drover_V1_CreateWorkPool.with { $0.name = "p" }.droverJSON()
        #expect(unset == #"{"name":"p"}"#)
        let zero = try Drover_V1_CreateWorkPool.with {
            $0.name = "p"; $0.concurrencyLimit = 0
        }.droverJSON()
        #expect(zero == #"{"name":"p","concurrency_limit":0}"#)
        #expect(try Drover_V1_ListWorkPools().droverJSON() == "{}")
    }

    @Test func droverJSONSortsMapKeysAndIsStable() throws {
        let info = Drover_V1_ServerInfo.with {
            $0.version = "0.1.0"
            $0.endpoints = ["workers": "tcp://127.0.0.1:4202", "control": "tcp://127.0.0.1:4201", "events": "x"]
        }
        let text = try info.droverJSON()
        #expect(
            text == #"{"version":"0.1.0","endpoints":{"control":"tcp://127.0.0.1:4201","events":"x","workers":"tcp://127.0.0.1:4202"}}"#)
        #expect(try info.droverJSON() == info.droverJSON())
    }

    @Test func droverJSONUsesEnumNames() throws {
        let error = Drover_V1_Error.with {
            $0.code = .notFound; $0.message = "Work pool 'x' does not exist."
        }
        #expect(try error.droverJSON() == #"{"code":"NOT_FOUND","message":"Work pool 'x' does not exist."}"#)
    }

    // MARK: Failures

    @Test func failureReplyCarriesRequestIDCodeAndMessage() {
        let reply = Drover_V1_ControlReply.failure(
            requestID: 17, code: .failedPrecondition, message: "Can't delete a pool's default queue.")
        #expect(reply.requestID == 17)
        guard case .error(let error)? = reply.result else {
            Issue.record("expected an error result, got \(String(describing: reply.result))")
            return
        }
        #expect(error.code == .failedPrecondition)
        #expect(error.message == "Can't delete a pool's default queue.")
    }
}
