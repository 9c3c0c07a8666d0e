/// One fuzz input read as a script: a sequence of steps, each a message for one of the
/// sockets a Drover process reads, or a move of the clock.
///
/// The encoding is what libFuzzer mutates, so every byte string is a valid script: a step
/// is one byte saying what it is, two bytes (little-endian) saying how long its payload is,
/// then the payload, cut short where the input ends. At most `maxSteps` steps are read.
struct FuzzScript: Equatable {
    enum Target: UInt8, CaseIterable {
        /// A dispatch frame from worker `w1`, with whatever session it says.
        case worker
        /// A dispatch frame from `w1`, stamped with the session `w1` was welcomed into (so it
        /// reaches the report handling behind the session check).
        case workerInSession
        /// A dispatch frame whose first payload byte picks the routing id (including ids
        /// ZeroMQ would choose, and ones that are not UTF-8); the rest is the envelope.
        case anyWorker
        /// A control request from a CLI.
        case control
        /// A limits request from a client of the limit service.
        case limits
        /// The clock moves by the payload's first byte in seconds (0: a millisecond) and
        /// both sides act on their timers.
        case clock
        /// A message from a (hostile) server to a worker's session, as sent.
        case toWorker
        /// A message to the worker, stamped with its current session and Hello.
        case toWorkerInSession
    }

    struct Step: Equatable {
        let target: Target
        let payload: [UInt8]
    }

    static let maxSteps = 64

    let steps: [Step]

    init(steps: [Step]) {
        self.steps = steps
    }

    init(_ bytes: UnsafeRawBufferPointer) {
        var steps: [Step] = []
        var at = 0
        while at < bytes.count, steps.count < Self.maxSteps {
            let target = Target.allCases[Int(bytes[at]) % Target.allCases.count]
            let length =
                at + 2 < bytes.count ? Int(bytes[at + 1]) | Int(bytes[at + 2]) << 8 : 0
            let start = min(at + 3, bytes.count)
            let end = min(start + length, bytes.count)
            steps.append(Step(target: target, payload: Array(bytes[start..<end])))
            at = end
        }
        self.steps = steps
    }

    /// The bytes that read back as this script.
    var bytes: [UInt8] {
        steps.flatMap { step -> [UInt8] in
            let length = min(step.payload.count, Int(UInt16.max))
            return [step.target.rawValue, UInt8(length & 0xFF), UInt8(length >> 8)] + step.payload.prefix(length)
        }
    }
}
