import DroverCore
import Foundation

#if canImport(Glibc)
import Glibc
#endif

/// Whether a file holding a secret key is safe to use, as ssh judges a private key: one the
/// user owns must be readable by the user alone (0600); one root owns may also be readable
/// by its group, which root chose (a Kubernetes Secret mounted with an `fsGroup` is
/// root-owned and 0440), but never by others. A file of any other owner is refused.
public enum PrivateFile {
    /// Why a file of `owner` and `mode` is unsafe for `user` to trust; nil when it is safe.
    public static func problem(owner: UInt32, mode: UInt32, user: UInt32) -> String? {
        let permissions = String(mode & 0o7777, radix: 8)
        if owner == user {
            return mode & 0o077 == 0
                ? nil : "can be read by others (mode \(permissions)); run `chmod 600` on it"
        }
        if owner == 0 {
            return mode & 0o007 == 0
                ? nil : "can be read by every user (mode \(permissions), owned by root); run `chmod o-rwx` on it"
        }
        return "belongs to another user (uid \(owner)); it must belong to this user (uid \(user)) or root"
    }

    /// Checks the file at `path` (a symbolic link is followed, as a Kubernetes Secret's files
    /// are links): throws `missing` when there is none, and the problem when it is unsafe.
    public static func check(_ path: String, kind: String, missing: String) throws(DroverError) {
        var status = stat()
        guard stat(path, &status) == 0 else {
            if errno == ENOENT { throw .notFound(missing) }
            throw .failedPrecondition("Could not read \(kind) \(path): \(String(cString: strerror(errno))).")
        }
        if let problem = problem(owner: status.st_uid, mode: status.st_mode, user: geteuid()) {
            throw .failedPrecondition("\(kind.prefix(1).uppercased() + kind.dropFirst()) \(path) \(problem).")
        }
    }
}

extension PrivateFile {
    /// Creates `path` with `contents`, readable and writable by its owner only from the
    /// start (`O_EXCL`: never over an existing file, never readable by others for a moment).
    public static func create(at path: String, contents: [UInt8]) throws(DroverError) {
        let fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, mode_t(KeyFile.permissions))
        guard fd >= 0 else {
            if errno == EEXIST {
                throw .alreadyExists("\(path) already exists; remove it or write the key elsewhere with --output.")
            }
            throw .failedPrecondition(
                "Could not create \(path): \(String(cString: strerror(errno))). Check that its folder exists and is writable.")
        }
        defer { close(fd) }
        let written = contents.withUnsafeBytes { Glibc.write(fd, $0.baseAddress, $0.count) }
        guard written == contents.count, fsync(fd) == 0 else {
            throw .failedPrecondition("Could not write \(path): \(String(cString: strerror(errno))).")
        }
    }
}
