/// A ``CodeStore`` in Redis, for several verifier processes sharing one set of codes and limits.
///
/// Every operation is one Lua script (`EVAL`), so it runs atomically on the server: a claim is
/// `SET NX PX`, a count reads, compares and increments in one step, and a check compares the code,
/// counts a wrong try and deletes the code without a race between processes. Expiry is Redis's own
/// (`PX`/`PEXPIRE`, measured by the server's clock); a code is a hash `{code, tries}`.
///
/// The code comparison in the script looks at every byte (`bit.bor`/`bit.bxor`), so its time does
/// not depend on where the codes differ.
public struct RedisCodeStore: CodeStore {
    private let redis: any RedisScripting

    /// A store over `redis`; the keys are the ones ``VerificationCodes`` passes (with its prefix).
    public init(redis: any RedisScripting) {
        self.redis = redis
    }

    public func claim(_ key: String, token: String, for duration: Duration) async throws -> ClaimResult {
        let reply = try await self.run(Self.claimScript, key, [token, Self.milliseconds(duration)])
        if reply.first == 1 {
            return .claimed
        }
        return .held(remaining: .milliseconds(max(1, try Self.element(reply, 1))))
    }

    public func count(_ key: String, limit: Int, window: Duration) async throws -> CountResult {
        let reply = try await self.run(Self.countScript, key, [String(limit), Self.milliseconds(window)])
        let value = try Self.element(reply, 1)
        if reply.first == 1 {
            return .counted(Int(value))
        }
        return .limited(remaining: .milliseconds(max(1, value)))
    }

    public func uncount(_ key: String) async throws {
        _ = try await self.run(Self.uncountScript, key, [])
    }

    public func putCode(_ key: String, code: String, for duration: Duration) async throws {
        _ = try await self.run(Self.putCodeScript, key, [code, Self.milliseconds(duration)])
    }

    public func consumeCode(_ key: String, code: String, maxTries: Int) async throws -> ConsumeResult {
        let reply = try await self.run(Self.consumeScript, key, [code, String(maxTries)])
        switch reply.first {
        case 0: return .accepted
        case 1: return .wrong(triesLeft: Int(try Self.element(reply, 1)))
        case 2: return .burned
        case 3: return .missing
        default: throw RedisCodeStoreError(reply: reply)
        }
    }

    public func delete(_ key: String, ifValue value: String) async throws {
        _ = try await self.run(Self.deleteScript, key, [value])
    }

    // MARK: - Scripts

    private func run(_ script: String, _ key: String, _ arguments: [String]) async throws -> [Int64] {
        let reply = try await self.redis.evalIntegers(script, keys: [key], arguments: arguments)
        guard !reply.isEmpty else {
            throw RedisCodeStoreError(reply: reply)
        }
        return reply
    }

    private static func element(_ reply: [Int64], _ index: Int) throws -> Int64 {
        guard index < reply.count else {
            throw RedisCodeStoreError(reply: reply)
        }
        return reply[index]
    }

    /// Whole milliseconds, rounded up, at least 1.
    static func milliseconds(_ duration: Duration) -> String {
        let (seconds, attoseconds) = duration.components
        let perMillisecond: Int64 = 1_000_000_000_000_000
        let total = seconds * 1000 + attoseconds / perMillisecond + (attoseconds % perMillisecond > 0 ? 1 : 0)
        return String(max(1, total))
    }

    /// ARGV: token, milliseconds. `{1}` claimed, or `{0, pttl}`.
    static let claimScript = """
        if redis.call('SET', KEYS[1], ARGV[1], 'NX', 'PX', ARGV[2]) then return {1} end
        return {0, redis.call('PTTL', KEYS[1])}
        """

    /// ARGV: limit, window in milliseconds. `{1, count}` counted, or `{0, pttl}` limited. The expiry is
    /// set when the key has none (first count), so later counts never extend the window.
    static let countScript = """
        local n = tonumber(redis.call('GET', KEYS[1]) or '0')
        if n >= tonumber(ARGV[1]) then
          local ttl = redis.call('PTTL', KEYS[1])
          if ttl < 0 then ttl = tonumber(ARGV[2]) end
          return {0, ttl}
        end
        n = redis.call('INCR', KEYS[1])
        if redis.call('PTTL', KEYS[1]) < 0 then redis.call('PEXPIRE', KEYS[1], ARGV[2]) end
        return {1, n}
        """

    /// Decrements a positive counter (DECR keeps the expiry). `{count before}`.
    static let uncountScript = """
        local n = tonumber(redis.call('GET', KEYS[1]) or '0') or 0
        if n > 0 then redis.call('DECR', KEYS[1]) end
        return {n}
        """

    /// ARGV: code, milliseconds. Replaces the key with a fresh `{code, tries = 0}`.
    static let putCodeScript = """
        redis.call('DEL', KEYS[1])
        redis.call('HSET', KEYS[1], 'code', ARGV[1], 'tries', 0)
        redis.call('PEXPIRE', KEYS[1], ARGV[2])
        return {1}
        """

    /// ARGV: code, max tries. `{0}` accepted, `{1, tries left}` wrong, `{2}` burned, `{3}` missing.
    static let consumeScript = """
        if redis.call('TYPE', KEYS[1]).ok ~= 'hash' then return {3} end
        local stored = redis.call('HGET', KEYS[1], 'code')
        if not stored then return {3} end
        local given = ARGV[1]
        local diff = 0
        if #stored ~= #given then diff = 1 end
        for i = 1, #stored do
          diff = bit.bor(diff, bit.bxor(string.byte(stored, i), string.byte(given, i) or 0))
        end
        if diff == 0 then
          redis.call('DEL', KEYS[1])
          return {0}
        end
        local tries = redis.call('HINCRBY', KEYS[1], 'tries', 1)
        local max = tonumber(ARGV[2])
        if tries >= max then
          redis.call('DEL', KEYS[1])
          return {2}
        end
        return {1, max - tries}
        """

    /// ARGV: value. Deletes a claim whose token, or a code whose code, is `value`. `{1}` deleted, `{0}` not.
    static let deleteScript = """
        local kind = redis.call('TYPE', KEYS[1]).ok
        local value = false
        if kind == 'string' then value = redis.call('GET', KEYS[1])
        elseif kind == 'hash' then value = redis.call('HGET', KEYS[1], 'code') end
        if value == ARGV[1] then
          redis.call('DEL', KEYS[1])
          return {1}
        end
        return {0}
        """
}

/// A reply of a ``RedisCodeStore`` script that is not of the expected shape.
struct RedisCodeStoreError: Error, CustomStringConvertible {
    /// What is wrong with the reply.
    var description: String

    init(description: String) {
        self.description = description
    }

    init(reply: [Int64]) {
        self.description = "unexpected reply from a code store script: \(reply)"
    }
}
