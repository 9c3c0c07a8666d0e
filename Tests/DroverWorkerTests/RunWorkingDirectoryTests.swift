import DroverCore
import DroverTestSupport
import DroverWorker
import Foundation
import Testing

/// Temporary working directories for runs without a working_dir.
@Suite struct RunWorkingDirectoryTests {
    @Test func createsAFreshPrivateDirectoryUnderTmp() throws {
        let first = try RunWorkingDirectory.create()
        defer { try? RunWorkingDirectory.remove(first) }
        let second = try RunWorkingDirectory.create()
        defer { try? RunWorkingDirectory.remove(second) }

        #expect(first.hasPrefix("/tmp/drover-run-"))
        #expect(first != second)
        var isDirectory: ObjCBool = false
        #expect(FileManager.default.fileExists(atPath: first, isDirectory: &isDirectory) && isDirectory.boolValue)
        let attributes = try FileManager.default.attributesOfItem(atPath: first)
        #expect((attributes[.posixPermissions] as? Int) == 0o700)
    }

    @Test func removesTheDirectoryWithEverythingInIt() throws {
        let path = try RunWorkingDirectory.create()
        try FileManager.default.createDirectory(atPath: path + "/nested/deeper", withIntermediateDirectories: true)
        try Data("flow output".utf8).write(to: URL(fileURLWithPath: path + "/nested/deeper/result.txt"))
        try Data("log".utf8).write(to: URL(fileURLWithPath: path + "/run.log"))

        try RunWorkingDirectory.remove(path)
        #expect(!FileManager.default.fileExists(atPath: path))
        try RunWorkingDirectory.remove(path)  // Already gone: fine.
    }

    @Test func refusesToRemoveADirectoryItDidNotName() throws {
        let other = try TemporaryDirectory()
        defer { other.remove() }
        let error = #expect(throws: DroverError.self) { try RunWorkingDirectory.remove(other.path) }
        #expect(error?.code == .invalidArgument)
        #expect(FileManager.default.fileExists(atPath: other.path))
    }

    @Test func missingParentIsAClearError() {
        let error = #expect(throws: DroverError.self) {
            try RunWorkingDirectory.create(in: "/tmp/drover-no-such-parent-\(UUID().uuidString)")
        }
        #expect(error?.code == .failedPrecondition)
        #expect(error?.message.contains("No such file or directory") == true)
    }
}
