import DroverCore
import DroverProto
import DroverWire
import Foundation
import SwiftProtobuf
import ZeroMQ

/// A connection to a Drover limit service, for the CLI, coordinators and tests.
///
/// Each call sends one request and waits for its reply, never longer than `timeout`:
/// when no service answers, the call fails with `unavailable` and a message that says
/// where it looked. `acquire` may wait longer, for as long as its Acquire allows, once
/// the service has answered that it is in line. Owns a ZeroMQ socket, so a client is
/// used by one thread at a time.
public final class LimitClient {
    /// The limit service endpoint this client talks to.
    public let endpoint: String
    /// How long one call waits for its reply.
    public let timeout: Duration
    /// How often a waiting Acquire is sent again, so a restarted service learns of it.
    public let resendInterval: Duration
    private let socket: Socket
    private let handshakes: HandshakeWatch
    private var nextRequestID = UInt64.random(in: 1...(UInt64.max / 2))

    /// How an Acquire ended.
    public enum AcquireOutcome: Sendable, Equatable {
        /// The slots are taken under this lease (empty for a rate limit: nothing to release).
        case granted(Drover_V1_Lease)
        /// No slots: busy (a try), timed out, or withdrawn by a change of the limits.
        case denied(Drover_V1_Denied)
        /// The cancellation descriptor became readable first; the Acquire was withdrawn.
        case cancelled
    }

    /// Connects (in the background) to `endpoint`.
    public init(
        endpoint: String, timeout: Duration = .seconds(5), resendInterval: Duration = .seconds(10),
        context: Context? = nil, key: KeyFile? = nil
    ) throws(DroverError) {
        self.endpoint = endpoint
        self.timeout = timeout
        self.resendInterval = resendInterval
        do throws(ZeroMQError) {
            (socket, handshakes) = try DealerSocket.connect(to: endpoint, context: context, key: key)
        } catch {
            throw .invalidArgument(
                "Invalid limit service address '\(endpoint)' (\(error.code)). "
                    + "Give one such as tcp://127.0.0.1:4203 with --limits or DROVER_LIMITS.")
        }
    }

    // MARK: Requests

    /// Sends `operation` and returns the service's result, or throws the service's error.
    public func call(
        _ operation: Drover_V1_LimitRequest.OneOf_Operation
    ) throws(DroverError) -> Drover_V1_LimitReply.OneOf_Result {
        let requestID = try send(operation)
        switch try receive(requestID, until: ContinuousClock.now + timeout, cancellation: nil) {
        case .result(let result): return result
        case .timedOut, .cancelled: throw unreachable()
        }
    }

    /// Extends leases by their TTL, named by id or holder.
    ///
    /// - Parameter cancellation: a descriptor (an eventfd, a pipe) that ends the wait for
    ///   the reply once readable; the call then returns nil and the renewal may or may
    ///   not have happened. The client does not read it.
    public func renew(
        leaseIDs: [String], holders: [String] = [], cancellation: Int32? = nil
    ) throws(DroverError) -> Drover_V1_Renewed? {
        let requestID = try send(
            .renew(
                .with {
                    $0.leaseIds = leaseIDs; $0.holders = holders
                }))
        switch try receive(requestID, until: ContinuousClock.now + timeout, cancellation: cancellation) {
        case .result(.renewed(let renewed)): return renewed
        case .result: throw unexpectedReply("Renew")
        case .cancelled: return nil
        case .timedOut: throw unreachable()
        }
    }

    /// Frees leases and withdraws waiting Acquires, by lease id or holder. Releasing what
    /// is gone is not an error.
    @discardableResult
    public func release(leaseIDs: [String] = [], holders: [String] = []) throws(DroverError) -> Drover_V1_Released {
        guard
            case .released(let released) = try call(
                .release(
                    .with {
                        $0.leaseIds = leaseIDs; $0.holders = holders
                    }))
        else { throw unexpectedReply("Release") }
        return released
    }

    // MARK: Acquiring

