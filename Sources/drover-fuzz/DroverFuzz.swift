import DroverCore
import Foundation

/// The fuzz target: every input is a `FuzzScript` run against a fresh server side
/// (`ServerUnderFuzz`) and worker side (`WorkerUnderFuzz`).
///
/// Built normally it replays inputs (`drover-fuzz replay PATH...`) and writes the seed
/// corpus (`drover-fuzz seeds DIR`). Built for fuzzing (see `deploy/fuzz.sh`: `-sanitize=fuzzer`
/// and `-DDROVER_FUZZ`), every other command line goes to libFuzzer, which mutates the
/// corpus guided by coverage and keeps any input that traps.
@main
enum DroverFuzz {
    static func main() {
        let arguments = Array(CommandLine.arguments.dropFirst())
        switch arguments.first {
        case "seeds" where arguments.count == 2:
            writeSeeds(to: arguments[1])
        case "replay" where arguments.count >= 2:
            replay(Array(arguments.dropFirst()))
        default:
            #if DROVER_FUZZ
            exit(runLibFuzzer())
            #else
            FileHandle.standardError.write(
                Data(
                    """
                    usage: drover-fuzz seeds DIR        write the seed corpus into DIR
                           drover-fuzz replay PATH...   run each input (files, or every file in a folder)
                    Built with deploy/fuzz.sh it also takes libFuzzer's arguments: drover-fuzz [-max_total_time=N] CORPUS...

                    """.utf8))
            exit(2)
            #endif
        }
    }

    /// Runs one input; a broken promise is thrown, a crash traps.
    static func run(_ bytes: UnsafeRawBufferPointer) throws(DroverError) {
        let script = FuzzScript(bytes)
        var server = try ServerUnderFuzz()
        var worker = try WorkerUnderFuzz()
        for step in script.steps {
            let payload = step.payload
            switch step.target {
            case .worker:
                try server.receive(from: ServerUnderFuzz.identities[0], payload)
            case .workerInSession:
                try server.receive(from: ServerUnderFuzz.identities[0], payload, inSession: true)
            case .anyWorker:
                let pick = Int(payload.first ?? 0)
                let identity = ServerUnderFuzz.identities[pick % ServerUnderFuzz.identities.count]
                try server.receive(from: identity, Array(payload.dropFirst()), inSession: pick >= 128)
            case .control:
                try server.control(payload)
            case .limits:
                try server.limitRequest(payload)
            case .clock:
                let seconds = Int(payload.first ?? 0)
                try server.advance(by: seconds == 0 ? 0.001 : TimeInterval(seconds))
                try worker.advance(by: seconds == 0 ? .milliseconds(1) : .seconds(seconds))
            case .toWorker:
                try worker.receive(payload, stamped: false)
            case .toWorkerInSession:
                try worker.receive(payload, stamped: true)
            }
        }
        guard server.answers() else { throw DroverError(.internal, "the coordinator no longer answers a request") }
    }

    /// The promise `bytes` breaks, if any.
    static func failure(of bytes: UnsafeRawBufferPointer) -> DroverError? {
        do throws(DroverError) {
            try run(bytes)
            return nil
        } catch {
            return error
        }
    }

    /// Runs `bytes`, and stops the process on a broken promise, so libFuzzer keeps the input.
    static func runOrAbort(_ bytes: UnsafeRawBufferPointer) {
        guard let failure = failure(of: bytes) else { return }
        FileHandle.standardError.write(Data("drover-fuzz: \(failure.message)\n".utf8))
        abort()
    }

    static func writeSeeds(to folder: String) {
        do {
            try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
            for (name, script) in Seeds.all() {
                try Data(script.bytes).write(to: URL(fileURLWithPath: folder).appendingPathComponent("seed-\(name)"))
            }
            print("drover-fuzz: wrote \(Seeds.all().count) seed inputs to \(folder)")
        } catch {
            FileHandle.standardError.write(Data("drover-fuzz: could not write the seeds: \(error)\n".utf8))
            exit(1)
        }
    }

    static func replay(_ paths: [String]) {
        var files: [String] = []
        for path in paths {
            var isFolder: ObjCBool = false
            guard FileManager.default.fileExists(atPath: path, isDirectory: &isFolder) else {
                FileHandle.standardError.write(Data("drover-fuzz: no such file or folder: \(path)\n".utf8))
                exit(1)
            }
            if isFolder.boolValue {
                let names = (try? FileManager.default.contentsOfDirectory(atPath: path)) ?? []
                files += names.sorted().map { "\(path)/\($0)" }
            } else {
                files.append(path)
            }
        }
        for file in files {
            guard let data = FileManager.default.contents(atPath: file) else { continue }
            if let failure = data.withUnsafeBytes({ failure(of: $0) }) {
                FileHandle.standardError.write(Data("drover-fuzz: \(file): \(failure.message)\n".utf8))
                exit(1)
            }
        }
        print("drover-fuzz: replayed \(files.count) inputs, no failures")
    }
}

#if DROVER_FUZZ
/// libFuzzer's entry point for one input.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzOneInput(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
    DroverFuzz.runOrAbort(UnsafeRawBufferPointer(start: data, count: size))
    return 0
}

/// libFuzzer's driver, for a program that has its own `main` (SwiftPM gives every
/// executable one).
@_silgen_name("LLVMFuzzerRunDriver")
private func LLVMFuzzerRunDriver(
    _ argc: UnsafeMutablePointer<CInt>,
    _ argv: UnsafeMutablePointer<UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>>,
    _ test: @convention(c) (UnsafePointer<UInt8>?, Int) -> CInt
) -> CInt

func runLibFuzzer() -> Int32 {
    var argc = CommandLine.argc
    var argv = CommandLine.unsafeArgv
    return LLVMFuzzerRunDriver(&argc, &argv, fuzzOneInput)
}
#endif
