import DroverClient
import DroverCore
import DroverProto
import Foundation
import SwiftProtobuf
import ZeroMQ

/// What `drover bench limits` is asked to do.
public struct LimitBenchPlan: Sendable {
    /// Simulated clients, each with its own connection and one request in flight at a time.
    public var clients: Int
    /// Limits the clients are spread over: client `i` takes slots of limit `i % limits`.
    public var limits: Int
    /// Slots of each limit; every Acquire takes one.
    public var slots: UInt32
    /// Acquire-and-release cycles, over all clients.
    public var cycles: Int
    /// How long a client holds its slot before it releases it.
    public var hold: Duration
    /// The whole bench gives up after this long.
    public var timeout: Duration

    public init(
        clients: Int = 10, limits: Int = 1, slots: UInt32 = 1, cycles: Int = 10_000, hold: Duration = .zero,
        timeout: Duration = .seconds(300)
    ) {
        self.clients = clients
        self.limits = limits
        self.slots = slots
        self.cycles = cycles
        self.hold = hold
        self.timeout = timeout
    }
}

/// What `drover bench limits` measured.
public struct LimitBenchReport: Sendable, Codable {
    public var clients: Int
    public var limits: Int
    public var slots: UInt32
    public var cycles: Int
    /// Cycles whose Release was answered.
    public var completed: Int
    public var holdSeconds: Double
    /// From the first Acquire sent to the last Release answered.
    public var elapsedSeconds: Double
    /// Acquires granted per second over `elapsedSeconds` (one per completed cycle).
    public var acquiresPerSecond: Double
    /// Releases answered per second over `elapsedSeconds`.
    public var releasesPerSecond: Double
    /// Acquire sent → Granted read, waiting in line included.
    public var grantLatency: LatencySummary
    /// Release sent → Released read.
    public var releaseLatency: LatencySummary
    /// Acquires answered Queued before they were granted.
    public var queued: Int
    /// The most leases of one limit the clients held at once, counted from grants read
    /// to Releases sent: more than `slots` means the service over-granted.
    public var mostHeld: Int
    /// The limit service's own cost, when the bench started it.
    public var server: ServerUsage?

    /// Whether the clients ever held more leases of one limit than it has slots.
    public var overGranted: Bool { mostHeld > Int(slots) }
}

/// Runs a bench against a live limit service: simulated clients in this process, all on
/// one thread, each taking a slot, giving it back and taking the next.
public enum LimitBench {
    /// Creates `plan.limits` limits of its own on the limit service at `endpoint`, then
    /// has `plan.clients` clients Acquire (waiting in line when they must), hold for
    /// `plan.hold` and Release until `plan.cycles` cycles are done or `plan.timeout`
    /// passes. Its limits are deleted at the end, best effort. `progress` is called with
    /// the cycles done so far, now and then, on this thread.
    public static func run(
        _ plan: LimitBenchPlan, endpoint: String, progress: (Int) -> Void = { _ in }
    ) throws -> LimitBenchReport {
        guard plan.clients >= 1, (1...plan.clients).contains(plan.limits), plan.slots >= 1, plan.cycles >= 1 else {
            throw DroverError.invalidArgument(
                "A limits bench needs at least one client, one cycle and one slot, and no more limits than clients.")
        }
        let deadline = ContinuousClock.now + plan.timeout
        let admin = try LimitClient(endpoint: endpoint)
        let prefix = "bench-\(UUID().uuidString.prefix(8).lowercased())"
        var created: [String] = []
        defer {
            for name in created { _ = try? admin.call(.deleteLimit(.with { $0.name = name })) }
        }
        for index in 1...plan.limits {
            let name = "\(prefix)-\(index)"
            _ = try admin.call(
                .createLimit(
                    .with {
                        $0.name = name; $0.limit = plan.slots
                    }))
            created.append(name)
        }

        let measured = try measure(plan, endpoint: endpoint, limits: created, prefix: prefix, deadline: deadline, progress: progress)
        // The clients' sockets are closed by now: free what they still held or waited for.
        if !measured.outstanding.isEmpty { _ = try? admin.release(holders: measured.outstanding) }
        let elapsed = measured.elapsed.inSeconds
        let rate = elapsed > 0 ? Double(measured.completed) / elapsed : 0
        return LimitBenchReport(
            clients: plan.clients, limits: plan.limits, slots: plan.slots, cycles: plan.cycles,
            completed: measured.completed, holdSeconds: plan.hold.inSeconds, elapsedSeconds: elapsed,
            acquiresPerSecond: rate, releasesPerSecond: rate,
            grantLatency: LatencySummary(microseconds: measured.grants),
            releaseLatency: LatencySummary(microseconds: measured.releases), queued: measured.queued,
            mostHeld: measured.mostHeld, server: nil)
    }

