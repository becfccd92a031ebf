// swift-tools-version:6.1
import PackageDescription

let package = Package(
    name: "simple-scheduler",
    platforms: [.macOS(.v15)],
    products: [
        .executable(name: "scheduler", targets: ["Scheduler"]),
        .executable(name: "custodian", targets: ["Custodian"]),
        .executable(name: "api", targets: ["API"]),
        .executable(name: "cli", targets: ["CLI"]),
        .executable(name: "example-worker", targets: ["ExampleWorker"]),
        .library(name: "SchedulerCore", targets: ["SchedulerCore"]),
        .library(name: "HTTPServer", targets: ["HTTPServer"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-log.git", from: "1.16.2"),
        .package(url: "https://github.com/apple/swift-argument-parser.git", from: "1.8.2"),
        .package(url: "https://github.com/swift-server/swift-service-lifecycle.git", from: "2.13.0"),
        .package(url: "https://github.com/apple/swift-metrics.git", from: "2.13.0"),
        .package(url: "https://github.com/swift-server/swift-prometheus.git", from: "2.4.1"),
    ],
    targets: [
        .systemLibrary(
            name: "CMongoC",
            pkgConfig: "libmongoc-1.0",
            providers: [.apt(["libmongoc-dev"])]
        ),
        .systemLibrary(
            name: "CRabbitMQ",
            pkgConfig: "librabbitmq",
            providers: [.apt(["librabbitmq-dev"])]
        ),
        .systemLibrary(
            name: "CSQLite",
            pkgConfig: "sqlite3",
            providers: [.apt(["libsqlite3-dev"])]
        ),
        .systemLibrary(
            name: "COpenSSL",
            pkgConfig: "libcrypto",
            providers: [.apt(["libssl-dev"])]
        ),
        .target(
            name: "SchedulerCore",
            dependencies: [
                "CMongoC",
                "CRabbitMQ",
                "CSQLite",
                "CLinuxSocket",
                "HTTPServer",
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "Metrics", package: "swift-metrics"),
                .product(name: "Prometheus", package: "swift-prometheus"),
            ]
        ),
        // Linux and glibc calls Swift's Glibc module does not export: epoll, accept4, pipe2, the
        // closefrom spawn action, malloc_trim.
        .systemLibrary(name: "CLinuxSocket"),
        .target(
            name: "HTTPServer",
            dependencies: [
                "CLinuxSocket", .product(name: "Logging", package: "swift-log"),
                .product(name: "Metrics", package: "swift-metrics"),
            ]
        ),
        .executableTarget(
            name: "Scheduler",
            dependencies: [
                "SchedulerCore",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ]
        ),
        .executableTarget(
            name: "Custodian",
            dependencies: [
                "SchedulerCore",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ]
        ),
        .executableTarget(
            name: "API",
            dependencies: [
                "SchedulerCore", "HTTPServer", "COpenSSL",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ]
        ),
        .executableTarget(
            name: "CLI",
            dependencies: [
                "SchedulerCore", "HTTPServer", "COpenSSL",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ]
        ),
        .executableTarget(
            name: "ExampleWorker",
            dependencies: [
                "SchedulerCore", "CLinuxSocket",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ]
        ),
        .target(name: "TestSupport", dependencies: ["SchedulerCore", "CLinuxSocket"], path: "Tests/TestSupport"),
        .testTarget(name: "SchedulerCoreTests", dependencies: ["SchedulerCore", "TestSupport"]),
        .testTarget(name: "HTTPServerTests", dependencies: ["HTTPServer"]),
        .testTarget(name: "CLITests", dependencies: ["CLI", "HTTPServer", "SchedulerCore"]),
        .testTarget(name: "APITests", dependencies: ["API", "SchedulerCore", "HTTPServer", "COpenSSL", "TestSupport"]),
        // Every test that touches the shared test broker lives here, under one serialized suite,
        // because some restart it. It depends on the daemons so `swift test` builds their binaries.
        .testTarget(name: "IntegrationTests", dependencies: ["SchedulerCore", "TestSupport", "Scheduler", "Custodian", "API", "CLI", "ExampleWorker"]),
    ]
)
