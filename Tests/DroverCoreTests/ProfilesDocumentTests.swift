import DroverCore
import Testing

@Suite struct ProfilesDocumentTests {
    private func lineError(_ text: String) throws -> DroverError {
        let error = try #require(throws: DroverError.self) { try ProfilesDocument(parsing: text) }
        #expect(error.code == .invalidArgument)
        return error
    }

    @Test func parsesTheDocumentedExample() throws {
        let text = """
            active = "default"

            [profiles.default]
            DROVER_SERVER = "tcp://127.0.0.1:4201"
            """
        let document = try ProfilesDocument(parsing: text)
        #expect(
            document
                == ProfilesDocument(
                    active: "default", profiles: ["default": ["DROVER_SERVER": "tcp://127.0.0.1:4201"]]))
    }

    @Test func renderIsSortedAndStable() {
        let document = ProfilesDocument(
            active: "dev",
            profiles: ["dev": ["B": "2", "A": "1"], "prod": [:], "default": ["DROVER_SERVER": "tcp://h:1"]])
        #expect(
            document.render() == """
                active = "dev"

                [profiles.default]
                DROVER_SERVER = "tcp://h:1"

                [profiles.dev]
                A = "1"
                B = "2"

                [profiles.prod]

                """)
    }

    @Test func renderThenParseRoundTrips() throws {
        let document = ProfilesDocument(
            active: "with space",
            profiles: [
                "default": [:],
                "with space": ["DROVER_SERVER": "tcp://127.0.0.1:4201", "DROVER_LOGGING_LEVEL": "debug"],
                "odd \"quoted\" # name.x": ["K": "v"],
                "escapes": ["K": "quote \" backslash \\ newline \n tab \t cr \r hash # end"],
                "ünïcode": ["K": "✓"],
            ])
        let text = document.render()
        #expect(try ProfilesDocument(parsing: text) == document)
        #expect(try ProfilesDocument(parsing: text).render() == text)
    }

    @Test func commentsAndBlankLinesAreIgnored() throws {
        let text = """
            # Drover profiles
            active = "dev"   # the one in use

              [profiles.dev]  # trailing comment
            # DROVER_SERVER = "tcp://commented:1"
            DROVER_SERVER = "tcp://h:1#not-a-comment" # but this is
            """
        let document = try ProfilesDocument(parsing: text)
        #expect(document == ProfilesDocument(active: "dev", profiles: ["dev": ["DROVER_SERVER": "tcp://h:1#not-a-comment"]]))
    }

    @Test func quotedProfileNames() throws {
        let document = try ProfilesDocument(
            parsing: """
                [profiles."my profile"]
                K = "v"
                [profiles."a.b"]
                """)
        #expect(document.profiles == ["my profile": ["K": "v"], "a.b": [:]])
    }

    @Test func escapesInValues() throws {
        let document = try ProfilesDocument(
            parsing: #"""
                [profiles.p]
                K = "a\"b\\c\nd\te"
                """#)
        #expect(document.profiles["p"]?["K"] == "a\"b\\c\nd\te")
    }

    @Test func bareValuesAreReadAsText() throws {
        let document = try ProfilesDocument(
            parsing: """
                [profiles.p]
                DROVER_CLIENT_TIMEOUT = 10
                FLAG = true
                """)
        #expect(document.profiles["p"] == ["DROVER_CLIENT_TIMEOUT": "10", "FLAG": "true"])
    }

    @Test func repeatedTablesMerge() throws {
        let document = try ProfilesDocument(
            parsing: """
                [profiles.p]
                A = "1"
                [profiles.q]
                [profiles.p]
                B = "2"
                """)
        #expect(document.profiles == ["p": ["A": "1", "B": "2"], "q": [:]])
    }

    @Test func windowsLineEndingsAreRead() throws {
        let text = "active = \"p\"\r\n\r\n[profiles.p]\r\nK = \"v\"\r\n"
        #expect(try ProfilesDocument(parsing: text) == ProfilesDocument(active: "p", profiles: ["p": ["K": "v"]]))
    }

    @Test func emptyTextGivesADefaultProfile() throws {
        #expect(try ProfilesDocument(parsing: "") == ProfilesDocument())
        #expect(try ProfilesDocument(parsing: "\n# nothing\n\n") == ProfilesDocument())
        #expect(ProfilesDocument() == ProfilesDocument(active: "default", profiles: ["default": [:]]))
    }

    @Test func activeWithoutProfilesGetsAnEmptyProfile() throws {
        #expect(try ProfilesDocument(parsing: #"active = "dev""#) == ProfilesDocument(active: "dev", profiles: ["dev": [:]]))
    }

    @Test func unknownTableNamesItsLine() throws {
        let error = try lineError("active = \"default\"\n\n[other]\n")
        #expect(error.message == "profiles.toml line 3: expected a table such as [profiles.default]")
    }

    @Test func unclosedTableNamesItsLine() throws {
        let error = try lineError("[profiles.p")
        #expect(error.message.hasPrefix("profiles.toml line 1: "))
    }

    @Test func emptyProfileNameIsRejected() throws {
        let error = try lineError("# c\n[profiles.]")
        #expect(error.message == "profiles.toml line 2: a profile needs a name")
    }

    @Test func lineWithoutEqualsNamesItsLine() throws {
        let error = try lineError("[profiles.p]\nA = \"1\"\nkey without equals\n")
        #expect(error.message == "profiles.toml line 3: expected KEY = \"value\"")
    }

    @Test func missingKeyNamesItsLine() throws {
        let error = try lineError("[profiles.p]\n= \"1\"")
        #expect(error.message == "profiles.toml line 2: a key is missing before '='")
    }

    @Test(arguments: [#"K = "open"#, #"K = "a"b""#, #"K = "ends in backslash\""#, #"K = ""#])
    func unterminatedStringNamesItsLine(_ line: String) throws {
        let error = try lineError("[profiles.p]\n\n\(line)")
        #expect(error.message == "profiles.toml line 3: unterminated string")
    }

    @Test func badQuotedProfileNameNamesItsLine() throws {
        let error = try lineError("[profiles.\"open]")
        #expect(error.message == "profiles.toml line 1: bad quoted name")
    }

    @Test func unknownTopLevelKeyNamesItsLine() throws {
        let error = try lineError("active = \"default\"\nDROVER_SERVER = \"tcp://h:1\"")
        #expect(error.message == "profiles.toml line 2: unknown top-level key 'DROVER_SERVER'")
    }
}
