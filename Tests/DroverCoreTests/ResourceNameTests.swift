import DroverCore
import Testing

@Suite struct ResourceNameTests {
    /// Validates `name` and returns the error, failing the test if it was accepted.
    private func rejection(of name: String) throws -> DroverError {
        let error = #expect(throws: DroverError.self) { try ResourceName.validate(name, kind: "work pool") }
        return try #require(error)
    }

    @Test(arguments: [
        "default", "my-pool", "My Pool 2", "a", "pool_with.dots", "café", "k8s:prod", "x-",
        String(repeating: "n", count: ResourceName.maximumLength),
    ])
    func acceptsValidNames(_ name: String) throws {
        #expect(try ResourceName.validate(name, kind: "work pool") == name)
    }

    @Test func rejectsEmptyName() throws {
        let error = try rejection(of: "")
        #expect(error == .invalidArgument("A work pool name cannot be empty."))
    }

    @Test func rejectsNameOverMaximumLength() throws {
        let error = try rejection(of: String(repeating: "n", count: ResourceName.maximumLength + 1))
        #expect(error.code == .invalidArgument)
        #expect(error.message.contains("at most 100 characters (this one has 101)"))
    }

    @Test func rejectsANameOfFewCharactersButManyBytes() throws {
        // One letter and 300,000 combining marks: a single character of 600 kB.
        let huge = "a" + String(repeating: "\u{301}", count: 300_000)
        #expect(huge.count == 1)
        let error = try rejection(of: huge)
        #expect(error.code == .invalidArgument)
        #expect(error.message.contains("at most 400 bytes of UTF-8 (this one has 600001)"), "\(error.message.prefix(300))")
        #expect(error.message.utf8.count < 400, "the name is not echoed whole")
        // A hundred four-byte characters still fit.
        let wide = String(repeating: "\u{1F600}", count: ResourceName.maximumLength)
        #expect(try ResourceName.validate(wide, kind: "work pool") == wide)
    }

    @Test(arguments: [" pool", "pool ", " pool ", "\tpool"])
    func rejectsSurroundingWhitespace(_ name: String) throws {
        let error = try rejection(of: name)
        #expect(error.code == .invalidArgument)
        #expect(error.message.contains("cannot start or end with a space"))
    }

    @Test(arguments: ["a\nb", "a\tb", "a\0b", "a\u{7F}b", "a\rb"])
    func rejectsControlCharacters(_ name: String) throws {
        let error = try rejection(of: name)
        #expect(error.code == .invalidArgument)
        #expect(error.message.contains("control characters"))
        // The echoed name is escaped, so the message itself stays on one line.
        #expect(!error.message.contains("\n"))
        #expect(!error.message.contains("\t"))
        #expect(!error.message.contains("\0"))
    }

    @Test(arguments: ["/", "%", "&", ">", "<"])
    func rejectsEachBannedCharacter(_ banned: String) throws {
        let error = try rejection(of: "a\(banned)b")
        #expect(error.code == .invalidArgument)
        #expect(error.message.contains("cannot contain '\(banned)'"))
    }

    @Test func bannedCharactersAreExactlyPrefectsList() {
        #expect(ResourceName.bannedCharacters.sorted() == ["%", "&", "/", "<", ">"])
    }

    @Test func rejectsLeadingDash() throws {
        let error = try rejection(of: "-pool")
        #expect(error.code == .invalidArgument)
        #expect(error.message.contains("cannot start with '-'"))
        #expect(try ResourceName.validate("po-ol", kind: "work pool") == "po-ol")
    }

    @Test func messageNamesTheKindAndTheName() throws {
        let error = #expect(throws: DroverError.self) { try ResourceName.validate("a/b", kind: "work queue") }
        #expect(error?.message.hasPrefix("Invalid work queue name 'a/b': ") == true)
    }

    @Test func printableEscapesControlCharacters() {
        #expect(ResourceName.printable("a\nb") == "a\\nb")
        #expect(ResourceName.printable("a\tb") == "a\\tb")
        #expect(ResourceName.printable("a\0b") == "a\\0b")
        #expect(ResourceName.printable("a\u{1}b") == "a\\u{01}b")
        #expect(ResourceName.printable("plain name") == "plain name")
        #expect(ResourceName.printable("café") == "café")
    }

    @Test func printableShortensVeryLongText() {
        let long = String(repeating: "x", count: 500)
        #expect(ResourceName.printable(long) == String(repeating: "x", count: 100) + "…")
        let justFits = String(repeating: "x", count: ResourceName.maximumLength + 20)
        #expect(ResourceName.printable(justFits) == justFits)
        let escapes = String(repeating: "\n", count: 61)  // 122 characters once escaped
        #expect(ResourceName.printable(escapes) == String(repeating: "\\n", count: 50) + "…")
    }

    @Test func printableShortensTextOfFewCharactersButManyScalars() {
        let huge = "a" + String(repeating: "\u{301}", count: 300_000)
        let shown = ResourceName.printable(huge)
        #expect(shown.unicodeScalars.count == ResourceName.maximumLength + 1)
        #expect(shown.hasSuffix("…"))
    }
}
