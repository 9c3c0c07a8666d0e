// swift-tools-version:6.2
import PackageDescription

/// Drover: work pools, work queues and workers with push dispatch over ZeroMQ.
///
/// Module boundaries (see docs/architecture.md):
/// - `CZeroMQ` is the only place that sees libzmq's C API; `ZeroMQ` is the only module that imports it.
/// - `DroverCore` holds the rules of the system and imports no ZeroMQ, SQLite, protobuf or Glibc;
///   `DroverSystem` is the operating system's side (private files, the home's lock, exec's C strings).
/// - `DroverProto` is the generated wire format; `DroverWire` maps Core's values to and from
///   it, for the server and the clients alike (so the server never imports the client).
/// - `DroverStore` persists Core's values; `DroverLimits` is the limit service (embedded in the
///   server, or alone); `DroverCoordinator` runs the server's event loop;
///   `DroverClient` talks to it; `drover` is the command line.
let package = Package(
    name: "drover",
    platforms: [.macOS(.v15)],
    products: [
        .executable(name: "drover", targets: ["drover"]),
        .library(name: "ZeroMQ", targets: ["ZeroMQ"]),
        .library(name: "DroverClient", targets: ["DroverClient"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.8.2"),
        .package(url: "https://github.com/apple/swift-log", from: "1.16.2"),
        .package(url: "https://github.com/apple/swift-protobuf", from: "1.39.0"),
        .package(url: "https://github.com/groue/GRDB.swift", from: "7.10.0"),
        .package(url: "https://github.com/swift-server/swift-service-lifecycle", from: "2.13.0"),
        .package(url: "https://github.com/HdrHistogram/hdrhistogram-swift", from: "0.2.0"),
    ],
    targets: [
        .systemLibrary(
            name: "CZeroMQ",
            pkgConfig: "libzmq",
            providers: [.apt(["libzmq3-dev"])]
        ),
        .target(name: "ZeroMQ", dependencies: ["CZeroMQ"]),
        .target(
            name: "DroverProto",
            dependencies: [.product(name: "SwiftProtobuf", package: "swift-protobuf")]
        ),
        .target(name: "DroverCore"),
        // The operating system's side: files kept private, a home's lock, C strings for exec, poll timeouts.
        .target(name: "DroverSystem", dependencies: ["DroverCore"]),
        .target(
            name: "DroverWire",
            dependencies: ["DroverCore", "DroverProto", .product(name: "SwiftProtobuf", package: "swift-protobuf")]
        ),
        .target(
            name: "DroverStore",
            dependencies: ["DroverCore", .product(name: "GRDB", package: "GRDB.swift")]
        ),
        .target(
            name: "DroverLimits",
            dependencies: [
                "DroverWire", "DroverSystem", "DroverCore", "DroverProto", "DroverStore", "ZeroMQ",
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ]
        ),
        .target(
            name: "DroverCoordinator",
            dependencies: [
                "DroverWire", "DroverSystem", "DroverCore", "DroverLimits", "DroverProto", "DroverStore", "ZeroMQ",
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ]
        ),
        .target(
            name: "CProcessSpawn",
            cSettings: [.define("_GNU_SOURCE")]
        ),
        .target(
            name: "DroverWorker",
            dependencies: [
                "CProcessSpawn", "DroverSystem", "DroverClient", "DroverWire", "DroverCore", "DroverProto", "ZeroMQ",
                .product(name: "Logging", package: "swift-log"),
            ]
        ),
        .target(
            name: "DroverBench",
            dependencies: [
                "CProcessSpawn", "DroverSystem", "DroverClient", "DroverWire", "DroverCore", "DroverProto", "ZeroMQ",
                .product(name: "Histogram", package: "hdrhistogram-swift"),
                .product(name: "SwiftProtobuf", package: "swift-protobuf"),
            ]
        ),
        .target(
            name: "DroverClient",
            dependencies: [
                "DroverCore", "DroverProto", "DroverWire", "ZeroMQ",
                .product(name: "SwiftProtobuf", package: "swift-protobuf"),
            ]
        ),
        .executableTarget(
            name: "drover",
            dependencies: [
                "DroverBench", "DroverCore", "DroverProto", "DroverStore", "DroverCoordinator", "DroverClient",
                "DroverLimits", "DroverSystem", "DroverWire", "DroverWorker",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ]
        ),
        // The coverage-guided fuzz target (deploy/fuzz.sh); built normally, it replays inputs.
        .executableTarget(
            name: "drover-fuzz",
            dependencies: [
                "DroverWire", "DroverCoordinator", "DroverCore", "DroverLimits", "DroverProto", "DroverStore", "DroverSystem",
                "ZeroMQ",
                .product(name: "Logging", package: "swift-log"),
                .product(name: "SwiftProtobuf", package: "swift-protobuf"),
            ]
        ),

        .target(name: "DroverTestSupport", dependencies: ["DroverCore"], path: "Tests/DroverTestSupport"),
        .testTarget(name: "ZeroMQTests", dependencies: ["ZeroMQ"]),
        .testTarget(name: "DroverProtoTests", dependencies: ["DroverProto"]),
        .testTarget(name: "DroverCoreTests", dependencies: ["DroverCore", "DroverTestSupport"]),
        .testTarget(
            name: "DroverStoreTests",
            dependencies: ["DroverStore", "DroverTestSupport", .product(name: "GRDB", package: "GRDB.swift")]
        ),
        .testTarget(
            name: "DroverCoordinatorTests",
            dependencies: ["DroverCoordinator", "DroverWire", "DroverLimits", "DroverSystem", "DroverTestSupport"]
        ),
        .testTarget(
            name: "DroverLimitsTests",
            dependencies: [
                "DroverLimits", "DroverClient", "DroverWire", "DroverCore", "DroverProto", "DroverStore", "DroverSystem", "DroverTestSupport",
                "ZeroMQ",
                .product(name: "Logging", package: "swift-log"),
            ]
        ),
        .testTarget(
            name: "DroverBenchTests",
            dependencies: [
                "DroverBench", "DroverClient", "DroverCore", "DroverLimits", "DroverSystem", "DroverTestSupport",
                .product(name: "Logging", package: "swift-log"),
            ]
        ),
        .testTarget(name: "DroverFuzzTests", dependencies: ["drover-fuzz"]),
        .testTarget(name: "DroverWorkerTests", dependencies: ["DroverWorker", "DroverCore", "DroverSystem", "DroverTestSupport"]),
        .testTarget(name: "DroverClientTests", dependencies: ["DroverClient", "DroverTestSupport", "ZeroMQ"]),
        .testTarget(name: "DroverSystemTests", dependencies: ["DroverSystem", "DroverTestSupport"]),
        .testTarget(name: "DroverWireTests", dependencies: ["DroverWire", "DroverProto", "DroverTestSupport"]),
        .testTarget(
            name: "DroverIntegrationTests",
            dependencies: ["drover", "DroverTestSupport", "DroverProto", "ZeroMQ"]
        ),
    ]
)
