import ParleyTestSupport
import NIOCore
import RedisClient
import Testing

@Suite("RedisClient against redis-server", .enabled(if: RedisServer.isEnabled))
struct RedisClientTests {
    @Test func authenticatesWithThePassword() async throws {
        let server = try await RedisServer.shared()
        try await RedisTesting.withClient(await RedisTesting.configuration(server)) { redis in
            try await redis.ping()
            #expect(try await redis.send(["ACL", "WHOAMI"]).string == "default")
        }
    }

    @Test func wrongPasswordIsAClearAuthenticationError() async throws {
        let server = try await RedisServer.shared()
        let configuration = await RedisTesting.configuration(server, password: "not-the-password")
        try await RedisTesting.withClient(configuration) { redis in
            let error = try #require(await #expect(throws: RedisClientError.self) { try await redis.ping() })
            #expect(error.serverErrorPrefix == "WRONGPASS")
            #expect(error.isAuthenticationFailure)
            #expect(error.description.contains("authentication failed at 127.0.0.1:"))
            #expect(!error.description.contains("not-the-password"))
            // Every command fails the same way; the client neither hangs nor spins.
            await #expect(throws: RedisClientError.self) { try await redis.get("k") }
        }
    }

    @Test func missingPasswordGetsNOAUTH() async throws {
        let server = try await RedisServer.shared()
        var configuration = await RedisTesting.configuration(server)
        configuration.password = nil
        try await RedisTesting.withClient(configuration) { redis in
            let error = try #require(await #expect(throws: RedisClientError.self) { try await redis.get("k") })
            #expect(error.serverErrorPrefix == "NOAUTH")
        }
    }

    @Test func configurationNeverShowsThePassword() {
        let configuration = RedisClient.Configuration(host: "redis.example", password: "hunter2", database: 3)
        #expect(!"\(configuration)".contains("hunter2"))
        #expect(!String(reflecting: configuration).contains("hunter2"))
        var dumped = ""
        dump(configuration, to: &dumped)
        #expect(!dumped.contains("hunter2"))
        #expect("\(configuration)".contains("redis://redis.example:6379/3"))
    }

    @Test func selectKeepsDatabasesApart() async throws {
        let server = try await RedisServer.shared()
        let key = RedisTesting.key()
        try await RedisTesting.withClient(await RedisTesting.configuration(server, database: 1)) { one in
            try await RedisTesting.withClient(await RedisTesting.configuration(server, database: 2)) { two in
                try await one.set(key, "in database 1")
                #expect(try await two.get(key) == nil)
                try await two.set(key, "in database 2")
                #expect(try await one.get(key) == "in database 1")
                #expect(try await two.get(key) == "in database 2")
                #expect(try await one.del(key) == 1)
                #expect(try await two.get(key) == "in database 2")
                try await two.del(key)
            }
        }
    }

    @Test func stringCommands() async throws {
        let server = try await RedisServer.shared()
        let key = RedisTesting.key()
        try await RedisTesting.withClient(await RedisTesting.configuration(server)) { redis in
            #expect(try await redis.get(key) == nil)
            #expect(try await redis.set(key, "été ☀︎"))
            #expect(try await redis.get(key) == "été ☀︎")
            #expect(try await redis.ttl(key) == .noExpiry)
            // NX keeps an existing key; without NX the value is replaced.
            #expect(try await redis.set(key, "other", onlyIfAbsent: true) == false)
            #expect(try await redis.get(key) == "été ☀︎")
            #expect(try await redis.set(key, "v2"))
            #expect(try await redis.get(key) == "v2")
            // EX sets a time to live; EXPIRE changes it.
            #expect(try await redis.set(key, "v3", expiry: .seconds(100)))
            let ttl = try await redis.ttl(key)
            guard case .expires(let remaining) = ttl else {
                Issue.record("no time to live: \(ttl)")
                return
            }
            #expect(remaining > .seconds(95) && remaining <= .seconds(100))
            #expect(try await redis.expire(key, after: .seconds(50)))
            let shorter = try await redis.ttl(key)
            guard case .expires(let left) = shorter else {
                Issue.record("no time to live: \(shorter)")
                return
            }
            #expect(left <= .seconds(50))
            #expect(try await redis.del(key, RedisTesting.key()) == 1)
            #expect(try await redis.ttl(key) == .noKey)
            #expect(try await redis.expire(key, after: .seconds(5)) == false)
            // INCR counts from zero; GETDEL returns and removes.
            #expect(try await redis.incr(key) == 1)
            #expect(try await redis.incr(key) == 2)
            #expect(try await redis.getdel(key) == "2")
            #expect(try await redis.getdel(key) == nil)
        }
    }

