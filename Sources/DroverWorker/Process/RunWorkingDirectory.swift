import DroverCore
import Foundation

#if canImport(Glibc)
import Glibc
#endif

/// Fresh, private working directories for runs that do not name one:
/// `/tmp/drover-run-XXXXXX`, created with `mkdtemp` (mode 0700, a name no one else has).
public enum RunWorkingDirectory {
    /// The start of every directory name `create` makes.
    public static let namePrefix = "drover-run-"

    /// Creates a new empty directory `parent/drover-run-XXXXXX` and returns its path.
    ///
    /// - Throws: `DroverError(.failedPrecondition)` naming the parent and the errno when it
    ///   cannot be created (missing parent, no space, no permission).
    public static func create(in parent: String = "/tmp") throws(DroverError) -> String {
        var template = Array("\(parent)/\(namePrefix)XXXXXX".utf8CString)
        let created = template.withUnsafeMutableBufferPointer { mkdtemp($0.baseAddress!) }
        guard let created else {
            throw .failedPrecondition(
                "cannot create a working directory for the run in '\(parent)': \(errnoDescription(errno))")
        }
        return String(cString: created)
    }

    /// Removes `path` and everything in it. Removing a directory that is already gone
    /// succeeds.
    ///
    /// - Throws: `DroverError(.invalidArgument)` if `path`'s last component does not start
    ///   with `namePrefix`, so a wrong path can never remove someone else's files;
    ///   `DroverError(.failedPrecondition)` if something inside could not be removed.
    public static func remove(_ path: String) throws(DroverError) {
        let url = URL(fileURLWithPath: path)
        guard url.lastPathComponent.hasPrefix(namePrefix) else {
            throw .invalidArgument("'\(path)' is not a run working directory (\(namePrefix)…); not removing it")
        }
        guard FileManager.default.fileExists(atPath: path) else { return }
        do {
            try FileManager.default.removeItem(at: url)
        } catch {
            throw .failedPrecondition("cannot remove the run working directory '\(path)': \(error)")
        }
    }
}
