import ParleyTestSupport
import Logging
import ParleyBalancer

/// Servers and clients for the tests.
enum GRPCTesting {
    /// Runs a balancer on 127.0.0.1 (port 0) and a client of it while `body` runs.
    static func withBalancer(
        registry: ChatServerRegistry.Configuration = .init(),
        clock: BalancerClock = .system,
        _ body: (BalancerServer, BalancerClient, Int) async throws -> Void
    ) async throws {
        let server = BalancerServer(
            configuration: .init(host: "127.0.0.1", port: 0, secret: BalancerTesting.secret, registry: registry),
            clock: clock,
            logger: BalancerTesting.quietLogger
        )
        try await withThrowingTaskGroup { group in
            group.addTask { try await server.run() }
            let port = try await server.boundPort()
            let client = try BalancerClient(host: "127.0.0.1", port: port, logger: BalancerTesting.quietLogger)
            group.addTask { try await client.run() }
            try await body(server, client, port)
            group.cancelAll()
        }
    }

    /// Runs `client` while `body` runs.
    static func running(_ client: BalancerClient, _ body: () async throws -> Void) async throws {
        try await withThrowingTaskGroup { group in
            group.addTask { try await client.run() }
            try await body()
            group.cancelAll()
        }
    }

    /// A loopback port that was just free and where nothing listens now.
    static func closedPort() async throws -> Int {
        let server = BalancerServer(
            configuration: .init(host: "127.0.0.1", port: 0, secret: BalancerTesting.secret),
            logger: BalancerTesting.quietLogger
        )
        let task = Task { try await server.run() }
        let port = try await server.boundPort()
        task.cancel()
        _ = try? await task.value(within: .seconds(5))
        return port
    }

    /// Calls `body` until it returns `true`, every 20 ms, for at most `limit`; returns whether it did.
    static func eventually(within limit: Duration, _ body: () async throws -> Bool) async throws -> Bool {
        let clock = ContinuousClock()
        let deadline = clock.now.advanced(by: limit)
        while clock.now < deadline {
            if try await body() { return true }
            try await Task.sleep(for: .milliseconds(20))
        }
        return try await body()
    }

}
