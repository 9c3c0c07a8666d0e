import DroverCore
import DroverWorker
import Testing

/// How a child's output reaches `onEvent`: lines, streams, order, partial and long lines.
@Suite struct ChildProcessOutputTests {
    @Test func stdoutAndStderrLinesArriveInOrderOnTheirStreams() async throws {
        let recorder = EventRecorder()
        _ = try ChildProcess.start(
            ProcessSpec(command: "printf 'a\\nb\\n'; echo err >&2"), onEvent: recorder.handler)
        #expect(await recorder.waitForExit() == .exited(code: 0))
        #expect(recorder.texts(.stdout) == ["a", "b"])
        #expect(recorder.texts(.stderr) == ["err"])
        // stdout was in its pipe before stderr was written, and the thread reads stdout first
        // when both are ready. (Across streams, that is all the order there is: stdout written
        // after stderr can still be read first if both are waiting.)
        #expect(recorder.lines.map(\.text) == ["a", "b", "err"])
        #expect(recorder.exitedExactlyOnceAndLast)
    }

    @Test func partialLastLineIsDeliveredAtEndOfFile() async throws {
        let recorder = EventRecorder()
        _ = try ChildProcess.start(
            ProcessSpec(command: "printf 'whole\\nno newline'; printf 'err tail' >&2"), onEvent: recorder.handler)
        #expect(await recorder.waitForExit() == .exited(code: 0))
        #expect(recorder.texts(.stdout) == ["whole", "no newline"])
        #expect(recorder.texts(.stderr) == ["err tail"])
        #expect(recorder.exitedExactlyOnceAndLast)
    }

    @Test func emptyLinesAreKept() async throws {
        let recorder = EventRecorder()
        _ = try ChildProcess.start(ProcessSpec(command: "printf 'x\\n\\n\\ny\\n'"), onEvent: recorder.handler)
        #expect(await recorder.waitForExit() == .exited(code: 0))
        #expect(recorder.texts(.stdout) == ["x", "", "", "y"])
    }

    @Test func longLineArrivesInBoundedChunks() async throws {
        let length = 100 * 1024
        let recorder = EventRecorder()
        _ = try ChildProcess.start(
            ProcessSpec(command: "head -c \(length) /dev/zero | tr '\\0' x; echo; echo after", environment: testPath),
            onEvent: recorder.handler)
        #expect(await recorder.waitForExit() == .exited(code: 0))

        let texts = recorder.texts(.stdout)
        try #require(texts.last == "after")
        let chunks = texts.dropLast()
        #expect(chunks.count >= length / ChildProcess.maximumLineBytes)
        #expect(chunks.allSatisfy { $0.utf8.count <= ChildProcess.maximumLineBytes })
        #expect(chunks.joined() == String(repeating: "x", count: length))
    }

    @Test func longMultibyteLineIsCutBetweenCharacters() async throws {
        // "é" is two bytes; after one ASCII byte, byte 16 384 is the middle of an "é", so
        // a plain cut at 16 KiB would split it.
        let line = "a" + String(repeating: "é", count: 40_000)
        let recorder = EventRecorder()
        _ = try ChildProcess.start(
            ProcessSpec(
                command: "printf 'a'; i=0; while [ $i -lt 400 ]; do printf '\(String(repeating: "é", count: 100))'; i=$((i+1)); done"),
            onEvent: recorder.handler)
        #expect(await recorder.waitForExit() == .exited(code: 0))

        let chunks = recorder.texts(.stdout)
        #expect(chunks.count > 1)
        #expect(chunks.allSatisfy { $0.utf8.count <= ChildProcess.maximumLineBytes })
        #expect(!chunks.joined().contains("\u{FFFD}"))
        #expect(chunks.joined() == line)
    }
}
