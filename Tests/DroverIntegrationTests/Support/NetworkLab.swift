import Foundation
import Testing

#if canImport(Glibc)
import Glibc
#endif

/// Hosts on a private network, made of Linux network namespaces: one namespace per host,
/// each with one veth link to a bridge in a "switch" namespace of its own. Nothing is added
/// to the machine's own namespace (no interface, no address, no route), every address is
/// in 10.201.0.0/24 inside the lab, and `tearDown` (or the next lab with the same tag)
/// removes it all.
///
/// Needs root and `ip` (iproute2); `available` says whether this machine allows it.
final class NetworkLab: Sendable {
    static let ip = URL(fileURLWithPath: FileManager.default.isExecutableFile(atPath: "/usr/sbin/ip") ? "/usr/sbin/ip" : "/sbin/ip")

    /// Whether namespaces can be made here (root, `ip`, and a kernel that allows it).
    static let available: Bool = {
        guard getuid() == 0, FileManager.default.isExecutableFile(atPath: ip.path) else { return false }
        let probe = "drv-probe-\(getpid())"
        guard (try? run(ip, ["netns", "add", probe])) != nil else { return false }
        _ = try? run(ip, ["netns", "del", probe])
        return true
    }()

    /// Why a lab test is skipped where `available` is false.
    static let unavailableReason = "network namespaces need root and iproute2 (ip netns); this machine allows neither"

    struct Host: Sendable {
        let name: String
        /// Its namespace, for `DroverBinary.invocation(_:namespace:)`.
        let namespace: String
        let address: String
        /// Its link's end on the switch: down, the host is cut off.
        let switchPort: String
    }

    let tag: String
    let hosts: [Host]
    private let switchNamespace: String
    private let bridge = "br0"

    /// A lab of `names.count` hosts; `tag` (a few letters) keeps its names apart from other labs'.
    init(tag: String, hosts names: [String]) throws {
        precondition(names.count < 200 && tag.count <= 6)
        self.tag = tag
        switchNamespace = "drv-\(tag)-sw"
        hosts = names.enumerated().map { index, name in
            Host(name: name, namespace: "drv-\(tag)-\(name)", address: "10.201.0.\(index + 1)", switchPort: "p\(index + 1)")
        }
        tearDown()
        try ip("netns", "add", switchNamespace)
        try ip("-n", switchNamespace, "link", "add", bridge, "type", "bridge")
        try ip("-n", switchNamespace, "link", "set", bridge, "up")
        for host in hosts {
            try ip("netns", "add", host.namespace)
            try ip("-n", host.namespace, "link", "set", "lo", "up")
            // Made in the switch namespace, one end then moved to the host and named eth0.
            try ip("-n", switchNamespace, "link", "add", host.switchPort, "type", "veth", "peer", "name", "eth0", "netns", host.namespace)
            try ip("-n", switchNamespace, "link", "set", host.switchPort, "master", bridge)
            try ip("-n", switchNamespace, "link", "set", host.switchPort, "up")
            try ip("-n", host.namespace, "addr", "add", "\(host.address)/24", "dev", "eth0")
            try ip("-n", host.namespace, "link", "set", "eth0", "up")
        }
    }

    func host(_ name: String) -> Host { hosts.first { $0.name == name }! }

    /// Cuts `host` off the network (its switch port down), or connects it again.
    func setLink(of host: Host, up: Bool) throws {
        try ip("-n", switchNamespace, "link", "set", host.switchPort, up ? "up" : "down")
    }

    /// Starts capturing every packet on the bridge into `file` with tcpdump; stop it with
    /// SIGINT (`ChildProcess.send`) and wait for it to exit before reading the file.
    func capture(into file: URL) throws -> ChildProcess {
        guard FileManager.default.isExecutableFile(atPath: Self.tcpdump.path) else {
            throw LabFailure(message: "no \(Self.tcpdump.path): install Debian's tcpdump (deploy/test.sh does, as root)")
        }
        return try ChildProcess(
            executable: Self.ip,
            arguments: ["netns", "exec", switchNamespace, Self.tcpdump.path, "-i", bridge, "-U", "-s", "0", "-w", file.path],
            environment: DroverBinary.baseEnvironment())
    }

    static let tcpdump = URL(fileURLWithPath: "/usr/bin/tcpdump")

    /// Removes every namespace of the lab (and with them their links); safe to call twice.
    func tearDown() {
        for namespace in hosts.map(\.namespace) + [switchNamespace] {
            _ = try? Self.run(Self.ip, ["netns", "del", namespace])
        }
    }

    deinit {
        tearDown()
    }

    private func ip(_ arguments: String...) throws {
        try Self.run(Self.ip, arguments)
    }

    /// Runs a command to its end (a failure guard of 90 s: the kernel can take long to make a
    /// namespace while others are being torn down); throws with its stderr if it fails.
    @discardableResult
    static func run(_ executable: URL, _ arguments: [String]) throws -> String {
        let process = Process()
        process.executableURL = executable
        process.arguments = arguments
        let errors = Pipe()
        let output = Pipe()
        process.standardError = errors
        process.standardOutput = output
        try process.run()
        let deadline = Date(timeIntervalSinceNow: 90)
        while process.isRunning, Date() < deadline { usleep(2_000) }
        if process.isRunning {
            process.terminate()
            throw LabFailure(message: "\(executable.lastPathComponent) \(arguments.joined(separator: " ")) did not finish")
        }
        let text = String(decoding: output.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        guard process.terminationStatus == 0 else {
            let reason = String(decoding: errors.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
            throw LabFailure(message: "\(executable.lastPathComponent) \(arguments.joined(separator: " ")): \(reason)")
        }
        return text
    }

    struct LabFailure: Error, CustomStringConvertible {
        let message: String
        var description: String { message }
    }
}
