import Foundation

/// A fresh directory under the system's temporary directory, removed by `remove()` or
/// when the value is released.
public final class TemporaryDirectory: @unchecked Sendable {
    public let url: URL

    public var path: String { url.path }

    public init(prefix: String = "drover-test") throws {
        url = FileManager.default.temporaryDirectory
            .appendingPathComponent("\(prefix)-\(UUID().uuidString.prefix(8))", isDirectory: true)
        try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
    }

    /// A path inside the directory (not created).
    public func file(_ name: String) -> URL {
        url.appendingPathComponent(name)
    }

    public func remove() {
        try? FileManager.default.removeItem(at: url)
    }

    deinit {
        remove()
    }
}
