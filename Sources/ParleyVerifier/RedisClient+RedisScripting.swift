import RedisClient

extension RedisClient: RedisScripting {
    /// `EVAL` with the reply as integers, for ``RedisCodeStore``.
    public func evalIntegers(_ script: String, keys: [String], arguments: [String]) async throws -> [Int64] {
        let reply = try await self.eval(script, keys: keys, args: arguments)
        if case .integer(let value) = reply { return [value] }
        guard let elements = reply.array else {
            throw RedisCodeStoreError(description: "a code store script answered \(reply), not integers")
        }
        return try elements.map { element in
            guard case .integer(let value) = element else {
                throw RedisCodeStoreError(description: "a code store script answered \(reply), not integers")
            }
            return value
        }
    }
}
