/// What ``RedisCodeStore`` needs of a Redis client: `EVAL` of a Lua script whose reply is an
/// integer or an array of integers.
///
/// The `RedisClient` module conforms in one small extension (`RedisClient+RedisScripting.swift`),
/// once `RedisClient` is a dependency of this module; tests conform with a plain RESP connection.
public protocol RedisScripting: Sendable {
    /// Runs `EVAL script numkeys keys… arguments…` and returns its reply as integers: an integer
    /// reply as one element, an array of integers as it is.
    ///
    /// - Throws: When the server cannot be reached, refuses the script, or replies with something else.
    func evalIntegers(_ script: String, keys: [String], arguments: [String]) async throws -> [Int64]
}
