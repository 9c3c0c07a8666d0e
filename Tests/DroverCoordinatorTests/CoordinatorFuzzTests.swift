import DroverCore
import DroverLimits
import DroverProto
import DroverTestSupport
import Foundation
import SwiftProtobuf
import Testing

@testable import DroverCoordinator

/// Hostile bytes on every message kind, in process: valid messages of each kind are
/// mutated (bits flipped, cut short, bytes inserted and repeated, fields set to extreme
/// values) and whatever still decodes is handed to the coordinator, as a worker's message
/// or a control request, and to the limit service. A trap anywhere fails the test run; after
/// each seed the coordinator must still serve a real worker's run from start to end.
///
/// Bounded in count (a few thousand messages per seed), seeded, and repeatable: a failing
/// seed replays exactly.
@Suite struct CoordinatorFuzzTests {
    @Test(arguments: 1...6)
    func mutatedMessagesNeverCrashTheCoordinatorOrTheLimitService(seed: UInt64) throws {
        var rng = SeededGenerator(state: seed)
        var h = try CoordinatorHarness()
        h.createPool()
        h.createDeployment()
        try h.hello("w1", limit: 2)
        let run = h.runDeployment()
        _ = try h.takeOutbox()
        let workers = ["w1", "w2", "", "w1\n", String(repeating: "x", count: 300)]
        let corpus = try Self.workerCorpus(run: run.id)
        let controls = try Self.controlCorpus(run: run.id)
        let limitCorpus = try Self.limitCorpus()

        for _ in 0..<3_000 {
            let worker = workers[Int(rng.next() % UInt64(workers.count))]
            let inSession = rng.next() % 2 == 0
            let workerBytes = Self.mutate(corpus[Int(rng.next() % UInt64(corpus.count))], &rng)
            let controlBytes = Self.mutate(controls[Int(rng.next() % UInt64(controls.count))], &rng)
            let limitBytes = Self.mutate(limitCorpus[Int(rng.next() % UInt64(limitCorpus.count))], &rng)
            try Self.feed(&h, worker: worker, inSession: inSession, workerBytes, controlBytes, limitBytes)
        }

        // Still serving: a new worker takes a new run through to the end.
        try h.hello("healthy", pool: "pool", limit: 1)
        let after = h.runDeployment()
        _ = try h.advance(by: 60)
        let held = h.flowRun(after.id)
        if held.workerName == "healthy" {
            try h.started("healthy", after.id, attempt: held.attempt)
            try h.finished("healthy", after.id, attempt: held.attempt, .runCompleted, exitCode: 0)
            #expect(h.flowRun(after.id).stateType == .completed)
        }
        #expect(h.ok(.getServerInfo(.init())).serverInfo.version == "test")
    }

    /// Hands whatever of the three decodes to the coordinator and the limit service. The
    /// refusals they answer with are fine; only a store failure (`.internal`) is not.
    static func feed(
        _ h: inout CoordinatorHarness, worker: String, inSession: Bool, _ workerBytes: [UInt8], _ controlBytes: [UInt8],
        _ limitBytes: [UInt8]
    ) throws {
        if var message = try? Drover_V1_WorkerMessage(serializedBytes: workerBytes) {
            // Half the time in w1's real session, so the message reaches the deep end.
            if inSession { message.session = h.sessions["w1"] ?? 0 }
            let outcome = Result { () throws(DroverError) in try h.coordinator.handle(worker: worker, message) }
            if case .failure(let error) = outcome, error.code == .internal { throw error }
        }
        if let request = try? Drover_V1_ControlRequest(serializedBytes: controlBytes) {
            _ = h.call(request.operation ?? .getServerInfo(.init()))
        }
        if let request = try? Drover_V1_LimitRequest(serializedBytes: limitBytes) {
            _ = try? h.limits.call(request.operation ?? .listLimits(.init()), client: "fuzz")
        }
        _ = try h.takeOutbox()
        try h.coordinator.sync()
    }

    // MARK: Corpus

    static func timestamp(_ seconds: Int64) -> Google_Protobuf_Timestamp { .with { $0.seconds = seconds } }

