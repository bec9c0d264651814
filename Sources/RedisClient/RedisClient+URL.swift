import Foundation
import Logging

extension RedisClient.Configuration {
    /// A configuration from a URL: `redis://[[USER]:PASSWORD@]HOST[:PORT][/DB]`.
    ///
    /// User and password may be percent-encoded; the port defaults to 6379 and the database to 0.
    /// `rediss://` (TLS) is refused: this client speaks plain TCP, for Redis on a private network.
    public init(url text: String, logger: Logger = Logger(label: "redis.client")) throws(RedisURLError) {
        guard let url = URLComponents(string: text), let scheme = url.scheme?.lowercased() else {
            throw RedisURLError("'\(Self.redacted(text))' is not a URL; write redis://:PASSWORD@HOST:PORT/DB")
        }
        guard scheme == "redis" else {
            throw RedisURLError("a Redis URL starts with redis:// (TLS, rediss://, is not supported), not \(scheme)://")
        }
        guard let host = url.host, !host.isEmpty else {
            throw RedisURLError("the Redis URL has no host")
        }
        var database = 0
        let path = url.path.trimmingCharacters(in: CharacterSet(charactersIn: "/"))
        if !path.isEmpty {
            guard let number = Int(path), number >= 0 else {
                throw RedisURLError("the Redis database (the path of the URL) is a number, not '\(path)'")
            }
            database = number
        }
        let user = url.percentEncodedUser.flatMap { $0.removingPercentEncoding }.flatMap { $0.isEmpty ? nil : $0 }
        let password = url.percentEncodedPassword.flatMap { $0.removingPercentEncoding }
        self.init(host: host, port: url.port ?? 6379, username: user, password: password, database: database, logger: logger)
    }

    /// `text` with anything between `://` and `@` replaced, for messages.
    static func redacted(_ text: String) -> String {
        guard let start = text.range(of: "://"), let at = text.range(of: "@", range: start.upperBound..<text.endIndex) else {
            return text
        }
        return String(text[..<start.upperBound]) + "***" + String(text[at.lowerBound...])
    }
}

/// A Redis URL that cannot be used; the message never holds the password.
public struct RedisURLError: Error, CustomStringConvertible, Sendable {
    /// What is wrong.
    public let description: String

    init(_ description: String) { self.description = description }
}