    @Test func errorRepliesAreThrownWithTheServerMessage() async throws {
        let server = try await RedisServer.shared()
        let key = RedisTesting.key()
        try await RedisTesting.withClient(await RedisTesting.configuration(server)) { redis in
            try await redis.set(key, "not a number")
            let error = try #require(await #expect(throws: RedisClientError.self) { try await redis.incr(key) })
            #expect(error.code == .server("ERR value is not an integer or out of range"))
            #expect(error.description == "Redis error (INCR): ERR value is not an integer or out of range")
            await #expect(throws: RedisClientError.self) { try await redis.send(["NO-SUCH-COMMAND"]) }
            // The connection is still usable afterwards.
            #expect(try await redis.get(key) == "not a number")
            try await redis.del(key)
        }
    }

    @Test func expiredKeysAreGone() async throws {
        let server = try await RedisServer.shared()
        let key = RedisTesting.key()
        let other = RedisTesting.key()
        try await RedisTesting.withClient(await RedisTesting.configuration(server)) { redis in
            #expect(try await redis.set(key, "short", expiry: .seconds(1)))  // SET … EX 1
            try await redis.set(other, "short too")
            #expect(try await redis.expire(other, after: .milliseconds(700)))  // PEXPIRE 700
            #expect(try await redis.get(key) == "short")
            #expect(try await redis.get(other) == "short too")
            try await Task.sleep(for: .milliseconds(1300))
            #expect(try await redis.get(key) == nil)
            #expect(try await redis.get(other) == nil)
            #expect(try await redis.ttl(key) == .noKey)
        }
    }

    @Test func binaryValuesRoundTrip() async throws {
        let server = try await RedisServer.shared()
        let key = RedisTesting.key()
        let bytes = ByteBuffer(bytes: (0...255).map { UInt8($0) } + [0x0D, 0x0A])
        try await RedisTesting.withClient(await RedisTesting.configuration(server)) { redis in
            _ = try await redis.send([ByteBuffer(string: "SET"), ByteBuffer(string: key), bytes])
            #expect(try await redis.send(["GET", key]) == .bulkString(bytes))
            try await redis.del(key)
        }
    }

    @Test func resp3ConnectionsUseHello() async throws {
        let server = try await RedisServer.shared()
        let key = RedisTesting.key()
        let configuration = await RedisTesting.configuration(server, database: 3, protocolVersion: .resp3)
        try await RedisTesting.withClient(configuration) { redis in
            try await redis.ping()
            _ = try await redis.send(["HSET", key, "field", "value"])
            let expected = RESPValue.map([
                .init(key: .bulkString(ByteBuffer(string: "field")), value: .bulkString(ByteBuffer(string: "value")))
            ])
            #expect(try await redis.send(["HGETALL", key]) == expected)
            #expect(try await redis.get(RedisTesting.key()) == nil)  // `_` null in RESP3
            _ = try await redis.send(["ZADD", key + ":z", "1.5", "m"])
            #expect(try await redis.send(["ZSCORE", key + ":z", "m"]) == .double(1.5))
            #expect(try await redis.set(key + ":s", "v", expiry: .seconds(5), onlyIfAbsent: true))
            #expect(try await redis.set(key + ":s", "v", expiry: .seconds(5), onlyIfAbsent: true) == false)
            try await redis.del(key, key + ":z", key + ":s")
        }
        var wrong = configuration
        wrong.password = "wrong"
        try await RedisTesting.withClient(wrong) { redis in
            let error = try #require(await #expect(throws: RedisClientError.self) { try await redis.ping() })
            #expect(error.isAuthenticationFailure)
        }
    }
}
