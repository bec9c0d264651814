/// An error from ``JSONRPCClient/call(_:_:as:timeout:)``.
public struct JSONRPCClientError: Error, Hashable, Sendable, CustomStringConvertible {
    /// What went wrong.
    public enum Code: Hashable, Sendable {
        /// The server could not be reached: connection refused, connect timeout, or the client was
        /// shut down. The request was not sent.
        case unavailable
        /// The connection was lost while the call was in flight; the server may or may not have run it.
        case connectionClosed
        /// No response arrived within the call's timeout; a late response is dropped.
        case timeout
        /// The server answered with an error. Its `"code: message"` string is split at the first
        /// `": "` (see ``JSONRPCError/init(wireMessage:)``): a string without a plausible code gives
        /// code `"unknown"` and the whole string as the message.
        case remote(code: String, message: String)
        /// The response could not be decoded (not JSON-RPC, or the result is not of the expected type).
        case invalidResponse
        /// The parameters could not be encoded as JSON; nothing was sent.
        case invalidRequest
    }

    /// What went wrong.
    public var code: Code
    /// Details for logs, such as the address and the underlying error.
    public var detail: String

    /// Creates an error.
    public init(code: Code, detail: String) {
        self.code = code
        self.detail = detail
    }

    /// A human readable description of the error.
    public var description: String {
        switch self.code {
        case .unavailable: return "JSON-RPC server unavailable: \(self.detail)"
        case .connectionClosed: return "JSON-RPC connection closed with the call in flight: \(self.detail)"
        case .timeout: return "JSON-RPC call timed out: \(self.detail)"
        case .remote(let code, let message): return "\(code): \(message)"
        case .invalidResponse: return "invalid JSON-RPC response: \(self.detail)"
        case .invalidRequest: return "invalid JSON-RPC request: \(self.detail)"
        }
    }

    static func unavailable(_ detail: String) -> Self { Self(code: .unavailable, detail: detail) }
    static func connectionClosed(_ detail: String) -> Self { Self(code: .connectionClosed, detail: detail) }
    static func timeout(_ detail: String) -> Self { Self(code: .timeout, detail: detail) }
    static func invalidResponse(_ detail: String) -> Self { Self(code: .invalidResponse, detail: detail) }
}
