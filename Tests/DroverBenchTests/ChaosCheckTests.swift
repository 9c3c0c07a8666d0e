import DroverBench
import Testing

/// The chaos soak's checker: the journal the runs write, and the limits read from it.
@Suite struct ChaosCheckTests {
    let limits = ChaosCheck.Limits(
        poolOfDeployment: ["short": "a", "tagged": "a", "other": "b"], poolLimits: ["a": 2, "b": 1],
        workerLimits: ["w1": 1, "w2": 2], taggedDeployments: ["tagged"], tagLimit: 1, allRunsLimit: 3)

    @Test func theJournalPairsStartsWithEndsAndFindsAttemptsStartedTwice() {
        let journal = ChaosJournal(
            """
            short r1 1 w1 start 100
            short r1 1 w1 end 200
            short r2 1 w2 start 150
            short r2 1 w2 start 160
            garbage
            other r3 2 w2 start 300
            """)
        #expect(journal.attempts.map(\.key) == ["r1#1", "r2#1", "r3#2"])
        #expect(journal.attempts.map(\.end) == [200, nil, nil])
        #expect(journal.startedTwice == ["r2#1"])
        #expect(journal.unreadable == 1)
    }

    @Test func attemptsOneAfterAnotherAreNoViolation() {
        let journal = ChaosJournal(
            """
            short r1 1 w1 start 100
            short r1 1 w1 end 200
            short r2 1 w1 start 200
            short r2 1 w1 end 300
            """)
        #expect(ChaosCheck(limits: limits).violations(of: journal.attempts, workerDeaths: [:], horizon: 1000).isEmpty)
    }

    @Test func everyKindOfLimitIsChecked() {
        let check = ChaosCheck(limits: limits)
        func violations(_ text: String, deaths: [String: UInt64] = [:]) -> [String] {
            check.violations(of: ChaosJournal(text).attempts, workerDeaths: deaths, horizon: 1000).map(\.limit)
        }
        // Two runs at once on a worker of limit 1.
        #expect(
            violations("short r1 1 w1 start 100\nshort r2 1 w1 start 150\nshort r1 1 w1 end 200\nshort r2 1 w1 end 250")
                == ["worker w1"])
        // Three runs of pool a (limit 2) over two workers.
        #expect(
            violations("short r1 1 w2 start 100\nshort r2 1 w2 start 110\nshort r3 1 w1 start 120\n")
                .contains("pool a"))
        // Two tagged runs at once.
        #expect(violations("tagged r1 1 w1 start 100\ntagged r2 1 w2 start 110").contains("tag"))
        // Four runs anywhere at once.
        #expect(
            violations("short r1 1 w2 start 1\nshort r2 1 w2 start 2\nother r3 1 w1 start 3\nother r4 1 w9 start 4")
                .contains("all runs"))
        // A run without an end lasted until its worker was killed, not beyond.
        #expect(violations("short r1 1 w1 start 100\nshort r2 1 w1 start 300", deaths: ["w1": 200]).isEmpty)
        #expect(violations("short r1 1 w1 start 100\nshort r2 1 w1 start 300") == ["worker w1"])
    }

    @Test func theRunCommandJournalsItsStartAndEndAndTrapsTERM() {
        let command = ChaosJournal.command(deployment: "short", journal: "/tmp/j", seconds: 0.5, exitCode: 3)
        #expect(command.contains("trap 'echo \"short $DROVER_FLOW_RUN_ID $DROVER_FLOW_RUN_ATTEMPT $CHAOS_WORKER end"))
        #expect(command.contains("sleep 0.5 & wait $!"))
        #expect(command.hasSuffix("exit 3"))
    }
}
