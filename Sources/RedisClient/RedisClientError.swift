/// An error from ``RedisClient``.
public struct RedisClientError: Error, Hashable, Sendable, CustomStringConvertible {
    /// What went wrong.
    public enum Code: Hashable, Sendable {
        /// The server could not be reached (refused, connect timeout, unknown host), or the
        /// connection was lost. If the connection was lost with the command in flight, the server
        /// may or may not have run it.
        case connectionFailed
        /// No reply arrived within the command timeout (or the connection setup timed out). The
        /// connection is closed, since the replies after it could no longer be matched; the server
        /// may or may not have run the command.
        case timeout
        /// The server answered with an error reply: the whole text, such as
        /// `"ERR syntax error"`, `"WRONGPASS invalid username-password pair or user is disabled."`
        /// or `"NOAUTH Authentication required."`.
        case server(String)
        /// The server sent bytes that are not valid RESP, broke a decoder limit, or answered a
        /// command with a reply of an unexpected type. The connection is closed.
        case protocolError
        /// The client was shut down.
        case closed
    }

    /// What went wrong.
    public var code: Code
    /// Details for logs: the address, the command name (never its arguments), the underlying error.
    public var detail: String

    /// Creates an error.
    public init(code: Code, detail: String) {
        self.code = code
        self.detail = detail
    }

    /// For a ``Code/server(_:)`` error, the first word of the message (`"ERR"`, `"WRONGPASS"`,
    /// `"NOAUTH"`, `"WRONGTYPE"` …); otherwise `nil`.
    public var serverErrorPrefix: String? {
        guard case .server(let message) = self.code else {
            return nil
        }
        return message.split(separator: " ", maxSplits: 1).first.map(String.init)
    }

    /// Whether the server refused the credentials (`WRONGPASS`, or an `AUTH` error).
    public var isAuthenticationFailure: Bool {
        guard case .server(let message) = self.code else {
            return false
        }
        return message.hasPrefix("WRONGPASS") || message.hasPrefix("NOAUTH") || self.detail.hasPrefix("authentication failed")
    }

    /// A human readable description of the error.
    public var description: String {
        switch self.code {
        case .connectionFailed: return "Redis connection failed: \(self.detail)"
        case .timeout: return "Redis command timed out: \(self.detail)"
        case .server(let message): return "Redis error (\(self.detail)): \(message)"
        case .protocolError: return "Redis protocol error: \(self.detail)"
        case .closed: return "Redis client closed: \(self.detail)"
        }
    }

    static func connectionFailed(_ detail: String) -> Self { Self(code: .connectionFailed, detail: detail) }
    static func timeout(_ detail: String) -> Self { Self(code: .timeout, detail: detail) }
    static func protocolError(_ detail: String) -> Self { Self(code: .protocolError, detail: detail) }
    static func closed(_ detail: String) -> Self { Self(code: .closed, detail: detail) }
}
