// swift-tools-version:6.2
import PackageDescription

let swiftSettings: [SwiftSetting] = [
    .enableUpcomingFeature("ExistentialAny")
]

// Products used by several targets.
let logging = Target.Dependency.product(name: "Logging", package: "swift-log")
let nioPosix = Target.Dependency.product(name: "NIOPosix", package: "swift-nio")
let nioCore = Target.Dependency.product(name: "NIOCore", package: "swift-nio")
let serviceLifecycle = Target.Dependency.product(name: "ServiceLifecycle", package: "swift-service-lifecycle")
let nioTestUtils = Target.Dependency.product(name: "NIOTestUtils", package: "swift-nio")
let nioEmbedded = Target.Dependency.product(name: "NIOEmbedded", package: "swift-nio")
let metrics = Target.Dependency.product(name: "Metrics", package: "swift-metrics")
let nioSSL = Target.Dependency.product(name: "NIOSSL", package: "swift-nio-ssl")
// ParleyContacts uses SQLiteNIO; ParleyStorage uses the SQLite it vendors (its C module
// VaporCSQLite) directly, through SQLiteHandle, with prepared statements kept.
let sqliteNIO = Target.Dependency.product(name: "SQLiteNIO", package: "sqlite-nio")
let prometheus = Target.Dependency.product(name: "Prometheus", package: "swift-prometheus")
let postgresNIO = Target.Dependency.product(name: "PostgresNIO", package: "postgres-nio")
let asyncHTTPClient = Target.Dependency.product(name: "AsyncHTTPClient", package: "async-http-client")
let grpcCore = Target.Dependency.product(name: "GRPCCore", package: "grpc-swift-2")
let grpcHTTP2 = Target.Dependency.product(name: "GRPCNIOTransportHTTP2", package: "grpc-swift-nio-transport")
let grpcProtobuf = Target.Dependency.product(name: "GRPCProtobuf", package: "grpc-swift-protobuf")

