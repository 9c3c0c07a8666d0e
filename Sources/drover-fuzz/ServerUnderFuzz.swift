import DroverCoordinator
import DroverCore
import DroverLimits
import DroverProto
import DroverStore
import Foundation
import Logging
import SwiftProtobuf
import ZeroMQ

/// The server's side in one process, without sockets: a coordinator over an in-memory
/// store, its limit service, and a clock the script moves. Frames go through the same
/// decoders the event loops use (`DispatchFrame`, `ControlFrame`, `LimitFrame`), and what
/// comes back is serialized as the loops would send it.
///
/// It starts from a world with something in it: a pool with a limit, a deployment with
/// retries and a tag limit, worker `w1` welcomed and running one run, and one run waiting.
/// Anything may be refused; what must never happen is a trap, a store failure
/// (`.internal`), or a reply that cannot be serialized.
struct ServerUnderFuzz {
    private(set) var coordinator: Coordinator
    private var limits: LimitServiceCore
    private let clock: ScriptClock
    /// The session each worker was welcomed into last.
    private(set) var sessions: [String: UInt64] = [:]
    /// The ids of the runs made at the start, which scripts name by placeholder.
    private var runIDs: [String] = []

    static let coordinatorClient: [UInt8] = Array("coordinator".utf8)
    static let keys = KeyAdministration(security: nil, controlEndpoint: "tcp://127.0.0.1:4201", logger: fuzzLogger)
    /// Routing ids a peer may use: real workers, one ZeroMQ would pick (it starts with a zero
    /// byte), bytes that are not UTF-8, a name with a newline, and the longest id ZeroMQ allows.
    static let identities: [[UInt8]] = [
        Array("w1".utf8), Array("w2".utf8), [0, 0x6B, 0x8B, 0x45, 0x67], [0xFF, 0xFE, 0x41], Array("w1\n".utf8),
        Array(repeating: 0x78, count: 255),
    ]

    init() throws(DroverError) {
        let clock = ScriptClock()
        self.clock = clock
        coordinator = try Coordinator(
            store: try SQLiteStore(), serverInfo: .with { $0.version = "fuzz" }, logger: fuzzLogger, now: { clock.now })
        limits = try LimitServiceCore(store: try SQLiteLimitStore(path: ":memory:"), logger: fuzzLogger, now: { clock.now })
        try settle()
        try setUp(
            .createWorkPool(
                .with {
                    $0.name = "pool"; $0.type = "process"; $0.concurrencyLimit = 2
                }))
        try setUp(
            .createWorkQueue(
                .with {
                    $0.name = "high"; $0.workPoolName = "pool"; $0.priority = 1
                }))
        try setUp(
            .createDeployment(
                .with {
                    $0.name = "deploy"
                    $0.workPoolName = "pool"
                    $0.command = "true"
                    $0.retries = 2
                    $0.tags = ["db"]
                }))
        try deliver(
            try limits.handle(
                .with {
                    $0.requestID = 1;
                    $0.createLimit = .with {
                        $0.name = Limit.name(ofTag: "db"); $0.limit = 1
                    }
                }, from: Array("cli".utf8)))
        try settle()
        try receive(from: Array("w1".utf8), Self.hello(worker: "w1", limit: 2))
        for _ in 0..<2 {
            runIDs.append(try setUp(.runDeployment(.with { $0.name = "deploy" })).flowRun.id)
        }
    }

    /// Run `n`'s placeholder: 36 bytes, as long as a run id, so it can stand anywhere an id
    /// can (in any field of any message) and is swapped for the real id before decoding.
    static func placeholder(run n: Int) -> String {
        "00000000-0000-4000-8000-00000000000\(n)"
    }

    /// `frame` with each run placeholder replaced by that run's id.
    private func naming(_ frame: [UInt8]) -> [UInt8] {
        var bytes = frame
        for (n, id) in runIDs.enumerated() {
            let placeholder = Array(Self.placeholder(run: n).utf8)
            let real = Array(id.utf8)
            guard real.count == placeholder.count, bytes.count >= placeholder.count else { continue }
            var at = 0
            while at + placeholder.count <= bytes.count {
                if bytes[at..<(at + placeholder.count)].elementsEqual(placeholder) {
                    bytes.replaceSubrange(at..<(at + placeholder.count), with: real)
                    at += placeholder.count
                } else {
                    at += 1
                }
            }
        }
        return bytes
    }

    // MARK: Steps

    /// A dispatch frame from `identity`; `inSession` stamps it with the session that id was
    /// welcomed into, so it reaches what lies behind the session check.
    mutating func receive(from identity: [UInt8], _ envelope: [UInt8], inSession: Bool = false) throws(DroverError) {
        switch DispatchFrame.decode([identity, naming(envelope)]) {
        case .message(let worker, var message):
            if inSession { message.session = sessions[worker] ?? message.session }
            do {
                try coordinator.handle(worker: worker, message)
            } catch  where error.code != .internal {
                // Refused, as the event loop logs and carries on.
            }
        case .otherVersion(let worker, let version):
            coordinator.refuseVersion(version, worker: worker)
        case .unnamed:
            try serialize(.with { $0.coordinatorMessage = DispatchFrame.unnamedRefusal() })
        case .malformed:
            break
        }
        try settle()
    }

