/// An error a handler can throw to send a specific error to the caller.
///
/// The server writes it on the wire as the string `"code: message"` (for example
/// `"username_taken: that username is already taken"`), the convention this module uses inside
/// JSON-RPC 1.0's plain-string `error` field. Any other error thrown by a handler is logged and sent
/// as `"internal: internal error"`, so internals never leak to callers.
public protocol JSONRPCErrorConvertible: Error {
    /// A short, stable, machine readable code such as `username_taken`; by convention
    /// lowercase letters, digits and underscores.
    var code: String { get }
    /// A human readable message, safe to show to the caller.
    var message: String { get }
}

/// A JSON-RPC application error: a code and a message, written on the wire as `"code: message"`.
public struct JSONRPCError: JSONRPCErrorConvertible, Hashable, Sendable, CustomStringConvertible {
    /// A short, stable, machine readable code such as `username_taken`.
    public var code: String
    /// A human readable message.
    public var message: String

    /// Creates an error with a code and a message.
    public init(code: String, message: String) {
        self.code = code
        self.message = message
    }

    /// Parses the wire form `"code: message"`.
    ///
    /// The code is the text before the first `": "` when that text is a plausible code (non-empty;
    /// only ASCII letters, digits, `_`, `-` and `.`). Otherwise, for example for a bare string sent by
    /// some other server, the code is `"unknown"` and the message is the whole string.
    public init(wireMessage: String) {
        if let separator = wireMessage.firstRange(of: ": ") {
            let code = wireMessage[..<separator.lowerBound]
            if !code.isEmpty, code.unicodeScalars.allSatisfy(Self.isCodeCharacter) {
                self.init(code: String(code), message: String(wireMessage[separator.upperBound...]))
                return
            }
        }
        self.init(code: "unknown", message: wireMessage)
    }

    /// The string sent in the response's `error` field: `"code: message"`.
    public var wireMessage: String {
        "\(self.code): \(self.message)"
    }

    /// The wire form, `"code: message"`.
    public var description: String {
        self.wireMessage
    }

    /// The request named a method that is not registered. The message keeps Go's wording,
    /// `rpc: can't find method Service.Method`.
    public static func methodNotFound(_ method: String) -> JSONRPCError {
        JSONRPCError(code: "method_not_found", message: "rpc: can't find method \(method)")
    }

    /// The request's `params` were missing or could not be decoded as the handler's parameter type.
    public static func invalidParams(_ message: String) -> JSONRPCError {
        JSONRPCError(code: "invalid_params", message: message)
    }

    /// The request was valid JSON but not a valid JSON-RPC request (for example, no method).
    public static func invalidRequest(_ message: String) -> JSONRPCError {
        JSONRPCError(code: "invalid_request", message: message)
    }

    /// The error sent for any handler error that is not ``JSONRPCErrorConvertible``.
    public static let internalError = JSONRPCError(code: "internal", message: "internal error")

    private static func isCodeCharacter(_ scalar: Unicode.Scalar) -> Bool {
        switch scalar {
        case "a"..."z", "A"..."Z", "0"..."9", "_", "-", ".": return true
        default: return false
        }
    }
}
