import Foundation

#if canImport(Glibc)
import Glibc
#endif

/// The processes of a process group, read from `/proc`: a run's processes are the group
/// its first process leads, so the group being empty means the run left nothing behind.
enum ProcessGroup {
    /// The pids of living (not zombie) processes whose process group is `id`.
    static func livingMembers(of id: Int32) -> [Int32] {
        guard let entries = try? FileManager.default.contentsOfDirectory(atPath: "/proc") else { return [] }
        return entries.compactMap { entry -> Int32? in
            guard let pid = Int32(entry),
                let stat = try? String(contentsOfFile: "/proc/\(entry)/stat", encoding: .utf8),
                let close = stat.lastIndex(of: ")")
            else { return nil }
            // After "pid (comm)": state, ppid, pgrp, …
            let fields = stat[stat.index(after: close)...].split(separator: " ")
            guard fields.count > 2, fields[0] != "Z", Int32(fields[2]) == id else { return nil }
            return pid
        }
    }

    /// Waits (bounded, reading `/proc` every 20 ms) until the group has no living member;
    /// true if it emptied.
    static func awaitEmpty(_ id: Int32, seconds: Double) async -> Bool {
        let deadline = Date(timeIntervalSinceNow: seconds)
        while !livingMembers(of: id).isEmpty {
            if Date() > deadline { return false }
            try? await Task.sleep(for: .milliseconds(20))
        }
        return true
    }

    /// SIGKILLs every living member: the cleanup for a run whose worker could not.
    static func kill(_ id: Int32) {
        for pid in livingMembers(of: id) { _ = Glibc.kill(pid, SIGKILL) }
    }
}
