/// A multipart ZeroMQ message: one or more frames, delivered together or not at all.
///
/// Frames are copied out of libzmq on receive; for Drover's small control and
/// dispatch messages a copy is cheaper than any zero-copy scheme. Two messages are equal
/// when their frames are: where a message came from is not part of what it says.
public struct Message: Sendable, Equatable, ExpressibleByArrayLiteral {
    /// The frames, in order. A ROUTER puts the sender's routing id first.
    public var frames: [[UInt8]]

    /// The file descriptor of the TCP (or IPC) connection a received message came in on
    /// (libzmq's `ZMQ_SRCFD`); nil for a message built here or received over inproc.
    ///
    /// A descriptor names a connection only while it is open: the kernel gives a closed
    /// one's number to the next connection. `SocketMonitor` reports when each opens and closes.
    public var sourceFD: Int32?

    /// The user id the ZAP handler gave the peer that sent this message when it connected
    /// (`ZAP.Verdict.allow`); nil where no handler authenticated it.
    public var userID: String?

    public init(_ frames: [[UInt8]]) {
        self.frames = frames
    }

    public static func == (lhs: Message, rhs: Message) -> Bool {
        lhs.frames == rhs.frames
    }

    public init(arrayLiteral frames: [UInt8]...) {
        self.frames = frames
    }

    /// A message of UTF-8 text frames.
    public init(strings: [String]) {
        self.frames = strings.map { Array($0.utf8) }
    }

    /// The frames decoded as UTF-8 text.
    public var strings: [String] {
        frames.map { String(decoding: $0, as: UTF8.self) }
    }

    /// The total size of the frames in bytes.
    public var byteCount: Int {
        frames.reduce(0) { $0 + $1.count }
    }
}