    /// Asks for slots and, when the Acquire may wait, waits until they are granted or
    /// denied, calling `onQueued` whenever its place in line changes.
    ///
    /// The service must answer at once (granted, denied or queued) within `timeout`.
    /// While in line, an Acquire with a holder is sent again every
    /// `resendInterval` (the service answers a repeat with the same lease or place in
    /// line), so a service that restarted learns of it again; resending stops once the
    /// Acquire's own timeout has passed. Without an answer by that timeout plus
    /// `timeout`, the Acquire is withdrawn and reported as timed out.
    ///
    /// - Parameter cancellation: a descriptor (an eventfd, a pipe) that, once readable,
    ///   ends the wait: the Acquire is withdrawn (a Release by its holder, which also
    ///   frees a grant that crossed on the way) and the result is `.cancelled`. The
    ///   client does not read it.
    public func acquire(
        _ acquire: Drover_V1_Acquire, cancellation: Int32? = nil, onQueued: (Drover_V1_Queued) -> Void = { _ in }
    ) throws(DroverError) -> AcquireOutcome {
        let clock = ContinuousClock()
        let started = clock.now
        // One request id for every send of this Acquire: any of its answers is for us.
        let requestID = try send(.acquire(acquire))
        let resends = acquire.wait && !acquire.holder.isEmpty
        let waitEnds: ContinuousClock.Instant? =
            acquire.wait && acquire.timeoutMs > 0 ? started + .milliseconds(Int64(acquire.timeoutMs)) : nil
        var answerDue: ContinuousClock.Instant? = started + timeout
        var nextResend: ContinuousClock.Instant?
        var lastQueued: Drover_V1_Queued?
        while true {
            let giveUp = waitEnds.map { $0 + timeout }
            let wake = [answerDue, nextResend, giveUp].compactMap { $0 }.min()
            switch try receive(requestID, until: wake, cancellation: cancellation) {
            case .result(.granted(let granted)):
                return .granted(granted.lease)
            case .result(.denied(let denied)):
                return .denied(denied)
            case .result(.queued(let queued)):
                answerDue = nil
                if queued != lastQueued { onQueued(queued) }
                lastQueued = queued
                if resends && nextResend == nil { nextResend = clock.now + resendInterval }
            case .result:
                throw unexpectedReply("Acquire")
            case .cancelled:
                withdraw(acquire.holder)
                return .cancelled
            case .timedOut:
                let now = clock.now
                if let answerDue, now >= answerDue { throw unreachable() }
                if let giveUp, now >= giveUp {
                    withdraw(acquire.holder)
                    return .denied(
                        .with {
                            $0.reason = .timedOut
                            $0.message = "Timed out waiting for a slot of \(Self.list(acquire.limits))."
                        })
                }
                if let resend = nextResend, now >= resend {
                    try resendAcquire(acquire, requestID: requestID)
                    let next = now + resendInterval
                    // Past the Acquire's own timeout the service denies it: no point asking again.
                    nextResend = waitEnds.map { next < $0 ? next : nil } ?? next
                }
            }
        }
    }

    /// Withdraws a waiting Acquire (and frees a grant that crossed on the way), best effort
    /// and within a second, so Ctrl-C is quick even when the service is gone: a lease the
    /// service does not hear of expires by itself.
    private func withdraw(_ holder: String) {
        guard !holder.isEmpty,
            let requestID = try? send(.release(.with { $0.holders = [holder] }))
        else { return }
        _ = try? receive(requestID, until: ContinuousClock.now + min(timeout, .seconds(1)), cancellation: nil)
    }

    private func resendAcquire(_ acquire: Drover_V1_Acquire, requestID: UInt64) throws(DroverError) {
        try send(.acquire(acquire), requestID: requestID)
    }

    // MARK: Endpoint

