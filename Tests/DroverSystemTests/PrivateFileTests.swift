import DroverCore
import DroverSystem
import DroverTestSupport
import Foundation
import Testing

@Suite struct PrivateFileTests {
    static let user: UInt32 = 10001

    @Test func aFileOfItsOwnUserMustBeReadableByThatUserAlone() {
        #expect(PrivateFile.problem(owner: Self.user, mode: 0o100600, user: Self.user) == nil)
        #expect(PrivateFile.problem(owner: Self.user, mode: 0o100400, user: Self.user) == nil)
        for mode: UInt32 in [0o100640, 0o100604, 0o100660, 0o100644] {
            let problem = PrivateFile.problem(owner: Self.user, mode: mode, user: Self.user)
            #expect(problem?.contains("chmod 600") == true, "mode \(String(mode, radix: 8))")
        }
    }

    /// A Kubernetes Secret mounted with an fsGroup: root owns it, the pod's group reads it.
    @Test func aFileOfRootMayBeReadByItsGroupButNotByOthers() {
        #expect(PrivateFile.problem(owner: 0, mode: 0o100440, user: Self.user) == nil)
        #expect(PrivateFile.problem(owner: 0, mode: 0o100400, user: Self.user) == nil)
        let open = PrivateFile.problem(owner: 0, mode: 0o100444, user: Self.user)
        #expect(open?.contains("every user") == true && open?.contains("chmod o-rwx") == true)
    }

    @Test func aFileOfAnotherUserIsRefused() {
        let problem = PrivateFile.problem(owner: 1000, mode: 0o100600, user: Self.user)
        #expect(problem?.contains("uid 1000") == true && problem?.contains("uid 10001") == true)
    }

    /// Root's own files follow the owner's rule: 0600.
    @Test func rootReadingItsOwnFileNeedsItPrivate() {
        #expect(PrivateFile.problem(owner: 0, mode: 0o100600, user: 0) == nil)
        #expect(PrivateFile.problem(owner: 0, mode: 0o100440, user: 0) != nil)
    }

    /// A Secret's files are symbolic links (0777 themselves): the file they lead to is judged.
    @Test func aSymbolicLinkIsFollowed() throws {
        let folder = try TemporaryDirectory()
        let target = folder.file("target").path
        try PrivateFile.create(at: target, contents: Array("{}".utf8))
        let link = folder.file("link").path
        try FileManager.default.createSymbolicLink(atPath: link, withDestinationPath: target)
        try PrivateFile.check(link, kind: "key file", missing: "none")
        try FileManager.default.setAttributes([.posixPermissions: 0o644], ofItemAtPath: target)
        let exposed = #expect(throws: DroverError.self) { try PrivateFile.check(link, kind: "key file", missing: "none") }
        #expect(exposed?.message.hasPrefix("Key file \(link) can be read by others") == true)
        let missing = #expect(throws: DroverError.self) {
            try PrivateFile.check(folder.file("none").path, kind: "key file", missing: "No key file there.")
        }
        #expect(missing?.code == .notFound && missing?.message == "No key file there.")
    }
}
