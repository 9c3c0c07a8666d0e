import CZeroMQ

/// ZeroMQ's authentication protocol (ZAP, RFC 27): libzmq asks a handler bound at
/// `ZAP.endpoint` in the same context whether each peer completing a handshake on a socket
/// with a `zapDomain` may connect. The handler answers on a REP socket; libzmq waits for it.
///
/// A socket with `zapEnforceDomain` fails every handshake when no handler answers, so a
/// server that meant to authenticate never runs open by mistake.
public enum ZAP {
    /// Where libzmq sends its requests; bind the handler here before any server socket binds.
    public static let endpoint = "inproc://zeromq.zap.01"

    /// One request: who is completing a handshake, and with what.
    public struct Request: Sendable, Equatable {
        public let requestID: [UInt8]
        public let domain: String
        /// The peer's address (an IP for TCP).
        public let address: String
        public let routingID: [UInt8]
        /// "NULL", "PLAIN" or "CURVE".
        public let mechanism: String
        public let credentials: [[UInt8]]

        /// Reads the frames a REP socket receives; nil for anything but a version 1.0 request.
        public init?(frames: [[UInt8]]) {
            guard frames.count >= 6, String(decoding: frames[0], as: UTF8.self) == "1.0" else { return nil }
            requestID = frames[1]
            domain = String(decoding: frames[2], as: UTF8.self)
            address = String(decoding: frames[3], as: UTF8.self)
            routingID = frames[4]
            mechanism = String(decoding: frames[5], as: UTF8.self)
            credentials = Array(frames.dropFirst(6))
        }

        /// For CURVE, the client's long-term public key in Z85 (40 characters).
        public var curvePublicKey: String? {
            guard mechanism == "CURVE", let key = credentials.first, key.count == 32 else { return nil }
            return Z85.encode(key)
        }

        /// The reply frames: 200 with the user id every later message of the peer carries
        /// (`Message.userID`), or 400 with the reason.
        public func reply(_ verdict: Verdict) -> [[UInt8]] {
            let (status, text, userID): (String, String, String) =
                switch verdict {
                case .allow(let userID): ("200", "OK", userID)
                case .deny(let reason): ("400", reason, "")
                }
            return [Array("1.0".utf8), requestID, Array(status.utf8), Array(text.utf8), Array(userID.utf8), []]
        }
    }

    public enum Verdict: Sendable, Equatable {
        case allow(userID: String)
        case deny(reason: String)
    }
}

/// ZeroMQ's Z85 text encoding of binary keys (RFC 32).
public enum Z85 {
    /// `bytes` (a multiple of 4 long, such as a 32-byte key) as Z85 text.
    public static func encode(_ bytes: [UInt8]) -> String {
        precondition(bytes.count % 4 == 0, "Z85 encodes whole 4-byte groups")
        var text = [CChar](repeating: 0, count: bytes.count * 5 / 4 + 1)
        _ = bytes.withUnsafeBufferPointer { zmq_z85_encode(&text, $0.baseAddress, $0.count) }
        return String(decoding: text.dropLast().map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }

    /// The bytes of Z85 `text`; nil when it is not Z85 (a multiple of 5 characters of its alphabet).
    public static func decode(_ text: String) -> [UInt8]? {
        guard !text.isEmpty, text.utf8.count % 5 == 0 else { return nil }
        var bytes = [UInt8](repeating: 0, count: text.utf8.count * 4 / 5)
        let decoded = bytes.withUnsafeMutableBufferPointer { zmq_z85_decode($0.baseAddress, text) }
        return decoded == nil ? nil : bytes
    }
}
