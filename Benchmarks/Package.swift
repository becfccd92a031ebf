// swift-tools-version:6.1
// Benchmarks live apart from the product so the product never builds what only they need.
import PackageDescription

let package = Package(
    name: "simple-scheduler-benchmarks",
    platforms: [.macOS(.v15)],
    dependencies: [
        .package(name: "simple-scheduler", path: ".."),
        .package(url: "https://github.com/apple/swift-log.git", from: "1.16.2"),
        // The API benchmark's reference server; never a dependency of the product.
        .package(url: "https://github.com/hummingbird-project/hummingbird.git", from: "2.28.1"),
        .package(url: "https://github.com/apple/swift-nio.git", from: "2.101.2"),
    ],
    targets: [
        // The plain librabbitmq reference loop calls the C library directly.
        .systemLibrary(name: "CRabbitMQBench", pkgConfig: "librabbitmq", providers: [.apt(["librabbitmq-dev"])]),
        .executableTarget(
            name: "BusThroughput",
            dependencies: [
                "CRabbitMQBench",
                .product(name: "SchedulerCore", package: "simple-scheduler"),
                .product(name: "Logging", package: "swift-log"),
            ]
        ),
        .executableTarget(
            name: "SustainedLoad",
            dependencies: [
                .product(name: "SchedulerCore", package: "simple-scheduler"),
                .product(name: "Logging", package: "swift-log"),
            ]
        ),
        .systemLibrary(name: "CCryptoBench", pkgConfig: "libcrypto", providers: [.apt(["libssl-dev"])]),
        .executableTarget(
            name: "HummingbirdAPI",
            dependencies: [
                "CCryptoBench",
                .product(name: "SchedulerCore", package: "simple-scheduler"),
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "Logging", package: "swift-log"),
            ]
        ),
        .executableTarget(
            name: "Failover",
            dependencies: [
                .product(name: "SchedulerCore", package: "simple-scheduler"),
                .product(name: "Logging", package: "swift-log"),
            ]
        ),
        .executableTarget(
            name: "Ingestion",
            dependencies: [
                .product(name: "SchedulerCore", package: "simple-scheduler"),
                .product(name: "Logging", package: "swift-log"),
            ]
        ),
        .target(name: "CMallocInfo"),
        .executableTarget(
            name: "MemoryPerJob",
            dependencies: [
                "CMallocInfo",
                .product(name: "SchedulerCore", package: "simple-scheduler"),
                .product(name: "Logging", package: "swift-log"),
            ]
        ),
        .executableTarget(
            name: "CronNext",
            dependencies: [.product(name: "SchedulerCore", package: "simple-scheduler")]
        ),
        .executableTarget(
            name: "DispatchBurst",
            dependencies: [
                .product(name: "SchedulerCore", package: "simple-scheduler"),
                .product(name: "Logging", package: "swift-log"),
            ]
        ),
    ]
)