    /// Connects the clients, runs the cycles and returns what they saw; the sockets close on return.
    private static func measure(
        _ plan: LimitBenchPlan, endpoint: String, limits: [String], prefix: String, deadline: ContinuousClock.Instant,
        progress: (Int) -> Void
    ) throws -> LimitCycles.Measurements {
        let context = try Context(ioThreads: 1, maxSockets: Int32(max(1024, plan.clients + 16)))
        var cycles = try LimitCycles(plan: plan, context: context, endpoint: endpoint, limits: limits, prefix: prefix)
        return try cycles.run(until: deadline, progress: progress)
    }
}

/// The bench's clients and their cycles: each client has one request in flight (an
/// Acquire or a Release), and one thread polls all their sockets, so every client's
/// requests are in the service's queue at once.
private struct LimitCycles {
    /// What the clients measured.
    struct Measurements {
        /// Microseconds from an Acquire sent to its Granted read.
        var grants: [UInt64] = []
        /// Microseconds from a Release sent to its Released read.
        var releases: [UInt64] = []
        var completed = 0
        var queued = 0
        var mostHeld = 0
        /// From the first Acquire sent to the last Released read.
        var elapsed: Duration = .zero
        /// Holders still holding or waiting when the bench stopped.
        var outstanding: [String] = []
    }

    private enum Phase {
        case idle
        case acquiring(queued: Bool)
        case holding(lease: String)
        case releasing
    }

    private struct Client {
        let socket: Socket
        /// Index of the limit it takes slots of.
        let limit: Int
        var phase = Phase.idle
        var requestID: UInt64 = 0
        var sent = ContinuousClock.now
        var holder = ""
    }

    /// Messages read off one socket per wake-up before the others get a turn.
    private static let batchLimit = 64

    private let plan: LimitBenchPlan
    private let endpoint: String
    private let limits: [String]
    private let prefix: String
    private let leaseTTLMilliseconds: UInt32
    private var clients: [Client] = []
    private var poller = Poller()
    private var nextRequestID: UInt64 = 1
    private var started = 0
    /// Leases of each limit held now, as the clients count them.
    private var held: [Int]
    /// Clients holding a slot, with when they release it; all holds are equally long,
    /// so they fall due in the order they began. Released once a wake-up's replies are read.
    private var holds: [(due: ContinuousClock.Instant, client: Int)] = []
    private var measurements = Measurements()

    init(plan: LimitBenchPlan, context: Context, endpoint: String, limits: [String], prefix: String) throws {
        self.plan = plan
        self.endpoint = endpoint
        self.limits = limits
        self.prefix = prefix
        held = Array(repeating: 0, count: limits.count)
        // The default TTL (30 s) unless a hold needs longer; a lease lasts 24 h at most.
        let holdMilliseconds = plan.hold.inSeconds * 1000
        leaseTTLMilliseconds = holdMilliseconds < 10_000 ? 0 : UInt32(min(86_400_000, holdMilliseconds * 3))
        for index in 0..<plan.clients {
            let socket = try Socket(context: context, type: .dealer)
            try socket.set(.maxMessageSize, droverMaxFrameBytes)
            try socket.connect(endpoint)
            poller.add(socket)
            clients.append(Client(socket: socket, limit: index % limits.count))
        }
        measurements.grants.reserveCapacity(plan.cycles)
        measurements.releases.reserveCapacity(plan.cycles)
    }

    /// Runs cycles until `plan.cycles` are done or `deadline` passes. Blocks the calling thread.
    mutating func run(until deadline: ContinuousClock.Instant, progress: (Int) -> Void) throws -> Measurements {
        let clock = ContinuousClock()
        let start = clock.now
        var lastRelease = start
        var lastProgress = start
        for index in clients.indices where started < plan.cycles { try acquire(index) }
        while measurements.completed < plan.cycles {
            let now = clock.now
            guard now < deadline else { break }
            var wait = min(deadline - now, .milliseconds(100))
            if let due = holds.first?.due { wait = min(wait, max(.zero, due - now)) }
            let events = try poller.poll(timeout: wait)
            for index in clients.indices where events[index].contains(.readable) {
                for _ in 0..<Self.batchLimit {
                    guard let message = try clients[index].socket.receive(wait: false) else { break }
                    let received = clock.now
                    if try handle(message, client: index, at: received) { lastRelease = received }
                }
            }
            try releaseDue(at: clock.now)
            if clock.now - lastProgress > .milliseconds(500) {
                progress(measurements.completed)
                lastProgress = clock.now
            }
        }
        progress(measurements.completed)
        measurements.elapsed = lastRelease - start
        measurements.outstanding = clients.compactMap { client in
            if case .idle = client.phase { return nil }
            return client.holder
        }
        return measurements
    }

