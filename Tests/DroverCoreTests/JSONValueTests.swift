import DroverCore
import Testing

@Suite struct JSONValueTests {
    @Test func parseThenRenderRoundTrips() throws {
        let text = #"{"a":[1,2.5,-3,true,false,null],"b":{"c":"d","e":{}},"f":[],"g":""}"#
        let value = try JSONValue.parse(text, what: "test document")
        #expect(value.render() == text)
        #expect(try JSONValue.parse(value.render(), what: "test document") == value)
    }

    @Test func parseBuildsTheExpectedValue() throws {
        let value = try JSONValue.parse(#"{"n": 2, "s": "x", "l": [null, false]}"#, what: "test document")
        #expect(value == ["n": .number(2), "s": "x", "l": [nil, false]])
    }

    @Test func renderSortsKeys() {
        let value: JSONValue = ["zeta": true, "alpha": "a", "mid": ["y": nil, "b": nil]]
        #expect(value.render() == #"{"alpha":"a","mid":{"b":null,"y":null},"zeta":true}"#)
    }

    @Test func integralNumbersHaveNoFraction() {
        #expect(JSONValue.number(3).render() == "3")
        #expect(JSONValue.number(-42).render() == "-42")
        #expect(JSONValue.number(0).render() == "0")
        #expect(JSONValue.number(1_000_000).render() == "1000000")
        #expect(JSONValue.number(1.5).render() == "1.5")
        #expect(JSONValue.number(-0.25).render() == "-0.25")
    }

    @Test func parsedIntegersRenderWithoutFraction() throws {
        #expect(try JSONValue.parse("[10, 10.0, 7.5]", what: "x").render() == "[10,10,7.5]")
    }

    @Test func stringsAreEscaped() {
        #expect(JSONValue.string(#"say "hi""#).render() == #""say \"hi\"""#)
        #expect(JSONValue.string("a\nb\rc\td").render() == #""a\nb\rc\td""#)
        #expect(JSONValue.string(#"back\slash"#).render() == #""back\\slash""#)
        #expect(JSONValue.string("nul\u{0}bell\u{7}us\u{1F}").render() == #""nul\u0000bell\u0007us\u001f""#)
        #expect(JSONValue.string("ünïcode ✓").render() == "\"ünïcode ✓\"")
    }

    @Test func escapedStringsParseBackToTheSameText() throws {
        let original = JSONValue.string("quote \" newline \n tab \t control \u{1} slash \\")
        #expect(try JSONValue.parse(original.render(), what: "x") == original)
    }

    @Test func booleansStayBooleansAndNumbersStayNumbers() throws {
        let value = try JSONValue.parse(#"{"t": true, "f": false, "one": 1, "zero": 0}"#, what: "x")
        #expect(value["t"] == .bool(true))
        #expect(value["f"] == .bool(false))
        #expect(value["one"] == .number(1))
        #expect(value["zero"] == .number(0))
        #expect(value.render() == #"{"f":false,"one":1,"t":true,"zero":0}"#)
    }

    @Test(arguments: ["{", "{'a': 1}", "nope", #"{"a" 1}"#, ""])
    func invalidJSONIsAnInvalidArgument(_ text: String) throws {
        let error = try #require(throws: DroverError.self) { try JSONValue.parse(text, what: "base job template") }
        #expect(error.code == .invalidArgument)
        #expect(error.message.hasPrefix("The base job template is not valid JSON"))
    }

    @Test func prettyRenderingIndentsByTwoSpaces() {
        let value: JSONValue = ["b": [true, nil], "a": ["c": "d"], "e": [], "f": [:]]
        let expected = """
            {
              "a": {
                "c": "d"
              },
              "b": [
                true,
                null
              ],
              "e": [],
              "f": {}
            }
            """
        #expect(value.render(pretty: true) == expected)
    }

    @Test func accessorsReturnNilForOtherKinds() {
        let value: JSONValue = ["k": "v"]
        #expect(value["k"]?.stringValue == "v")
        #expect(value["missing"] == nil)
        #expect(JSONValue.string("s")["k"] == nil)
        #expect(JSONValue.number(1).stringValue == nil)
        #expect(JSONValue.array([]).objectValue == nil)
    }
}
