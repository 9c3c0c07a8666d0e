/// A request Drover refused or could not carry out, with a message for people.
///
/// The message says what is wrong and, where it can, what to do next; the CLI prints
/// it as is. The code is what programs branch on, and maps one to one onto the wire
/// protocol's error codes.
public struct DroverError: Error, Sendable, Equatable, CustomStringConvertible {
    /// Why a request failed.
    public enum Code: Sendable, Equatable, CaseIterable {
        /// The named object does not exist.
        case notFound
        /// An object with that name already exists.
        case alreadyExists
        /// The request itself is wrong: a bad name, a limit out of range, a malformed template.
        case invalidArgument
        /// The request is valid but the current state forbids it (deleting a default queue).
        case failedPrecondition
        /// The peer speaks another protocol version.
        case unsupportedVersion
        /// A frame that is not a Drover message.
        case malformedMessage
        /// The server could not be reached or is shutting down.
        case unavailable
        /// A fault inside Drover, such as a store failure.
        case `internal`
        /// The client's key may not do this (its role), or the server refused the key.
        case permissionDenied
    }

    public let code: Code
    public let message: String

    public init(_ code: Code, _ message: String) {
        self.code = code
        self.message = message
    }

    public var description: String { message }

    public static func notFound(_ message: String) -> DroverError { .init(.notFound, message) }
    public static func alreadyExists(_ message: String) -> DroverError { .init(.alreadyExists, message) }
    public static func invalidArgument(_ message: String) -> DroverError { .init(.invalidArgument, message) }
    public static func failedPrecondition(_ message: String) -> DroverError { .init(.failedPrecondition, message) }
    public static func permissionDenied(_ message: String) -> DroverError { .init(.permissionDenied, message) }
}