    /// Handles one reply; true when it completed a cycle.
    private mutating func handle(_ message: ZeroMQ.Message, client index: Int, at now: ContinuousClock.Instant) throws -> Bool {
        guard message.frames.count == 1, let envelope = try? Drover_V1_Envelope(serializedBytes: message.frames[0]),
            case .limitReply(let reply)? = envelope.body
        else {
            throw DroverError(
                .malformedMessage, "The limit service at \(endpoint) answered with something that is not a limit reply.")
        }
        // An answer to an earlier request of this client: nothing to do. (Request id 0 is
        // the service refusing a message it could not read.)
        guard reply.requestID == clients[index].requestID || reply.requestID == 0 else { return false }
        let elapsed = Self.microseconds(now - clients[index].sent)
        switch (clients[index].phase, reply.result) {
        case (.acquiring(let wasQueued), .queued?):
            if !wasQueued {
                measurements.queued += 1
                clients[index].phase = .acquiring(queued: true)
            }
            return false
        case (.acquiring, .granted(let granted)?):
            measurements.grants.append(elapsed)
            let limit = clients[index].limit
            held[limit] += 1
            measurements.mostHeld = max(measurements.mostHeld, held[limit])
            clients[index].phase = .holding(lease: granted.lease.id)
            // Released after this wake-up's replies are read, even with no hold: grants read
            // together are held together, so the count can see an over-grant.
            holds.append((now + plan.hold, index))
            return false
        case (.releasing, .released?):
            measurements.releases.append(elapsed)
            measurements.completed += 1
            clients[index].phase = .idle
            if started < plan.cycles { try acquire(index) }
            return true
        case (_, .error(let error)?):
            throw DroverError(
                DroverError.Code(error.code), "The limit service at \(endpoint) refused a bench request: \(error.message)")
        case (_, .denied(let denied)?):
            throw DroverError(
                .unavailable, "The limit service at \(endpoint) turned down a waiting Acquire: \(denied.message)")
        default:
            throw DroverError(
                .malformedMessage, "The limit service at \(endpoint) answered a bench request with an unexpected kind of reply.")
        }
    }

    /// Releases the slots whose hold is over.
    private mutating func releaseDue(at now: ContinuousClock.Instant) throws {
        var done = 0
        for hold in holds {
            guard hold.due <= now else { break }
            done += 1
            try release(hold.client)
        }
        holds.removeFirst(done)
    }

    private mutating func acquire(_ index: Int) throws {
        started += 1
        clients[index].holder = "\(prefix)/client-\(index + 1)/cycle-\(started)"
        clients[index].phase = .acquiring(queued: false)
        try send(
            .acquire(
                .with {
                    $0.limits = [limits[clients[index].limit]]
                    $0.slots = 1
                    $0.holder = clients[index].holder
                    $0.leaseTtlMs = leaseTTLMilliseconds
                    $0.wait = true
                    $0.strict = true
                }), client: index)
    }

    /// Sends the Release of the client's lease. The lease stops counting as held first:
    /// the service may grant it to the next client as soon as it reads this.
    private mutating func release(_ index: Int) throws {
        guard case .holding(let lease) = clients[index].phase else { return }
        held[clients[index].limit] -= 1
        clients[index].phase = .releasing
        try send(.release(.with { $0.leaseIds = [lease] }), client: index)
    }

    private mutating func send(_ operation: Drover_V1_LimitRequest.OneOf_Operation, client index: Int) throws {
        let requestID = nextRequestID
        nextRequestID += 1
        let envelope = Drover_V1_Envelope.with {
            $0.protocolVersion = droverProtocolVersion
            $0.limitRequest = .with {
                $0.requestID = requestID
                $0.operation = operation
            }
        }
        let payload: [UInt8] = try envelope.serializedBytes()
        clients[index].requestID = requestID
        clients[index].sent = ContinuousClock.now
        guard try clients[index].socket.send(payload, wait: false) else {
            throw DroverError(.unavailable, "Could not queue a request to the limit service at \(endpoint).")
        }
    }

    private static func microseconds(_ duration: Duration) -> UInt64 {
        let (seconds, attoseconds) = duration.components
        guard seconds >= 0 else { return 0 }
        return UInt64(seconds) * 1_000_000 + UInt64(attoseconds / 1_000_000_000_000)
    }
}
