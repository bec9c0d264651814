/// The machine-readable code of an `error` frame.
///
/// The first eight are Parley's own codes (`ParleyError.Code`), with the same spelling and
/// meaning; the rest belong to the chat protocol.
public enum ChatErrorCode: String, Sendable, Hashable, Codable, CaseIterable {
    /// The frame or a field broke a rule: not JSON, not an object, a field missing or of the
    /// wrong type or out of range, a server-only type sent by the client.
    case invalidInput = "invalid_input"
    /// No valid token yet, or the token is forged, expired or for another server.
    case unauthenticated
    /// The user, request or conversation does not exist, or is not the caller's to see.
    case notFound = "not_found"
    /// The caller may not do this (such as accepting a request sent to someone else).
    case forbidden
    /// A frame's declared body length, or a field, is over its limit.
    case tooLarge = "too_large"
    /// Too many frames or requests; the message says when to try again.
    case rateLimited = "rate_limited"
    /// A dependency (the backend) cannot be reached right now; try again later.
    case unavailable
    /// Something failed that the client cannot fix; details are in the server log.
    case `internal`
    /// The frame's type number or name is not one this server knows.
    case unknownType = "unknown_type"
    /// A text was sent to someone who is not a friend.
    case notFriends = "not_friends"
    /// A friend request between the two users is already pending, in either direction.
    case alreadyRequested = "already_requested"
    /// The two users are already friends.
    case alreadyFriends = "already_friends"
    /// A user sent a friend request to themselves.
    case selfRequest = "self_request"

    /// Decodes a code; one this side does not know becomes ``internal`` so that a client keeps
    /// working against a newer server.
    public init(from decoder: any Decoder) throws {
        let raw = try decoder.singleValueContainer().decode(String.self)
        self = ChatErrorCode(rawValue: raw) ?? .internal
    }
}
