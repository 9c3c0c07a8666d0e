import DroverCore
import Foundation

// A key file on disk: read only when it is private, written private from the start.

extension KeyFile {
    /// Reads the key file at `path`; refuses one that others can read, as ssh does
    /// (`PrivateFile`).
    public static func read(from path: String) throws(DroverError) -> KeyFile {
        try PrivateFile.check(
            path, kind: "key file",
            missing: "No key file at \(path). Create one on the server's host with `drover keys create NAME --role ROLE`.")
        guard let data = FileManager.default.contents(atPath: path),
            let file = try? JSONDecoder().decode(KeyFile.self, from: data)
        else {
            throw .invalidArgument("\(path) is not a Drover key file (one written by `drover keys create`).")
        }
        guard file.version == Self.version else {
            throw .invalidArgument("Key file \(path) is of version \(file.version); this drover reads version \(Self.version).")
        }
        return file
    }

    /// Writes the key to a new file at `path`, 0600; never overwrites one.
    public func write(to path: String) throws(DroverError) {
        try PrivateFile.create(at: path, contents: try encoded())
    }
}
