import DroverCore
import Testing

@Suite struct ExposureTests {
    @Test(arguments: ["127.0.0.1", "127.0.0.2", "127.255.255.254", "localhost", "LOCALHOST", "::1", "[::1]", "::ffff:127.0.0.1"])
    func loopbackNeedsNothing(host: String) throws {
        #expect(Exposure.isLoopback(host))
        #expect(try Exposure.check(host: host, insecure: false, daemon: .server) == .loopback)
        #expect(try Exposure.check(host: host, insecure: true, daemon: .server) == .loopback)
    }

    @Test(arguments: [
        "0.0.0.0", "*", "::", "[::]", "10.0.0.5", "192.168.1.10", "128.0.0.1", "127.0.0", "127.0.0.1.5", "1270.0.0.1", "eth0", "",
    ])
    func anythingElseIsRefusedUnlessInsecure(host: String) throws {
        #expect(!Exposure.isLoopback(host))
        let error = #expect(throws: DroverError.self) { try Exposure.check(host: host, insecure: false, daemon: .server) }
        #expect(error?.code == .failedPrecondition)
        #expect(error?.message.contains("--insecure") == true, "the refusal says what to do")
        #expect(try Exposure.check(host: host, insecure: true, daemon: .limitService) == .insecure)
    }

    @Test func theRefusalNamesTheDaemonAndItsRisk() {
        let server = #expect(throws: DroverError.self) { try Exposure.check(host: "0.0.0.0", insecure: false, daemon: .server) }
        #expect(server?.message.hasPrefix("Refusing to start the server on 0.0.0.0 without security: anyone who") == true)
        #expect(server?.message.contains("run commands on every worker") == true)
        let limits = #expect(throws: DroverError.self) {
            try Exposure.check(host: "10.0.0.1", insecure: false, daemon: .limitService)
        }
        #expect(limits?.message.contains("limit service on 10.0.0.1") == true)
        #expect(limits?.message.contains("concurrency slot") == true)
    }
}