let package = Package(
    name: "parley",
    platforms: [.macOS(.v15)],
    products: [
        .executable(name: "parley", targets: ["parley"])
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser.git", from: "1.8.2"),
        .package(url: "https://github.com/apple/swift-crypto.git", "3.12.3"..<"5.0.0"),
        .package(url: "https://github.com/apple/swift-log.git", from: "1.16.2"),
        .package(url: "https://github.com/apple/swift-metrics.git", from: "2.13.0"),
        .package(url: "https://github.com/apple/swift-nio.git", from: "2.101.3"),
        .package(url: "https://github.com/apple/swift-nio-ssl.git", from: "2.37.6"),
        // Exact: the committed generated code (scripts/generate-grpc.sh) matches these versions.
        .package(url: "https://github.com/apple/swift-protobuf.git", exact: "1.39.0"),
        .package(url: "https://github.com/grpc/grpc-swift-2.git", exact: "2.4.3"),
        .package(url: "https://github.com/grpc/grpc-swift-nio-transport.git", exact: "2.9.2"),
        .package(url: "https://github.com/grpc/grpc-swift-protobuf.git", exact: "2.4.1"),
        .package(url: "https://github.com/HdrHistogram/hdrhistogram-swift.git", from: "0.2.0"),
        .package(url: "https://github.com/apple/swift-http-types.git", from: "1.8.0"),
        .package(url: "https://github.com/hummingbird-project/hummingbird.git", from: "2.28.1"),
        .package(url: "https://github.com/hummingbird-project/hummingbird-auth.git", from: "2.5.0"),
        .package(url: "https://github.com/hummingbird-project/hummingbird-websocket.git", from: "2.8.1"),
        .package(url: "https://github.com/hummingbird-project/swift-mustache.git", from: "2.1.1"),
        .package(url: "https://github.com/swift-server/async-http-client.git", from: "1.37.0"),
        .package(url: "https://github.com/swift-server/swift-prometheus.git", from: "2.4.1"),
        .package(url: "https://github.com/swift-server/swift-service-lifecycle.git", from: "2.13.0"),
        .package(url: "https://github.com/vapor/postgres-nio.git", from: "1.33.2"),
        .package(url: "https://github.com/vapor/sqlite-nio.git", from: "1.13.2"),
    ],
    targets: [
        .target(
            name: "ParleyCore",
            swiftSettings: swiftSettings
        ),
        // What NIO's async server channels need and do not provide; knows nothing of Parley.
        .target(
            name: "NIOServerSupport",
            dependencies: [nioCore],
            swiftSettings: swiftSettings
        ),
        .target(
            name: "JSONRPC",
            dependencies: [
                "NIOServerSupport", nioCore, nioPosix, logging, metrics, serviceLifecycle,
            ],
            swiftSettings: swiftSettings
        ),
        .target(
            name: "ZooKeeperClient",
            dependencies: [
                nioCore, nioPosix, logging,
            ],
            swiftSettings: swiftSettings
        ),
        .target(
            name: "RedisClient",
            dependencies: [
                nioCore, nioPosix, logging,
            ],
            swiftSettings: swiftSettings
        ),
        .target(
            name: "SMTPClient",
            dependencies: [
                nioCore, nioPosix, nioSSL, logging,
            ],
            swiftSettings: swiftSettings
        ),
        .target(
            name: "ParleyStorage",
            dependencies: [
                "ParleyCore", sqliteNIO, postgresNIO, nioCore, nioPosix, nioSSL, logging, serviceLifecycle,
            ],
            swiftSettings: swiftSettings
        ),
        .target(
            name: "ParleyBackend",
            dependencies: [
                "ParleyCore", "ParleyStorage", "JSONRPC", "ParleyVerifier", "ZooKeeperClient",
                .product(name: "HummingbirdBcrypt", package: "hummingbird-auth"), nioPosix,
                .product(name: "Crypto", package: "swift-crypto"), logging, metrics, serviceLifecycle,
            ],
            swiftSettings: swiftSettings
        ),
        .target(
            name: "ParleyGateway",
            dependencies: [
                "ParleyCore", "ParleyContacts", "JSONRPC", "ParleyVerifier", "ParleyBalancer", "ZooKeeperClient",
                .product(name: "Hummingbird", package: "hummingbird"), .product(name: "HTTPTypes", package: "swift-http-types"),
                .product(name: "NIOHTTP1", package: "swift-nio"), .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "Mustache", package: "swift-mustache"), logging, metrics, prometheus,
                serviceLifecycle,
            ],
            resources: [.copy("Resources")],
            swiftSettings: swiftSettings
        ),
        .target(
            name: "ParleyContacts",
            dependencies: [
                "ParleyCore", "NIOServerSupport", nioCore, nioPosix, sqliteNIO, logging, metrics, serviceLifecycle,
            ],
            swiftSettings: swiftSettings
        ),
        // The .proto files and the code generated from them by scripts/generate-grpc.sh, committed;
        // and the client transport every gRPC client uses.
        .target(
            name: "ParleyGRPC",
            dependencies: [
                "ParleyCore", grpcCore, grpcHTTP2, grpcProtobuf, nioCore, .product(name: "SwiftProtobuf", package: "swift-protobuf"),
            ],
            exclude: ["Protos"],
            swiftSettings: swiftSettings
        ),
        .target(
            name: "ParleyVerifier",
            dependencies: [
                "ParleyCore", "ParleyGRPC", "SMTPClient", "RedisClient", nioCore, logging, serviceLifecycle,
                grpcCore, grpcHTTP2, grpcProtobuf,
            ],
            swiftSettings: swiftSettings
        ),
        // Issue 6: chat servers register with the balancer and report their load; the gateway asks it
        // for the least-loaded one and a signed ticket (HMAC-SHA256) that the chat server checks itself.
        .target(
            name: "ParleyBalancer",
            dependencies: [
                "ParleyCore", "ParleyGRPC", .product(name: "Crypto", package: "swift-crypto"), nioCore, logging,
                serviceLifecycle, grpcCore, grpcHTTP2,
            ],
            swiftSettings: swiftSettings
        ),
        // Issue 6: the chat protocol's codec and the chat server (TCP frames and WebSocket).
        .target(
            name: "ParleyChat",
            dependencies: [
                "ParleyCore", "ParleyBalancer", nioCore, nioPosix, logging, serviceLifecycle,
                .product(name: "Hummingbird", package: "hummingbird"), .product(name: "HummingbirdCore", package: "hummingbird"),
                .product(name: "HummingbirdWebSocket", package: "hummingbird-websocket"),
                .product(name: "NIOWebSocket", package: "swift-nio"),
            ],
            swiftSettings: swiftSettings
        ),
        .target(
            name: "ParleyClient",
            dependencies: [
                "ParleyCore", asyncHTTPClient,
            ],
            swiftSettings: swiftSettings
        ),
        .executableTarget(
            name: "parley",
            dependencies: [
                "ParleyCore", "ParleyStorage", "ParleyBackend", "ParleyGateway", "ParleyClient",
                "ParleyContacts", "ParleyVerifier", "ParleyBalancer", "ParleyChat", "JSONRPC", "ZooKeeperClient", "RedisClient",
                "SMTPClient", .product(name: "Histogram", package: "hdrhistogram-swift"), .product(name: "ArgumentParser", package: "swift-argument-parser"), metrics,
                prometheus, nioCore, nioPosix, logging, serviceLifecycle,
            ],
            swiftSettings: swiftSettings
        ),
        // Helpers shared by the test targets: real servers (PostgreSQL …) started for tests.
        .target(
            name: "ParleyTestSupport",
            dependencies: ["ParleyVerifier", "SMTPClient"],
            path: "Tests/ParleyTestSupport",
            exclude: ["smtp_test_server.py"],
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "JSONRPCTests",
            dependencies: [
                "JSONRPC", nioCore, nioPosix, nioEmbedded, nioTestUtils,
            ],
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "ZooKeeperClientTests",
            dependencies: [
                "ZooKeeperClient", "ParleyTestSupport", nioCore, nioPosix, nioEmbedded, nioTestUtils, logging,
            ],
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "RedisClientTests",
            dependencies: [
                "RedisClient", "ParleyTestSupport", nioCore, nioPosix, nioEmbedded, nioTestUtils, logging,
            ],
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "SMTPClientTests",
            dependencies: [
                "SMTPClient", "ParleyTestSupport", nioCore, nioPosix, nioSSL, nioEmbedded, nioTestUtils,
                logging,
            ],
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "ParleyStorageTests",
            dependencies: [
                "ParleyCore", "ParleyStorage", "ParleyTestSupport", logging, postgresNIO,
            ],
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "ParleyContactsTests",
            dependencies: [
                "ParleyContacts", nioCore, nioPosix, nioEmbedded, nioTestUtils, logging,
            ],
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "ParleyVerifierTests",
            dependencies: [
                "ParleyVerifier", "ParleyCore", "SMTPClient", "RedisClient", "ParleyTestSupport", logging,
                "ParleyGRPC", serviceLifecycle, grpcCore, grpcHTTP2,
            ],
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "ParleyBalancerTests",
            dependencies: [
                "ParleyBalancer", "ParleyCore", "ParleyGRPC", "ParleyTestSupport", logging, serviceLifecycle, grpcCore, grpcHTTP2,
            ],
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "ParleyChatTests",
            dependencies: ["ParleyChat", nioCore, nioEmbedded, nioTestUtils],
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "ParleyClientTests",
            dependencies: ["ParleyCore", "ParleyClient"],
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "ParleyTests",
            dependencies: [
                "ParleyCore", "ParleyStorage", "ParleyBackend", "ParleyGateway", "ParleyClient",
                "ParleyContacts", "ParleyTestSupport", "ParleyVerifier", "ParleyBalancer", "ParleyChat", "JSONRPC", nioEmbedded,
                nioTestUtils, serviceLifecycle, .product(name: "HummingbirdWSClient", package: "hummingbird-websocket"),
                .product(name: "NIOWebSocket", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"), nioPosix,
                .product(name: "HummingbirdTesting", package: "hummingbird"), asyncHTTPClient,
            ],
            swiftSettings: swiftSettings
        ),
    ]
)