    /// The limit service's endpoint: `configured` (from --limits or DROVER_LIMITS) when
    /// it is not empty, else the one the server reports serving.
    public static func endpoint(
        configured: String, server: () throws(DroverError) -> ControlClient
    ) throws(DroverError) -> String {
        guard configured.isEmpty else { return configured }
        let control = try server()
        guard case .serverInfo(let info) = try control.call(.getServerInfo(.init())) else {
            throw DroverError(.malformedMessage, "The server at \(control.endpoint) answered with something other than its status.")
        }
        guard let limits = info.endpoints["limits"], !limits.isEmpty else {
            throw DroverError(
                .unavailable,
                "The server at \(control.endpoint) runs no limit service. "
                    + "Point this command at one with --limits or DROVER_LIMITS.")
        }
        return AdvertisedEndpoint.reachable(limits, via: control.endpoint)
    }

    // MARK: Wire

    /// What waiting for a reply came to.
    private enum Received {
        case result(Drover_V1_LimitReply.OneOf_Result)
        case timedOut
        case cancelled
    }

    /// Sends `operation` under a fresh request id, and returns the id.
    private func send(_ operation: Drover_V1_LimitRequest.OneOf_Operation) throws(DroverError) -> UInt64 {
        let requestID = nextRequestID
        nextRequestID &+= 1
        try send(operation, requestID: requestID)
        return requestID
    }

    private func send(_ operation: Drover_V1_LimitRequest.OneOf_Operation, requestID: UInt64) throws(DroverError) {
        let envelope = Drover_V1_Envelope.with {
            $0.protocolVersion = droverProtocolVersion
            $0.limitRequest = .with {
                $0.requestID = requestID
                $0.operation = operation
            }
        }
        do {
            let payload: [UInt8] = try envelope.serializedBytes()
            guard try socket.send(payload, wait: false) else { throw unreachable() }
        } catch let error as DroverError {
            throw error
        } catch {
            throw DroverError(.internal, "Could not send the request to \(endpoint): \(error)")
        }
    }

    /// Waits for the reply to `requestID` until `deadline` (nil: no end), skipping stale
    /// replies, or until `cancellation` is readable.
    private func receive(
        _ requestID: UInt64, until deadline: ContinuousClock.Instant?, cancellation: Int32?
    ) throws(DroverError) -> Received {
        var poller = Poller()
        poller.add(socket)
        if let cancellation { poller.add(fileDescriptor: cancellation) }
        while true {
            let remaining = deadline.map { $0 - ContinuousClock.now }
            if let remaining, remaining <= .zero { return .timedOut }
            let events: [PollEvents]
            let message: ZeroMQ.Message?
            do {
                events = try poller.poll(timeout: remaining)
                message = events[0].contains(.readable) ? try socket.receive(wait: false) : nil
            } catch {
                throw DroverError(.unavailable, "Lost the connection to \(endpoint): \(error.code).")
            }
            if let message, let result = try decode(message, requestID: requestID) { return .result(result) }
            if events.count > 1, !events[1].isEmpty { return .cancelled }
        }
    }

    /// The result in `message` if it answers `requestID`; nil for a stale reply.
    private func decode(
        _ message: ZeroMQ.Message, requestID: UInt64
    ) throws(DroverError) -> Drover_V1_LimitReply.OneOf_Result? {
        try ReplyDecoder.decode(message, as: Drover_V1_LimitReply.self, requestID: requestID, peer: "limit service", endpoint: endpoint)
    }

    private func unexpectedReply(_ request: String) -> DroverError {
        DroverError(.malformedMessage, "The limit service at \(endpoint) answered \(request) with an unexpected kind of reply.")
    }

    private func unreachable() -> DroverError {
        if let refusal = handshakes.refusal(by: "limit service", at: endpoint) { return refusal }
        return DroverError(
            .unavailable,
            "Could not reach a Drover limit service at \(endpoint): no answer within \(ControlClient.seconds(timeout)) s.\n"
                + "Start one with `drover server start`, or point this command at yours with --limits or DROVER_LIMITS.")
    }

    /// Limit names as messages list them: 'a', 'b'.
    static func list(_ names: [String]) -> String {
        names.map { "'\($0)'" }.joined(separator: ", ")
    }
}
