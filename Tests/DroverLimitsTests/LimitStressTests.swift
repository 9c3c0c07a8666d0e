import DroverProto
import DroverTestSupport
import Foundation
import Synchronization
import Testing
import ZeroMQ

/// Many clients on several threads contending for a few slots over real sockets.
@Suite struct LimitStressTests {
    static let threads = 4
    static let clientsPerThread = 5
    static let rounds = 20
    static let slots: UInt32 = 3
    /// The whole run fails rather than hangs past this.
    static let overallGuard: TimeInterval = 60

    /// What the clients saw, shared by their threads.
    final class Tally: Sendable {
        private struct State {
            var held = 0
            var mostHeld = 0
            var grants = 0
            var problems: [String] = []
        }
        private let state = Mutex(State())

        /// A grant arrived: one more slot is held, as far as clients know.
        func granted() {
            state.withLock {
                $0.held += 1
                $0.grants += 1
                $0.mostHeld = max($0.mostHeld, $0.held)
            }
        }

        /// A client is about to release its slot.
        func releasing() { state.withLock { $0.held -= 1 } }

        func problem(_ text: String) { state.withLock { $0.problems.append(text) } }

        var mostHeld: Int { state.withLock { $0.mostHeld } }
        var grants: Int { state.withLock { $0.grants } }
        var problems: [String] { state.withLock { $0.problems } }
    }

    /// One client's place in its rounds.
    private struct Contender {
        enum Phase { case acquiring, holding(lease: String), releasing, done }
        let name: String
        let client: LimitWireClient
        var phase = Phase.acquiring
        var pending: UInt64 = 0
        var round = 0
        var sawQueued = false

        var isDone: Bool { if case .done = phase { true } else { false } }
    }

    @Test func contendersNeverHoldMoreThanTheLimitAndEveryAcquireIsGrantedOnce() async throws {
        let home = try TemporaryDirectory()
        try await withLimitLoop(home: home.url) { endpoint in
            let context = try Context(ioThreads: 2)
            let admin = try LimitWireClient(context, endpoint)
            #expect(try admin.call(.create("stress", slots: Self.slots)).limitReply != nil)

            let tally = Tally()
            let deadline = Date().addingTimeInterval(Self.overallGuard)
            let done = DispatchGroup()
            for thread in 0..<Self.threads {
                done.enter()
                Thread {
                    defer { done.leave() }
                    do {
                        try Self.contend(thread: thread, context: context, endpoint: endpoint, tally: tally, deadline: deadline)
                    } catch {
                        tally.problem("thread \(thread): \(error)")
                    }
                }.start()
            }
            // Every thread's waits are bounded by the deadline; this is only the last guard.
            let finished = done.wait(timeout: .now() + Self.overallGuard + 15)
            try #require(finished == .success, "the contending threads did not finish")

            #expect(tally.problems == [])
            #expect(tally.mostHeld <= Int(Self.slots))
            #expect(tally.mostHeld >= 1)
            #expect(tally.grants == Self.threads * Self.clientsPerThread * Self.rounds)
            let status = try #require(try admin.call(.get("stress")).limitReply)
            #expect(status.activeSlots == 0)
            #expect(status.waiting == 0)
            #expect(status.leases.isEmpty)
        }
    }

    /// One thread's clients, multiplexed with a poller: each Acquires (waiting), holds its slot
    /// while the thread polls once more (so its other clients get grants meanwhile), releases
    /// it, and goes again until it has done its rounds.
    private static func contend(
        thread: Int, context: Context, endpoint: String, tally: Tally, deadline: Date
    ) throws {
        var contenders = try (0..<clientsPerThread).map { index in
            Contender(name: "stress-\(thread)-\(index)", client: try LimitWireClient(context, endpoint))
        }
        var poller = Poller()
        for contender in contenders { poller.add(contender.client.socket) }
        for index in contenders.indices {
            contenders[index].pending = try contenders[index].client.send(.acquireSlot("stress", holder: contenders[index].name))
        }

        // Each pass handles at least one reply; a client needs two or three replies a round.
        let passLimit = clientsPerThread * rounds * 3 + 1
        for _ in 0..<passLimit {
            guard contenders.contains(where: { !$0.isDone }) else { break }
            for index in contenders.indices {
                guard case .holding(let lease) = contenders[index].phase else { continue }
                tally.releasing()
                contenders[index].pending = try contenders[index].client.send(.releaseLeases([lease]))
                contenders[index].phase = .releasing
            }
            let remaining = deadline.timeIntervalSinceNow
            guard remaining > 0 else {
                tally.problem("thread \(thread): past the deadline with clients still contending")
                return
            }
            let events = try poller.poll(timeout: .milliseconds(Int(remaining * 1000)))
            guard events.contains(where: { $0.contains(.readable) }) else {
                tally.problem("thread \(thread): no reply before the deadline")
                return
            }
            for index in contenders.indices where events[index].contains(.readable) {
                while let message = try contenders[index].client.socket.receive(wait: false) {
                    try handle(try LimitWireClient.reply(of: message), for: &contenders[index], tally: tally)
                }
            }
        }
        if contenders.contains(where: { !$0.isDone }) {
            tally.problem("thread \(thread): clients still contending after \(passLimit) passes")
            return
        }

        // Nothing more is on its way: a late or second grant would come before this reply.
        for contender in contenders {
            let reply = try contender.client.call(.get("stress"))
            if reply.limitReply == nil { tally.problem("\(contender.name): unexpected \(reply)") }
        }
    }

    private static func handle(_ reply: Drover_V1_LimitReply, for contender: inout Contender, tally: Tally) throws {
        guard !contender.isDone, reply.requestID == contender.pending else {
            tally.problem("\(contender.name): unexpected reply in \(contender.phase): \(reply)")
            return
        }
        switch contender.phase {
        case .acquiring:
            if reply.queuedReply != nil, !contender.sawQueued {
                contender.sawQueued = true
                return
            }
            guard let lease = reply.grantedLease else {
                tally.problem("\(contender.name): expected a grant, got \(reply)")
                return
            }
            tally.granted()
            contender.phase = .holding(lease: lease.id)
        case .holding:
            tally.problem("\(contender.name): a reply while holding its slot: \(reply)")
        case .releasing:
            if reply.releasedReply?.leases != 1 { tally.problem("\(contender.name): expected one lease freed, got \(reply)") }
            contender.round += 1
            contender.sawQueued = false
            if contender.round == rounds {
                contender.phase = .done
            } else {
                contender.pending = try contender.client.send(.acquireSlot("stress", holder: contender.name))
                contender.phase = .acquiring
            }
        case .done:
            break
        }
    }
}
