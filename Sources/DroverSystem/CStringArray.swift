#if canImport(Glibc)
import Glibc
#endif

/// Arguments for C calls such as `posix_spawn`, which take NULL-terminated arrays of C strings.
public enum CStringArray {
    /// Calls `body` with a NULL-terminated array of C strings copied from `strings`, or with
    /// `nil` if memory ran out. The copies are freed when `body` returns.
    public static func with<R>(
        _ strings: [String], _ body: (UnsafePointer<UnsafeMutablePointer<CChar>?>?) -> R
    ) -> R {
        let copies: [UnsafeMutablePointer<CChar>?] = strings.map { strdup($0) } + [nil]
        defer { copies.forEach { free($0) } }
        guard copies.dropLast().allSatisfy({ $0 != nil }) else { return body(nil) }
        return copies.withUnsafeBufferPointer { body($0.baseAddress) }
    }
}