    mutating func control(_ frame: [UInt8]) throws(DroverError) {
        guard let decoded = ControlFrame.decode(ZeroMQ.Message([Array("cli".utf8), naming(frame)])) else { return }
        switch decoded {
        case .request(_, let request):
            // As the event loop does; key requests meet a server that is not --secure (a
            // secure one's are files on disk, too slow to fuzz).
            try serialize(
                .reply(
                    KeyAdministration.handles(request.operation)
                        ? Self.keys.answer(request, from: "cli") : coordinator.handle(request)))
        case .reject(_, let reply):
            try serialize(.reply(reply))
        }
        try settle()
    }

    mutating func limitRequest(_ frame: [UInt8]) throws(DroverError) {
        switch LimitFrame.decode([Array("client".utf8), frame]) {
        case .request(let client, let request):
            try deliver(try limits.handle(request, from: client))
        case .refuse(let refusal):
            try deliver([refusal])
        case .unanswerable:
            break
        }
        try settle()
    }

    mutating func advance(by seconds: TimeInterval) throws(DroverError) {
        clock.advance(by: seconds)
        try coordinator.tick()
        try deliver(try limits.tick())
        try settle()
    }

    /// Whether the coordinator still answers a request.
    mutating func answers() -> Bool {
        coordinator.handle(
            .with {
                $0.requestID = 7; $0.getServerInfo = .init()
            }
        ).serverInfo.version == "fuzz"
    }

    // MARK: Plumbing

    @discardableResult
    private mutating func setUp(_ operation: Drover_V1_ControlRequest.OneOf_Operation) throws(DroverError) -> Drover_V1_ControlReply {
        let reply = coordinator.handle(
            .with {
                $0.requestID = 1; $0.operation = operation
            })
        if case .error(let error)? = reply.result {
            throw DroverError(.internal, "setting up the fuzz world failed: \(error.message)")
        }
        try settle()
        return reply
    }

    /// Carries the coordinator's limit requests to the limit service and the replies back
    /// until both are quiet, takes what the coordinator has for workers, and commits.
    private mutating func settle() throws(DroverError) {
        for _ in 0..<100 {
            let requests = coordinator.takeLimitRequests()
            for (worker, message) in coordinator.takeOutbox() {
                if case .welcome(let welcome)? = message.kind { sessions[worker] = welcome.session }
                try serialize(
                    .with {
                        $0.protocolVersion = droverProtocolVersion; $0.coordinatorMessage = message
                    })
            }
            guard !requests.isEmpty else { break }
            for request in requests {
                try serialize(.with { $0.limitRequest = request })
                try deliver(try limits.handle(request, from: Self.coordinatorClient))
            }
        }
        try coordinator.sync()
        try limits.sync()
    }

    /// Replies of the limit service: the coordinator's go to it, the rest are only serialized.
    private mutating func deliver(_ deliveries: [LimitDelivery]) throws(DroverError) {
        for delivery in deliveries {
            try serialize(.with { $0.limitReply = delivery.reply })
            if delivery.client == Self.coordinatorClient { try coordinator.handle(limitReply: delivery.reply) }
        }
    }

    private func serialize(_ envelope: Drover_V1_Envelope) throws(DroverError) {
        do {
            _ = try envelope.serializedBytes() as [UInt8]
        } catch {
            throw DroverError(.internal, "a reply could not be serialized: \(error)")
        }
    }

    static func hello(worker: String, limit: UInt32) -> [UInt8] {
        let envelope = Drover_V1_Envelope.with {
            $0.protocolVersion = droverProtocolVersion
            $0.workerMessage = .with {
                $0.hello = .with {
                    $0.workerID = worker
                    $0.workPoolName = "pool"
                    $0.name = worker
                    $0.limit = limit
                    $0.helloID = 1
                    $0.type = "process"
                    $0.workQueueNames = ["default", "high"]
                }
            }
        }
        return (try? envelope.serializedBytes()) ?? []
    }
}

/// A clock the script moves; the fuzz target is one thread.
final class ScriptClock: @unchecked Sendable {
    private(set) var now = Date(timeIntervalSince1970: 1_800_000_000)

    func advance(by seconds: TimeInterval) {
        now = now.addingTimeInterval(seconds)
    }
}

/// Logs nothing, but formats every message and its metadata, so escaping and formatting
/// run on hostile input too.
struct FormattingLogHandler: LogHandler {
    var logLevel: Logger.Level = .trace
    var metadata: Logger.Metadata = [:]

    subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { metadata[key] }
        set { metadata[key] = newValue }
    }

    func log(event: LogEvent) {
        _ = event.message.description.utf8.count + (event.metadata ?? [:]).description.utf8.count
    }
}

let fuzzLogger = Logger(label: "drover.fuzz") { _ in FormattingLogHandler() }
