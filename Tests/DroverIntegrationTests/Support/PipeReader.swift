import Foundation

/// Reads a pipe to its end on a dedicated thread, keeping everything read.
final class PipeReader: @unchecked Sendable {
    private let lock = NSLock()
    private var data = Data()
    private var pendingLine = Data()
    private let ended = Latch()

    init(_ handle: FileHandle, onLine: (@Sendable (String) -> Void)?, onEnd: (@Sendable () -> Void)?) {
        let thread = Thread { [self] in
            while true {
                let chunk = handle.availableData
                if chunk.isEmpty { break }
                lock.withLock { data.append(chunk) }
                guard let onLine else { continue }
                pendingLine.append(chunk)
                while let newline = pendingLine.firstIndex(of: UInt8(ascii: "\n")) {
                    let line = pendingLine[pendingLine.startIndex..<newline]
                    pendingLine = Data(pendingLine[pendingLine.index(after: newline)...])
                    onLine(String(decoding: line, as: UTF8.self))
                }
            }
            try? handle.close()
            ended.open()
            onEnd?()
        }
        thread.name = "drover-test-pipe-reader"
        thread.start()
    }

    var text: String {
        lock.withLock { String(decoding: data, as: UTF8.self) }
    }

    func waitForEnd(seconds: Double) -> Bool {
        ended.wait(seconds: seconds)
    }
}
