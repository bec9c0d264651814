import NIOCore

extension RedisClient {
    /// The remaining time to live of a key, as `PTTL` reports it.
    public enum TimeToLive: Sendable, Hashable {
        /// The key does not exist (`-2`).
        case noKey
        /// The key exists and never expires (`-1`).
        case noExpiry
        /// The key expires after this long (millisecond precision).
        case expires(in: Duration)
    }

    /// `PING`: checks that the server answers; throws otherwise.
    public func ping() async throws {
        let reply = try await self.send(RESPCommand("PING"))
        guard reply.string == "PONG" else {
            throw self.unexpected(reply, to: "PING")
        }
    }

    /// `GET key`: the value as UTF-8 text, or `nil` if the key does not exist.
    public func get(_ key: String) async throws -> String? {
        let reply = try await self.send(RESPCommand("GET", key))
        return try self.optionalString(reply, to: "GET")
    }

    /// `SET key value [EX seconds | PX milliseconds] [NX]` in one command.
    ///
    /// - Parameters:
    ///   - key: The key.
    ///   - value: The value.
    ///   - expiry: Deletes the key after this long: `EX` for whole seconds, else `PX` (rounded up to
    ///     a millisecond); `nil` for no expiry. Must be positive.
    ///   - onlyIfAbsent: Sets the key only if it does not exist (`NX`): an atomic set-if-absent.
    /// - Returns: `true` if the key was set, `false` if `onlyIfAbsent` kept an existing key.
    @discardableResult
    public func set(_ key: String, _ value: String, expiry: Duration? = nil, onlyIfAbsent: Bool = false) async throws -> Bool {
        var arguments = ["SET", key, value]
        if let expiry {
            arguments += Self.expiryArguments(expiry, seconds: "EX", milliseconds: "PX")
        }
        if onlyIfAbsent {
            arguments.append("NX")
        }
        let reply = try await self.send(RESPCommand(arguments))
        if reply.isNull {
            return false
        }
        guard reply == .simpleString("OK") else {
            throw self.unexpected(reply, to: "SET")
        }
        return true
    }

    /// `DEL key …`: deletes the keys and returns how many existed (0, without a round trip, for no keys).
    @discardableResult
    public func del(_ keys: [String]) async throws -> Int {
        guard !keys.isEmpty else {
            return 0
        }
        return Int(try await self.integer(RESPCommand(["DEL"] + keys), to: "DEL"))
    }

    /// `DEL key …`: deletes the keys and returns how many existed.
    @discardableResult
    public func del(_ keys: String...) async throws -> Int {
        try await self.del(keys)
    }

    /// `INCR key`: adds one to the integer at `key` (0 if missing) and returns the new value.
    public func incr(_ key: String) async throws -> Int64 {
        try await self.integer(RESPCommand("INCR", key), to: "INCR")
    }

    /// `EXPIRE key seconds` (or `PEXPIRE` for a duration that is not whole seconds).
    ///
    /// - Returns: `true` if the timeout was set, `false` if the key does not exist.
    @discardableResult
    public func expire(_ key: String, after duration: Duration) async throws -> Bool {
        let arguments = Self.expiryArguments(duration, seconds: "EXPIRE", milliseconds: "PEXPIRE")
        let command = RESPCommand([arguments[0], key, arguments[1]])
        return try await self.integer(command, to: command.name) == 1
    }

    /// `PTTL key`: how long until the key expires, with millisecond precision.
    public func ttl(_ key: String) async throws -> TimeToLive {
        switch try await self.integer(RESPCommand("PTTL", key), to: "PTTL") {
        case -2: return .noKey
        case -1: return .noExpiry
        case let milliseconds where milliseconds >= 0: return .expires(in: .milliseconds(milliseconds))
        case let other: throw RedisClientError.protocolError("unexpected PTTL reply \(other) from \(self.address)")
        }
    }

    /// `GETDEL key` (Redis 6.2 and later): returns the value and deletes the key in one atomic step,
    /// or `nil` if the key does not exist. Of many concurrent callers, exactly one gets the value.
    public func getdel(_ key: String) async throws -> String? {
        let reply = try await self.send(RESPCommand("GETDEL", key))
        return try self.optionalString(reply, to: "GETDEL")
    }

    /// `EVAL script numkeys key … arg …`: runs a Lua script atomically, with `KEYS` and `ARGV`.
    ///
    /// No other command runs on the server while the script runs, so a script that reads, compares
    /// and deletes a key does so without a race.
    ///
    /// - Returns: The script's reply; a script error is thrown as ``RedisClientError/Code/server(_:)``.
    public func eval(_ script: String, keys: [String] = [], args: [String] = []) async throws -> RESPValue {
        try await self.send(RESPCommand(["EVAL", script, String(keys.count)] + keys + args))
    }

    // MARK: - Helpers

    /// `[secondsOption, n]` for a whole number of seconds, else `[millisecondsOption, n]` rounded up.
    static func expiryArguments(_ duration: Duration, seconds: String, milliseconds: String) -> [String] {
        let (whole, attoseconds) = duration.components
        if attoseconds == 0 {
            return [seconds, String(whole)]
        }
        let perMillisecond: Int64 = 1_000_000_000_000_000
        var total = whole * 1000 + attoseconds / perMillisecond
        if attoseconds % perMillisecond > 0 {
            total += 1
        }
        return [milliseconds, String(total)]
    }

    private func integer(_ command: RESPCommand, to name: String) async throws -> Int64 {
        let reply = try await self.send(command)
        guard case .integer(let value) = reply else {
            throw self.unexpected(reply, to: name)
        }
        return value
    }

    private func optionalString(_ reply: RESPValue, to name: String) throws -> String? {
        if reply.isNull {
            return nil
        }
        guard case .bulkString(let buffer?) = reply else {
            throw self.unexpected(reply, to: name)
        }
        return String(buffer: buffer)
    }

    private func unexpected(_ reply: RESPValue, to name: String) -> RedisClientError {
        .protocolError("unexpected reply to \(name) from \(self.address): \(Self.kind(of: reply))")
    }

    private static func kind(of reply: RESPValue) -> String {
        switch reply {
        case .simpleString: return "simple string"
        case .error: return "error"
        case .integer: return "integer"
        case .bulkString: return "bulk string"
        case .array: return "array"
        case .null: return "null"
        case .boolean: return "boolean"
        case .double: return "double"
        case .bigNumber: return "big number"
        case .verbatimString: return "verbatim string"
        case .map: return "map"
        case .set: return "set"
        case .push: return "push"
        }
    }
}
