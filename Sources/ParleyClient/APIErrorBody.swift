import Foundation
import ParleyCore

/// The JSON error body every gateway answer other than 2xx carries:
/// `{"error":{"code":"username_taken","message":"…"}}`.
public struct APIErrorBody: Sendable, Equatable, Codable {
    /// The inner object.
    public struct Detail: Sendable, Equatable, Codable {
        /// A `ParleyError.Code` raw value; unknown codes are kept as text.
        public var code: String
        /// The message for the user.
        public var message: String

        /// Creates the detail.
        public init(code: String, message: String) {
            self.code = code
            self.message = message
        }
    }

    /// The error.
    public var error: Detail

    /// Creates the body.
    public init(error: Detail) { self.error = error }

    /// The error a non-2xx answer stands for.
    ///
    /// Decodes the JSON error body; an unknown code becomes `.internal` with the message
    /// kept. A body that is not the error JSON (a proxy's HTML page, nothing at all) gives
    /// `.unavailable` for 502/503/504 and `.internal` with `HTTP STATUS …` otherwise.
    public static func parleyError(status: Int, body: Data) -> ParleyError {
        if let decoded = try? JSONDecoder().decode(APIErrorBody.self, from: body) {
            let code = ParleyError.Code(rawValue: decoded.error.code) ?? .internal
            let message = decoded.error.message.isEmpty ? "HTTP \(status) (\(decoded.error.code))" : decoded.error.message
            return ParleyError(code, message)
        }
        let reason = Self.reasonPhrase(status)
        switch status {
        case 502, 503, 504:
            return ParleyError(.unavailable, "HTTP \(status) \(reason): the gateway cannot serve the request right now")
        default:
            return ParleyError(.internal, "HTTP \(status) \(reason) from the gateway, without an error body")
        }
    }

    /// A short reason phrase for the statuses a gateway or a proxy in front of it sends.
    static func reasonPhrase(_ status: Int) -> String {
        switch status {
        case 301, 302, 303, 307, 308: "Redirect"
        case 400: "Bad Request"
        case 401: "Unauthorized"
        case 403: "Forbidden"
        case 404: "Not Found"
        case 405: "Method Not Allowed"
        case 409: "Conflict"
        case 413: "Content Too Large"
        case 429: "Too Many Requests"
        case 500: "Internal Server Error"
        case 502: "Bad Gateway"
        case 503: "Service Unavailable"
        case 504: "Gateway Timeout"
        default: "Unexpected Status"
        }
    }
}
