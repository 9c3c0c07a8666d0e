import DroverCore
import Testing

@Suite struct KeyValueArgumentTests {
    @Test func readsJSONValuesAndFallsBackToStrings() throws {
        let parsed = try KeyValueArgument.parse(
            [
                "count=1", "ratio=1.5", "flag=true", "off=false", "nothing=null", "list=[1, \"a\"]",
                #"object={"x": {"y": 2}}"#, #"quoted="42""#, "word=hello", "padded=007", "empty=",
                "equation=a=b", "sentence=hello world",
            ],
            what: "--param")
        #expect(
            parsed == [
                "count": .number(1), "ratio": .number(1.5), "flag": true, "off": false, "nothing": .null,
                "list": [.number(1), "a"], "object": ["x": ["y": .number(2)]], "quoted": "42", "word": "hello",
                "padded": "007", "empty": "", "equation": "a=b", "sentence": "hello world",
            ])
    }

    @Test func theLastRepeatedKeyWins() throws {
        #expect(try KeyValueArgument.parse(["a=1", "b=x", "a=2"], what: "--param") == ["a": .number(2), "b": "x"])
    }

    @Test func noItemsGiveNoMembers() throws {
        #expect(try KeyValueArgument.parse([], what: "--param") == [:])
    }

    @Test(arguments: ["novalue", "=5", "="])
    func refusesItemsWithoutAKey(_ item: String) throws {
        let error = try #require(throws: DroverError.self) {
            try KeyValueArgument.parse(["ok=1", item], what: "--job-variable")
        }
        #expect(error == .invalidArgument("Expected KEY=VALUE for --job-variable, got '\(item)'."))
    }
}
