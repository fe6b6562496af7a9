// swift-tools-version: 6.2
import PackageDescription

let package = Package(
    name: "Spindle",
    platforms: [.macOS(.v15)],
    products: [
        .library(name: "Spindle", targets: ["Spindle"]),
        .library(name: "SpindleCrawler", targets: ["SpindleCrawler"]),
        .library(name: "SpindleCrawlerPostgres", targets: ["SpindleCrawlerPostgres"]),
        .library(name: "SpindleServer", targets: ["SpindleServer"]),
        .executable(name: "spindle", targets: ["SpindleCLI"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser.git", from: "1.8.2"),
        .package(url: "https://github.com/apple/swift-collections.git", from: "1.6.0"),
        .package(url: "https://github.com/apple/swift-nio.git", from: "2.101.3"),
        .package(url: "https://github.com/apple/swift-log.git", from: "1.16.2"),
        .package(url: "https://github.com/apple/swift-metrics.git", from: "2.13.0"),
        .package(url: "https://github.com/apple/swift-async-algorithms.git", from: "1.1.4"),
        .package(url: "https://github.com/swiftlang/swift-subprocess.git", from: "1.0.2"),
        .package(url: "https://github.com/swift-server/async-http-client.git", from: "1.37.0"),
        .package(url: "https://github.com/swift-server/swift-prometheus.git", from: "2.4.1"),
        .package(url: "https://github.com/swift-server/swift-service-lifecycle.git", from: "2.13.0"),
        .package(url: "https://github.com/hummingbird-project/hummingbird.git", from: "2.28.1"),
        .package(url: "https://github.com/groue/GRDB.swift.git", from: "7.10.0"),
        .package(url: "https://github.com/vapor/postgres-nio.git", from: "1.33.2"),
        .package(url: "https://github.com/HdrHistogram/hdrhistogram-swift.git", from: "0.2.0"),
        .package(url: "https://github.com/x-sheep/swift-property-based.git", from: "2.0.1"),
        // `swift package generate-documentation --target Spindle` (and SpindleCrawler, SpindleServer).
        .package(url: "https://github.com/swiftlang/swift-docc-plugin", from: "1.5.0"),
    ],
    targets: [
        // Pools and primitives: no networking.
        .target(
            name: "Spindle",
            dependencies: [
                .product(name: "DequeModule", package: "swift-collections"),
                .product(name: "NIOConcurrencyHelpers", package: "swift-nio"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Subprocess", package: "swift-subprocess"),
            ]
        ),
        // libxml2's HTML parser and XPath, for SpindleCrawler.
        .systemLibrary(
            name: "CLibXML2",
            pkgConfig: "libxml-2.0",
            providers: [.apt(["libxml2-dev"])]
        ),
        .target(
            name: "SpindleCrawler",
            dependencies: [
                "Spindle",
                "CLibXML2",
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "NIOConcurrencyHelpers", package: "swift-nio"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "GRDB", package: "GRDB.swift"),
            ]
        ),
        // The PostgreSQL frontier, apart so that a crawler that never uses it does not build
        // postgres-nio, swift-crypto and BoringSSL.
        .target(
            name: "SpindleCrawlerPostgres",
            dependencies: [
                "Spindle",
                "SpindleCrawler",
                .product(name: "Logging", package: "swift-log"),
                .product(name: "NIOConcurrencyHelpers", package: "swift-nio"),
                .product(name: "PostgresNIO", package: "postgres-nio"),
            ]
        ),
        // mimalloc, which the `spindle` executable links in place of glibc's malloc: a crawl
        // allocates heavily in libxml2 and Swift (docs/performance.md, "The allocator").
        .systemLibrary(
            name: "CMimalloc",
            providers: [.apt(["libmimalloc-dev"])]
        ),
        // Servers: the web service, the fixture blog site, the TCP echo server and its load client.
        .target(
            name: "SpindleServer",
            dependencies: [
                "Spindle",
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Metrics", package: "swift-metrics"),
                .product(name: "Prometheus", package: "swift-prometheus"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "Histogram", package: "hdrhistogram-swift"),
            ]
        ),
        .executableTarget(
            name: "SpindleCLI",
            dependencies: [
                "Spindle",
                "SpindleCrawler",
                "SpindleCrawlerPostgres",
                "SpindleServer",
                "CMimalloc",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "AsyncAlgorithms", package: "swift-async-algorithms"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "NIOConcurrencyHelpers", package: "swift-nio"),
            ]
        ),
        // Jobs that misbehave on purpose, and a worker executable that registers them, for
        // ProcessPool's tests; helpers the test targets share.
        .target(
            name: "SpindleTestSupport",
            dependencies: ["Spindle"]
        ),
        .executableTarget(
            name: "SpindleWorkerFixture",
            dependencies: ["Spindle", "SpindleTestSupport"]
        ),
        // The README's library examples, as they are shown there; ExamplesTests runs them.
        // (A crawl through the library, Examples/Crawl, is to come.)
        .executableTarget(name: "ThreadPoolExample", dependencies: ["Spindle"], path: "Examples/ThreadPool"),
        .executableTarget(name: "AsyncMapExample", dependencies: ["Spindle"], path: "Examples/AsyncMap"),
        .executableTarget(name: "ProcessPoolExample", dependencies: ["Spindle"], path: "Examples/ProcessPool"),
        .executableTarget(name: "CommandBatchExample", dependencies: ["Spindle"], path: "Examples/CommandBatch"),
        .testTarget(
            name: "SpindleTests",
            dependencies: [
                "Spindle",
                "SpindleTestSupport",
                "SpindleWorkerFixture",
                "ThreadPoolExample",
                "AsyncMapExample",
                "ProcessPoolExample",
                "CommandBatchExample",
                .product(name: "PropertyBased", package: "swift-property-based"),
            ]
        ),
        .testTarget(
            name: "SpindleCrawlerTests",
            dependencies: [
                "SpindleCrawler",
                "SpindleCrawlerPostgres",
                "SpindleServer",
                "SpindleTestSupport",
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "GRDB", package: "GRDB.swift"),
            ]
        ),
        .testTarget(
            name: "SpindleServerTests",
            dependencies: [
                "SpindleServer",
                "SpindleTestSupport",
                .product(name: "HummingbirdTesting", package: "hummingbird"),
                .product(name: "NIOEmbedded", package: "swift-nio"),
            ]
        ),
    ],
    swiftLanguageModes: [.v6]
)
