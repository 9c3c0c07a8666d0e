import Foundation
import Testing
import ZeroMQ

/// The only TCP address the tests use: a wildcard port on the loopback interface.
let loopbackWildcard = "tcp://127.0.0.1:*"

/// A fresh inproc endpoint, unique to one test.
func uniqueInproc(_ label: String = "test") -> String {
    "inproc://zeromq-tests-\(label)-\(UUID().uuidString)"
}

/// The guard that turns a lost message into a failure instead of a hang.
let failureGuard: Duration = .seconds(5)

/// Whether `socket` becomes readable within `timeout`.
func isReadable(_ socket: Socket, within timeout: Duration) throws -> Bool {
    var poller = Poller()
    let index = poller.add(socket)
    return try poller.poll(timeout: timeout)[index].contains(.readable)
}

/// Waits for the next message on `socket`, failing the test if none arrives within the guard.
func receiveGuarded(
    _ socket: Socket,
    sourceLocation: SourceLocation = #_sourceLocation
) throws -> Message {
    let readable = try isReadable(socket, within: failureGuard)
    try #require(readable, "no message arrived within the failure guard", sourceLocation: sourceLocation)
    return try #require(try socket.receive(wait: false), sourceLocation: sourceLocation)
}

/// Receives messages until one satisfies `isLast`, returning every message received
/// (the last included). Bounded by `limit` messages and the failure guard per message.
func receiveUntil(
    _ socket: Socket,
    limit: Int,
    sourceLocation: SourceLocation = #_sourceLocation,
    _ isLast: (Message) -> Bool
) throws -> [Message] {
    var received: [Message] = []
    for _ in 0..<limit {
        let message = try receiveGuarded(socket, sourceLocation: sourceLocation)
        received.append(message)
        if isLast(message) { return received }
    }
    Issue.record("the awaited message did not arrive within \(limit) messages", sourceLocation: sourceLocation)
    return received
}

/// Bytes of a UTF-8 string, for frames and byte-valued options.
func bytes(_ text: String) -> [UInt8] {
    Array(text.utf8)
}
