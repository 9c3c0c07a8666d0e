import DroverCore
import Foundation

#if canImport(Glibc)
import Glibc
#endif

/// A `DROVER_HOME` held exclusively by one server (`server.lock`) or one limit service
/// (`limits.lock`) while it runs.
///
/// Two servers on one home would each keep their own in-memory state over one store
/// and undo each other's changes, so the second one is refused with a clear message.
/// The lock is an advisory `flock`: the kernel drops it when the process dies, so a
/// crashed server never leaves a stale lock behind.
public final class HomeLock {
    /// Who takes the lock, and the file it locks.
    public enum Role: Sendable {
        case server
        case limitService

        var lockFile: String { self == .server ? "server.lock" : "limits.lock" }
        var title: String { self == .server ? "Drover server" : "Drover limit service" }
    }

    public let url: URL
    private let lockDescriptor: Int32

    /// The coordinator's store file.
    public var databasePath: String { url.appendingPathComponent("drover.db").path }

    /// Creates the home if needed and locks it for `role`, or throws saying who holds it.
    public init(_ url: URL, role: Role = .server) throws(DroverError) {
        self.url = url
        do {
            try FileManager.default.createDirectory(
                at: url, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700])
        } catch {
            throw DroverError(.failedPrecondition, "Could not create DROVER_HOME at \(url.path): \(error.localizedDescription)")
        }
        let lockPath = url.appendingPathComponent(role.lockFile).path
        let fd = open(lockPath, O_RDWR | O_CREAT | O_CLOEXEC, 0o600)
        guard fd >= 0 else {
            throw DroverError(.failedPrecondition, "Could not open \(lockPath): \(String(cString: strerror(errno))).")
        }
        guard flock(fd, LOCK_EX | LOCK_NB) == 0 else {
            var buffer = [UInt8](repeating: 0, count: 32)
            let count = pread(fd, &buffer, buffer.count, 0)
            let pid =
                count > 0 ? String(decoding: buffer.prefix(count), as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines) : "?"
            close(fd)
            throw DroverError(
                .failedPrecondition,
                "Another \(role.title) (pid \(pid)) is already using DROVER_HOME \(url.path). "
                    + "Stop it first, or give this one another --home.")
        }
        let pid = Array("\(getpid())\n".utf8)
        _ = ftruncate(fd, 0)
        _ = pwrite(fd, pid, pid.count, 0)
        lockDescriptor = fd
    }

    deinit {
        flock(lockDescriptor, LOCK_UN)
        close(lockDescriptor)
    }
}
