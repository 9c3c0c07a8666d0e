import CZeroMQ

/// The ZeroMQ socket patterns Drover uses.
public enum SocketType: Sendable, CaseIterable {
    /// Routes by peer identity; the coordinator's control, dispatch and limits endpoints.
    case router
    /// Asynchronous request side; workers and clients.
    case dealer
    /// Publishes events to subscribers; drops messages for slow subscribers.
    case publisher
    /// Receives published events for the topics it subscribed to.
    case subscriber
    /// Exclusive pair, for inproc links between two threads.
    case pair
    /// Lock-step request side.
    case request
    /// Lock-step reply side.
    case reply

    var rawValue: Int32 {
        switch self {
        case .router: ZMQ_ROUTER
        case .dealer: ZMQ_DEALER
        case .publisher: ZMQ_PUB
        case .subscriber: ZMQ_SUB
        case .pair: ZMQ_PAIR
        case .request: ZMQ_REQ
        case .reply: ZMQ_REP
        }
    }
}
