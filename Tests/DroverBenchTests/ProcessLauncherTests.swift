import DroverBench
import DroverCore
import Testing

#if canImport(Glibc)
import Glibc
#endif

/// Real processes through the launcher: exits come back through its descriptor, nothing
/// sleeps, and every test shuts its launcher down.
@Suite struct ProcessLauncherTests {
    /// How long a test waits for exits: a failure guard, never a pause.
    static let exitGuard: Duration = .seconds(30)

    @Test func exitStatusesComeBackThroughTheDescriptor() throws {
        let launcher = try ProcessLauncher()
        defer { launcher.shutdown() }
        let truePID = try launcher.launch(["true"], tag: 1)
        let falsePID = try launcher.launch(["false"], tag: 2)
        let shellPID = try launcher.launch(ProcessLauncher.shell("exit 3"), tag: 3)

        let exits = Self.waitForExits(3, from: launcher)
        let byTag = Dictionary(uniqueKeysWithValues: exits.map { ($0.tag, $0) })
        #expect(byTag[1]?.pid == truePID)
        #expect(byTag[1]?.status == 0)
        #expect(byTag[2]?.pid == falsePID)
        #expect(byTag[2]?.status == 1)
        #expect(byTag[3]?.pid == shellPID)
        #expect(byTag[3]?.status == 3)
        #expect(launcher.takeExits().isEmpty)
    }

    @Test func aSignalEndingTheChildIsReportedAs128PlusTheSignal() throws {
        let launcher = try ProcessLauncher()
        defer { launcher.shutdown() }
        try launcher.launch(ProcessLauncher.shell("kill -TERM $$"), tag: 7)
        let exits = Self.waitForExits(1, from: launcher)
        #expect(exits.map(\.status) == [128 + SIGTERM])
    }

    @Test func aMissingProgramIsAClearError() throws {
        let launcher = try ProcessLauncher()
        defer { launcher.shutdown() }
        let error = #expect(throws: DroverError.self) {
            try launcher.launch(["drover-test-no-such-program"], tag: 1)
        }
        #expect(error?.code == .notFound)
        #expect(error?.message.contains("drover-test-no-such-program") == true)
        #expect(throws: DroverError.self) { try launcher.launch([], tag: 2) }
    }

    /// The launcher reaps only its own children: one started beside it, which exited first,
    /// is still there for its owner to reap.
    @Test func childrenStartedElsewhereAreLeftToTheirOwner() throws {
        let other = try Self.spawnDirectly(["sh", "-c", "exit 5"])
        var info = siginfo_t()
        // Blocks until `other` has exited, without reaping it.
        #expect(waitid(P_PID, id_t(other), &info, WEXITED | WNOWAIT) == 0)

        let launcher = try ProcessLauncher()
        defer { launcher.shutdown() }
        try launcher.launch(["true"], tag: 1)
        #expect(Self.waitForExits(1, from: launcher).map(\.status) == [0])

        var status: Int32 = 0
        #expect(waitpid(other, &status, 0) == other)
        #expect((status >> 8) & 0xff == 5)
    }

    @Test func shutdownKillsWhatStillRuns() throws {
        let launcher = try ProcessLauncher()
        let pid = try launcher.launch(["sleep", "30"], tag: 9)
        launcher.shutdown()

        #expect(kill(pid, 0) == -1 && errno == ESRCH)
        let exits = launcher.takeExits()
        #expect(exits.map(\.tag) == [9])
        #expect(exits.map(\.status) == [128 + SIGKILL])
        #expect(throws: DroverError.self) { try launcher.launch(["true"], tag: 10) }
        launcher.shutdown()  // Again: returns at once.
    }

    @Test func spawnRateRunsEveryProcess() throws {
        let report = try SpawnRate.measure(argv: ["true"], concurrency: 4, count: 200, timeout: .seconds(120))
        #expect(report.count == 200)
        #expect(report.concurrency == 4)
        #expect(report.failures == 0)
        #expect(report.seconds > 0)
        #expect(report.perSecond > 0)
    }

    @Test func spawnRateCountsFailures() throws {
        let report = try SpawnRate.measure(argv: ["false"], concurrency: 2, count: 10, timeout: .seconds(120))
        #expect(report.count == 10)
        #expect(report.failures == 10)
    }

    /// Polls the launcher's descriptor until `count` exits were taken or `exitGuard` passed.
    private static func waitForExits(
        _ count: Int, from launcher: ProcessLauncher, sourceLocation: SourceLocation = #_sourceLocation
    ) -> [ProcessLauncher.Exit] {
        let deadline = ContinuousClock.now.advanced(by: exitGuard)
        var exits: [ProcessLauncher.Exit] = []
        var entry = pollfd(fd: launcher.fileDescriptor, events: Int16(POLLIN), revents: 0)
        while exits.count < count, ContinuousClock.now < deadline {
            _ = poll(&entry, 1, 1000)
            exits += launcher.takeExits()
        }
        #expect(exits.count == count, "exits taken before the guard", sourceLocation: sourceLocation)
        return exits
    }

    /// Starts `argv` with plain `posix_spawnp`, outside any launcher.
    private static func spawnDirectly(_ argv: [String]) throws -> Int32 {
        var pid: pid_t = 0
        let copies: [UnsafeMutablePointer<CChar>?] = argv.map { strdup($0) } + [nil]
        defer { copies.forEach { free($0) } }
        let result = copies.withUnsafeBufferPointer { buffer -> Int32 in
            guard let file = buffer[0], let argv = buffer.baseAddress else { return ENOMEM }
            return posix_spawnp(&pid, file, nil, nil, argv, environ)
        }
        guard result == 0 else { throw DroverError.failedPrecondition("posix_spawnp failed: errno \(result)") }
        return pid
    }
}
