import DroverCore
import Testing

@testable import drover_fuzz

@Suite struct FuzzScriptTests {
    private func script(_ bytes: [UInt8]) -> FuzzScript {
        bytes.withUnsafeBytes { FuzzScript($0) }
    }

    @Test func aScriptReadsBackFromItsBytes() {
        let written = FuzzScript(steps: [
            .init(target: .control, payload: [1, 2, 3]),
            .init(target: .clock, payload: []),
            .init(target: .toWorkerInSession, payload: Array(repeating: 7, count: 300)),
        ])
        #expect(script(written.bytes) == written)
    }

    @Test func everyByteStringIsAScript() {
        // A target byte past the last target wraps; a length past the end is cut short.
        #expect(script([]).steps.isEmpty)
        #expect(script([8]).steps == [.init(target: .worker, payload: [])])
        #expect(script([3, 0xFF, 0xFF, 9, 9]).steps == [.init(target: .control, payload: [9, 9])])
        #expect(script(Array(Array(repeating: [UInt8]([5, 0, 0]), count: 200).joined())).steps.count == FuzzScript.maxSteps)
    }

    /// The seeds must stay valid as the protocol grows: each runs to its end.
    @Test(arguments: Seeds.all().map(\.name))
    func eachSeedRunsWithoutFailure(name: String) throws {
        let seed = try #require(Seeds.all().first { $0.name == name }).script
        let failure = seed.bytes.withUnsafeBytes { DroverFuzz.failure(of: $0) }
        #expect(failure == nil, "\(failure?.message ?? "")")
    }
}
