/// An error a user can act on: a stable machine-readable code and a human message.
///
/// Every layer speaks it: repositories throw it, the backend sends it over JSON-RPC as
/// `"code: message"`, and the gateway maps its code to an HTTP status.
public struct ParleyError: Error, Sendable, Equatable, CustomStringConvertible {
    /// The kinds of failure a client can tell apart.
    public enum Code: String, Sendable, Codable, CaseIterable {
        /// The input broke a rule (length, characters, shape).
        case invalidInput = "invalid_input"
        /// Username or password did not match.
        case invalidCredentials = "invalid_credentials"
        /// The call needs a session and has none, or it expired.
        case unauthenticated
        /// The username is already registered (case does not matter).
        case usernameTaken = "username_taken"
        /// The email address already belongs to an account.
        case emailTaken = "email_taken"
        /// The input is larger than allowed.
        case tooLarge = "too_large"
        /// Too many attempts; the message says when to try again.
        case rateLimited = "rate_limited"
        /// A dependency (backend, database) cannot be reached right now.
        case unavailable
        /// This backend does not lead the cluster; the message names the leader when known.
        case notLeader = "not_leader"
        /// The request body is not in a format the endpoint takes.
        case unsupportedMediaType = "unsupported_media_type"
        /// A form was sent without its anti-forgery token, or with a stale one.
        case forbidden
        /// The thing asked for does not exist.
        case notFound = "not_found"
        /// Chat: a text to someone who is not a friend of the sender.
        case notFriends = "not_friends"
        /// Chat: a friend request between the two is already pending.
        case alreadyRequested = "already_requested"
        /// Chat: a friend request to a friend.
        case alreadyFriends = "already_friends"
        /// Chat: a friend request to oneself.
        case selfRequest = "self_request"
        /// Something failed that the client cannot fix; details are in the server log.
        case `internal`
    }

    /// The machine-readable kind of the error.
    public var code: Code
    /// A message meant for the person using the client.
    public var message: String

    /// Creates an error with a code and a message for the user.
    public init(_ code: Code, _ message: String) {
        self.code = code
        self.message = message
    }

    /// `code: message`, the form used on the JSON-RPC wire.
    public var description: String { "\(self.code.rawValue): \(self.message)" }

    /// Parses the `code: message` wire form; an unknown code becomes `.internal`.
    public init(wire: String) {
        if let range = wire.range(of: ": "), let code = Code(rawValue: String(wire[..<range.lowerBound])) {
            self.init(code, String(wire[range.upperBound...]))
        } else {
            self.init(.internal, wire)
        }
    }
}
