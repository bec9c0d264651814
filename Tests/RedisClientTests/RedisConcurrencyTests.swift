import ParleyTestSupport
import NIOCore
import RedisClient
import Testing

@Suite("RedisClient pipelining, concurrency and atomic steps", .enabled(if: RedisServer.isEnabled))
struct RedisConcurrencyTests {
    @Test func pipelinesAThousandCommands() async throws {
        let server = try await RedisServer.shared()
        let key = RedisTesting.key()
        try await RedisTesting.withClient(await RedisTesting.configuration(server)) { redis in
            let replies = try await redis.pipeline(Array(repeating: ["INCR", key], count: 1000))
            #expect(replies == (1...1000).map { RESPValue.integer(Int64($0)) })
            // Error replies come back in their place, not thrown.
            let mixed = try await redis.pipeline([["GET", key], ["LPUSH", key, "x"], ["DEL", key]])
            #expect(mixed[0] == .bulkString(ByteBuffer(string: "1000")))
            #expect(mixed[1].errorMessage?.hasPrefix("WRONGTYPE") == true)
            #expect(mixed[2] == .integer(1))
            #expect(try await redis.pipeline([[String]]()) == [])
        }
    }

    @Test func manyCommandsInFlightOnOneConnection() async throws {
        let server = try await RedisServer.shared()
        let key = RedisTesting.key()
        try await RedisTesting.withClient(await RedisTesting.configuration(server, poolSize: 1)) { redis in
            let values = try await withThrowingTaskGroup(of: Int64.self) { group in
                for _ in 0..<300 {
                    group.addTask { try await redis.incr(key) }
                }
                return try await group.reduce(into: [Int64]()) { $0.append($1) }
            }
            #expect(Set(values) == Set(1...300))
            try await redis.del(key)
        }
    }

    @Test func twoHundredConcurrentCommandsThroughThePool() async throws {
        let server = try await RedisServer.shared()
        let prefix = RedisTesting.key()
        try await RedisTesting.withClient(await RedisTesting.configuration(server, poolSize: 3)) { redis in
            try await withThrowingTaskGroup(of: Void.self) { group in
                for index in 0..<200 {
                    group.addTask {
                        let key = "\(prefix):\(index)"
                        let stored = try await redis.set(key, "value \(index)", expiry: .seconds(30))
                        let value = try await redis.get(key)
                        #expect(stored)
                        #expect(value == "value \(index)")
                    }
                }
                try await group.waitForAll()
            }
            let clients = try await redis.send(["CLIENT", "LIST", "TYPE", "normal"]).string ?? ""
            let connected = clients.split(separator: "\n").filter { $0.contains("db=0") }
            #expect(!connected.isEmpty)
            #expect(try await redis.del((0..<200).map { "\(prefix):\($0)" }) == 200)
        }
    }

    /// The verifier's set-if-absent with expiry: one command, so no window between SET and EXPIRE.
    @Test func setIfAbsentWithExpiryHasOneWinner() async throws {
        let server = try await RedisServer.shared()
        let key = RedisTesting.key()
        try await RedisTesting.withClient(await RedisTesting.configuration(server, poolSize: 4)) { redis in
            let winners = try await withThrowingTaskGroup(of: Bool.self) { group in
                for attempt in 0..<20 {
                    group.addTask { try await redis.set(key, "code \(attempt)", expiry: .seconds(180), onlyIfAbsent: true) }
                }
                return try await group.reduce(0) { $0 + ($1 ? 1 : 0) }
            }
            #expect(winners == 1)
            guard case .expires(let remaining) = try await redis.ttl(key) else {
                Issue.record("the code has no expiry")
                return
            }
            #expect(remaining <= .seconds(180) && remaining > .seconds(170))
            try await redis.del(key)
        }
    }

    /// The verifier's check-and-consume: a script compares the stored code and deletes it in one
    /// atomic step, so of 20 concurrent consumers presenting the right code exactly one wins.
    @Test func checkAndConsumeByScriptHasOneWinner() async throws {
        let script = """
            if redis.call('GET', KEYS[1]) == ARGV[1] then
                redis.call('DEL', KEYS[1])
                return 1
            end
            return 0
            """
        let server = try await RedisServer.shared()
        let key = RedisTesting.key()
        try await RedisTesting.withClient(await RedisTesting.configuration(server, poolSize: 4)) { redis in
            try await redis.set(key, "493817", expiry: .seconds(180))
            #expect(try await redis.eval(script, keys: [key], args: ["000000"]) == .integer(0))
            #expect(try await redis.get(key) == "493817")
            let winners = try await withThrowingTaskGroup(of: Bool.self) { group in
                for _ in 0..<20 {
                    group.addTask { try await redis.eval(script, keys: [key], args: ["493817"]) == .integer(1) }
                }
                return try await group.reduce(0) { $0 + ($1 ? 1 : 0) }
            }
            #expect(winners == 1)
            #expect(try await redis.get(key) == nil)
        }
    }

    @Test func checkAndConsumeByGetdelHasOneWinner() async throws {
        let server = try await RedisServer.shared()
        let key = RedisTesting.key()
        try await RedisTesting.withClient(await RedisTesting.configuration(server, poolSize: 4)) { redis in
            try await redis.set(key, "271828", expiry: .seconds(180))
            let codes = try await withThrowingTaskGroup(of: String?.self) { group in
                for _ in 0..<20 {
                    group.addTask { try await redis.getdel(key) }
                }
                return try await group.reduce(into: [String]()) { if let code = $1 { $0.append(code) } }
            }
            #expect(codes == ["271828"])
        }
    }

    /// A rate-limit counter: INCR, and EXPIRE set by the first increment of the window.
    @Test func rateLimitCounterInAPipeline() async throws {
        let server = try await RedisServer.shared()
        let key = RedisTesting.key()
        try await RedisTesting.withClient(await RedisTesting.configuration(server)) { redis in
            for expected in 1...3 {
                let replies = try await redis.pipeline([["INCR", key], ["EXPIRE", key, "60", "NX"]])
                #expect(replies[0] == .integer(Int64(expected)))
                #expect(replies[1] == .integer(expected == 1 ? 1 : 0))
            }
            #expect(try await redis.eval("return redis.call('TTL', KEYS[1])", keys: [key]).integer ?? 0 > 55)
            let error = try #require(await #expect(throws: RedisClientError.self) { try await redis.eval("return redis.call('NOPE')") })
            #expect(error.serverErrorPrefix == "ERR")
            try await redis.del(key)
        }
    }
}