    static func workerCorpus(run: String) throws -> [[UInt8]] {
        let kinds: [Drover_V1_WorkerMessage.OneOf_Kind] = [
            .hello(
                .with {
                    $0.workerID = "w1"
                    $0.workPoolName = "pool"
                    $0.name = "w1"
                    $0.limit = 2
                    $0.workQueueNames = ["default", "q\u{7}", String(repeating: "q", count: 200)]
                    $0.activeRuns = [
                        .with {
                            $0.runID = run; $0.attempt = 1; $0.started = true
                        }
                    ]
                    $0.helloID = 9
                    $0.type = "process"
                }),
            .heartbeat(.init()),
            .accepting(.with { $0.accepting = false }),
            .runStarted(
                .with {
                    $0.runID = run; $0.attempt = 1; $0.pid = 4; $0.started = timestamp(10_000_000_000_000)
                }),
            .runFinished(
                .with {
                    $0.runID = run
                    $0.attempt = 1
                    $0.outcome = .runCompleted
                    $0.exitCode = 0
                    $0.finished = timestamp(-10_000_000_000_000)
                    $0.message = "done"
                }),
            .logBatch(
                .with {
                    $0.runID = run
                    $0.attempt = 1
                    $0.lines = (1...3).map { n in
                        .with {
                            $0.line = UInt64(n); $0.text = "line \(n)"; $0.stream = "stdout"
                        }
                    }
                }),
            .bye(.with { $0.reason = "bye\nforged log line" }),
        ]
        return try kinds.map { kind in
            try Drover_V1_WorkerMessage.with {
                $0.seq = 1; $0.kind = kind
            }.serializedBytes()
        }
    }

    static func controlCorpus(run: String) throws -> [[UInt8]] {
        let operations: [Drover_V1_ControlRequest.OneOf_Operation] = [
            .runDeployment(
                .with {
                    $0.name = "deploy"; $0.expectedStartTime = timestamp(1_700_000_000)
                }),
            .createDeployment(
                .with {
                    $0.name = "d2"
                    $0.workPoolName = "pool"
                    $0.command = "true"
                    $0.schedules = [
                        .with {
                            $0.interval = .with {
                                $0.seconds = 60; $0.anchorDate = timestamp(1_700_000_000)
                            }
                        }
                    ]
                }),
            .createWorkPool(
                .with {
                    $0.name = "p2"; $0.type = "process"; $0.concurrencyLimit = 3
                }),
            .createWorkQueue(
                .with {
                    $0.name = "q2"; $0.workPoolName = "pool"; $0.priority = 2
                }),
            .cancelFlowRun(.with { $0.id = run }),
            .readFlowRunLogs(
                .with {
                    $0.id = run; $0.limit = 5
                }),
            .listFlowRuns(
                .with {
                    $0.limit = 10; $0.stateTypes = [.running]
                }),
            .listWorkers(.init()),
            .previewWorkPool(
                .with {
                    $0.name = "pool"; $0.hours = 2
                }),
            .updateWorkPool(
                .with {
                    $0.name = "pool"; $0.paused = false
                }),
        ]
        return try operations.map { operation in
            try Drover_V1_ControlRequest.with {
                $0.requestID = 1; $0.operation = operation
            }.serializedBytes()
        }
    }

    static func limitCorpus() throws -> [[UInt8]] {
        let operations: [Drover_V1_LimitRequest.OneOf_Operation] = [
            .createLimit(
                .with {
                    $0.name = "l"; $0.limit = 2
                }),
            .acquire(
                .with {
                    $0.limits = ["l"]; $0.slots = 1; $0.holder = "h"; $0.leaseTtlMs = 1000; $0.wait = true
                }),
            .renew(.with { $0.holders = ["h"] }),
            .release(.with { $0.holders = ["h"] }),
            .listLimits(.init()),
            .updateLimit(
                .with {
                    $0.name = "l"; $0.limit = 1
                }),
        ]
        return try operations.map { operation in
            try Drover_V1_LimitRequest.with {
                $0.requestID = 1; $0.operation = operation
            }.serializedBytes()
        }
    }

    // MARK: Mutation

    /// One to four random edits of `bytes`.
    static func mutate(_ bytes: [UInt8], _ rng: inout SeededGenerator) -> [UInt8] {
        var out = bytes
        for _ in 0..<(1 + Int(rng.next() % 4)) {
            let at = out.isEmpty ? 0 : Int(rng.next() % UInt64(out.count))
            switch rng.next() % 6 {
            case 0 where !out.isEmpty: out[at] ^= UInt8(1 << (rng.next() % 8))
            case 1: out = Array(out.prefix(at))
            case 2: out.insert(UInt8(truncatingIfNeeded: rng.next()), at: at)
            case 3 where !out.isEmpty:
                let end = min(out.count, at + 1 + Int(rng.next() % 16))
                out.insert(contentsOf: out[at..<end], at: at)
            case 4 where !out.isEmpty: out[at] = [0x00, 0x7F, 0x80, 0xFF][Int(rng.next() % 4)]
            default:
                // A varint of extremes: the largest numbers a field can carry.
                out.insert(contentsOf: [0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0x01], at: at)
            }
        }
        return out
    }
}
