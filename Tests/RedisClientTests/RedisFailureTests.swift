import ParleyTestSupport
import NIOCore
import RedisClient
import Testing

@Suite("RedisClient failures, timeouts and recovery", .enabled(if: RedisServer.isEnabled))
struct RedisFailureTests {
    @Test func refusedConnectionFailsQuickly() async throws {
        let port = try TestProcesses.freePort()  // nothing listens there
        let configuration = RedisClient.Configuration(host: "127.0.0.1", port: port, password: "x")
        try await RedisTesting.withClient(configuration) { redis in
            let start = ContinuousClock.now
            let error = try #require(await #expect(throws: RedisClientError.self) { try await redis.ping() })
            #expect(error.code == .connectionFailed)
            #expect(error.description.contains("127.0.0.1:\(port)"))
            #expect(ContinuousClock.now - start < .seconds(1))
        }
    }

    @Test func silentServerTimesOut() async throws {
        let silent = try await CannedServer(reply: nil)
        defer { Task { await silent.close() } }
        var configuration = RedisClient.Configuration(host: "127.0.0.1", port: silent.port, commandTimeout: .milliseconds(200))
        try await RedisTesting.withClient(configuration) { redis in
            let start = ContinuousClock.now
            let error = try #require(await #expect(throws: RedisClientError.self) { try await redis.get("k") })
            #expect(error.code == .timeout)
            #expect(error.description.contains("no reply to GET"))
            #expect(ContinuousClock.now - start < .seconds(2))
            // Every command in flight on the stalled connection fails too; none hangs.
            await #expect(throws: RedisClientError.self) {
                _ = try await redis.pipeline([["PING"], ["PING"]], timeout: .milliseconds(100))
            }
        }
        // The connection setup (AUTH) is bounded by the same timeout.
        configuration.password = "secret"
        try await RedisTesting.withClient(configuration) { redis in
            let error = try #require(await #expect(throws: RedisClientError.self) { try await redis.ping() })
            #expect(error.code == .timeout)
            #expect(error.description.contains("connection setup"))
        }
    }

    @Test func blockedCommandTimesOutAndTheClientCarriesOn() async throws {
        let server = try await RedisServer.shared()
        let key = RedisTesting.key()
        try await RedisTesting.withClient(await RedisTesting.configuration(server, poolSize: 1)) { redis in
            let error = try #require(await #expect(throws: RedisClientError.self) {
                try await redis.send(["BLPOP", key, "10"], timeout: .milliseconds(200))
            })
            #expect(error.code == .timeout)
            try await redis.ping()
            #expect(try await redis.incr(key) == 1)
            try await redis.del(key)
        }
    }

    @Test func cancelledCallerDoesNotDisturbTheOthers() async throws {
        let server = try await RedisServer.shared()
        let key = RedisTesting.key()
        try await RedisTesting.withClient(await RedisTesting.configuration(server, poolSize: 1)) { redis in
            let blocked = Task { try await redis.send(["BLPOP", key, "1"]) }
            try await Task.sleep(for: .milliseconds(100))
            blocked.cancel()
            await #expect(throws: CancellationError.self) { try await blocked.value }
            // The reply to the cancelled BLPOP (a null after 1 s) is dropped, not given to this GET.
            try await redis.set(key + ":other", "mine")
            #expect(try await redis.get(key + ":other") == "mine")
            try await redis.del(key + ":other")
        }
    }

    @Test func serverKilledThenRestartedOnTheSamePort() async throws {
        let server = RedisServer()
        try await server.start()
        let configuration = await RedisTesting.configuration(server, commandTimeout: .seconds(5), poolSize: 2)
        let key = RedisTesting.key()
        do {
            try await RedisTesting.withClient(configuration) { redis in
                try await redis.set(key, "before")
                // A command in flight when the server dies fails at once, not at its timeout.
                let inFlight = Task { try await redis.send(["BLPOP", key + ":list", "30"]) }
                try await Task.sleep(for: .milliseconds(100))
                let start = ContinuousClock.now
                await server.kill()
                let lost = try #require(await #expect(throws: RedisClientError.self) { try await inFlight.value })
                #expect(lost.code == .connectionFailed)
                // While it is down, commands fail quickly with a clear error.
                for _ in 0..<3 {
                    let down = try #require(await #expect(throws: RedisClientError.self) { try await redis.get(key) })
                    #expect(down.code == .connectionFailed)
                }
                #expect(ContinuousClock.now - start < .seconds(2))

                try await server.start()
                // Data was not persisted (--save ''), but the client reconnects by itself.
                #expect(try await redis.get(key) == nil)
                try await redis.ping()
                #expect(try await redis.set(key, "after"))
                #expect(try await redis.get(key) == "after")
            }
        } catch {
            await server.shutdown()
            throw error
        }
        await server.shutdown()
    }

    @Test func shutDownClientRefusesCommands() async throws {
        let server = try await RedisServer.shared()
        let redis = RedisClient(configuration: await RedisTesting.configuration(server))
        try await redis.ping()
        await redis.shutdown()
        let error = try #require(await #expect(throws: RedisClientError.self) { try await redis.ping() })
        #expect(error.code == .closed)
    }

    @Test func garbageFromTheServerIsAProtocolError() async throws {
        let server = try await CannedServer(reply: "HTTP/1.1 400 Bad Request\r\n\r\n")
        defer { Task { await server.close() } }
        try await RedisTesting.withClient(RedisClient.Configuration(host: "127.0.0.1", port: server.port)) { redis in
            let error = try #require(await #expect(throws: RedisClientError.self) { try await redis.ping() })
            #expect(error.code == .protocolError)
            #expect(error.description.contains("unknown RESP type byte 'H'"))
        }
    }
}
