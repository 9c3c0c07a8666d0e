import DroverCore
import DroverProto
import DroverTestSupport
import Foundation
import Testing

@testable import DroverCoordinator

/// Replies never outgrow a message: logs come in pages of bounded size, and a list that
/// would be too big is refused with a way to ask for less, never dropped on the floor.
@Suite struct CoordinatorLogPagingTests {
    @Test func longLinesComeInPagesUnderTheFrameLimitAndNoneIsMissed() throws {
        var h = try CoordinatorHarness()
        h.createPool()
        h.createDeployment()
        try h.hello("w1")
        let run = h.runDeployment()
        _ = try h.takeOutbox()
        try h.started("w1", run.id, attempt: 1)
        let long = String(repeating: "x", count: 8 * 1024)
        for batch in 0..<3 {
            try h.send(
                "w1",
                .logBatch(
                    .with {
                        $0.runID = run.id
                        $0.attempt = 1
                        $0.lines = (1...500).map { n in
                            .with {
                                $0.line = UInt64(batch * 500 + n); $0.text = long; $0.stream = "stdout"
                            }
                        }
                    }))
        }
        var after: UInt64 = 0
        var read = 0
        var pages = 0
        while pages < 100 {
            let reply = h.ok(
                .readFlowRunLogs(
                    .with {
                        $0.id = run.id; $0.afterSequence = after
                    }))
            let size = (try reply.serializedBytes() as [UInt8]).count
            #expect(Int64(size) < droverMaxFrameBytes, "a page of \(size) bytes")
            pages += 1
            read += reply.logs.lines.count
            guard reply.logs.more, let last = reply.logs.lines.last else { break }
            after = last.sequence
        }
        #expect(read == 1500 && pages > 3, "\(read) lines in \(pages) pages")
    }

    @Test func aListTooBigForOneMessageIsRefusedSayingHowToAskForLess() throws {
        var h = try CoordinatorHarness()
        h.createPool()
        // Workers with long (valid) names and hosts until `worker ls` would pass 1 MiB.
        for index in 0..<4_000 {
            try h.coordinator.handle(
                worker: "w\(index)",
                .with {
                    $0.hello = .with {
                        $0.workerID = "w\(index)"
                        $0.workPoolName = "pool"
                        $0.name = "worker-\(index)-" + String(repeating: "n", count: 80)
                        $0.host = String(repeating: "h", count: 250)
                        $0.helloID = 1
                    }
                })
        }
        _ = try h.takeOutbox()
        let reply = h.call(.listWorkers(.init()))
        guard case .error(let error)? = reply.result else {
            Issue.record("a list of \((try? reply.serializedBytes() as [UInt8])?.count ?? 0) bytes was sent")
            return
        }
        #expect(error.code == .failedPrecondition && error.message.contains("over the 1 MiB"), "\(error.message)")
    }
}
