import DroverCore
import Testing

@Suite struct ConcurrencyLimitTests {
    @Test(arguments: [("0", 0), ("5", 5), (" 7 ", 7), ("1000000", 1_000_000)] as [(String, UInt32)])
    func parsesWholeNumbers(_ text: String, _ expected: UInt32) throws {
        #expect(try ConcurrencyLimit.parse(text, of: "work pool 'p'") == expected)
    }

    @Test(arguments: ["abc", "1.5", "", "  ", "5x"])
    func rejectsTextThatIsNotAWholeNumber(_ text: String) throws {
        let error = try #require(throws: DroverError.self) { try ConcurrencyLimit.parse(text, of: "work pool 'p'") }
        #expect(error == .invalidArgument("Concurrency limit for work pool 'p' must be a whole number; got '\(text)'."))
    }

    @Test func rejectsNegativeNumbers() throws {
        let error = try #require(throws: DroverError.self) { try ConcurrencyLimit.parse("-1", of: "work pool 'p'") }
        #expect(error == .invalidArgument("Concurrency limit for work pool 'p' cannot be negative; got -1."))
    }

    @Test func rejectsNumbersAboveTheMaximum() throws {
        let error = try #require(throws: DroverError.self) {
            try ConcurrencyLimit.parse("1000001", of: "work queue 'q'")
        }
        #expect(
            error
                == .invalidArgument(
                    "Concurrency limit for work queue 'q' must be between 0 and 1000000; got 1000001."))
    }

    @Test func validateAcceptsZeroThroughMaximum() throws {
        try ConcurrencyLimit.validate(0, of: "x")
        try ConcurrencyLimit.validate(17, of: "x")
        try ConcurrencyLimit.validate(ConcurrencyLimit.maximum, of: "x")
    }

    @Test func validateRejectsAboveMaximum() throws {
        let error = try #require(throws: DroverError.self) {
            try ConcurrencyLimit.validate(ConcurrencyLimit.maximum + 1, of: "work pool 'p'")
        }
        #expect(error.code == .invalidArgument)
        #expect(error.message.contains("work pool 'p'"))
        #expect(error.message.contains("got 1000001"))
    }

    @Test func queuePriorityAcceptsOneThroughMaximum() throws {
        try QueuePriority.validate(1)
        try QueuePriority.validate(QueuePriority.maximum)
    }

    @Test(arguments: [0, QueuePriority.maximum + 1])
    func queuePriorityRejectsOutOfRange(_ priority: UInt32) throws {
        let error = try #require(throws: DroverError.self) { try QueuePriority.validate(priority) }
        #expect(error == .invalidArgument("Priority must be between 1 (first) and 1000000; got \(priority)."))
    }
}
