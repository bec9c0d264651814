/// A friend request as the server keeps it.
public struct ChatFriendRequest: Codable, Sendable, Hashable {
    /// The request's id, to use in `accept_friend_request` and `decline_friend_request`.
    public var friendRequestId: Int64
    /// Who sent it.
    public var from: ChatUser
    /// Whom it is for.
    public var to: ChatUser
    /// The sender's message; may be empty.
    public var message: String
    /// The sender's alias for the target; shown to the sender only.
    public var alias: String?
    /// When it was sent, milliseconds since 1970-01-01T00:00:00Z.
    public var createdAt: Int64

    /// Creates a request value.
    public init(friendRequestId: Int64, from: ChatUser, to: ChatUser, message: String, alias: String? = nil, createdAt: Int64) {
        self.friendRequestId = friendRequestId
        self.from = from
        self.to = to
        self.message = message
        self.alias = alias
        self.createdAt = createdAt
    }
}

/// `send_friend_request` (18), client → server.
public struct ChatSendFriendRequest: ChatPayload {
    static let messageType = ChatMessageType.sendFriendRequest
    /// Echoed in the answer.
    public var requestId: String?
    /// Whom to ask.
    public var toUserId: Int64
    /// A message for them, 0–255 characters.
    public var message: String
    /// The sender's own name for them once they accept, 1–50 characters.
    public var alias: String?

    /// Creates the body.
    public init(requestId: String? = nil, toUserId: Int64, message: String, alias: String? = nil) {
        self.requestId = requestId
        self.toUserId = toUserId
        self.message = message
        self.alias = alias
    }

    func validate() throws(ChatMessageDecodingError) {
        try ChatFieldCheck.identifier(self.requestId, "requestId")
        try ChatFieldCheck.positive(self.toUserId, "toUserId")
        try ChatFieldCheck.text(
            self.message,
            "message",
            characters: ChatLimits.requestMessageLength,
            bytes: ChatLimits.requestMessageBytes,
            blankAllowed: true
        )
        try ChatFieldCheck.name(self.alias, "alias")
    }
}

/// `friend_request_sent` (19), server → client: the answer to the sender.
public struct ChatFriendRequestSent: ChatPayload {
    static let messageType = ChatMessageType.friendRequestSent
    /// The `send_friend_request`'s `requestId`.
    public var requestId: String?
    /// The request as stored.
    public var request: ChatFriendRequest

    /// Creates the body.
    public init(requestId: String? = nil, request: ChatFriendRequest) {
        self.requestId = requestId
        self.request = request
    }
}

/// `friend_request_received` (20), server → client: pushed to the target when online.
public struct ChatFriendRequestReceived: ChatPayload {
    static let messageType = ChatMessageType.friendRequestReceived
    /// The new request (without the sender's alias).
    public var request: ChatFriendRequest

    /// Creates the body.
    public init(request: ChatFriendRequest) {
        self.request = request
    }
}

/// `list_friend_requests` (21), client → server.
public struct ChatListFriendRequests: ChatPayload {
    static let messageType = ChatMessageType.listFriendRequests
    /// Echoed in the answer.
    public var requestId: String?

    /// Creates the body.
    public init(requestId: String? = nil) {
        self.requestId = requestId
    }

    func validate() throws(ChatMessageDecodingError) {
        try ChatFieldCheck.identifier(self.requestId, "requestId")
    }
}

/// `friend_requests` (22), server → client: the pending requests, oldest first.
public struct ChatFriendRequests: ChatPayload {
    static let messageType = ChatMessageType.friendRequests
    /// The list's `requestId`.
    public var requestId: String?
    /// Sent to the caller.
    public var incoming: [ChatFriendRequest]
    /// Sent by the caller.
    public var outgoing: [ChatFriendRequest]
    /// Newer requests did not fit one frame: they come in a later list, once some of these are
    /// answered.
    public var hasMore: Bool

    /// Creates the body.
    public init(requestId: String? = nil, incoming: [ChatFriendRequest], outgoing: [ChatFriendRequest], hasMore: Bool = false) {
        self.requestId = requestId
        self.incoming = incoming
        self.outgoing = outgoing
        self.hasMore = hasMore
    }

    private enum CodingKeys: String, CodingKey {
        case requestId, incoming, outgoing, hasMore
    }

    /// Decodes the body; `hasMore` is false when absent (from a server before it).
    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        self.requestId = try container.decodeIfPresent(String.self, forKey: .requestId)
        self.incoming = try container.decode([ChatFriendRequest].self, forKey: .incoming)
        self.outgoing = try container.decode([ChatFriendRequest].self, forKey: .outgoing)
        self.hasMore = try container.decodeIfPresent(Bool.self, forKey: .hasMore) ?? false
    }
}

/// `accept_friend_request` (23), client → server: by the request's target only.
public struct ChatAcceptFriendRequest: ChatPayload {
    static let messageType = ChatMessageType.acceptFriendRequest
    /// Echoed in the answer.
    public var requestId: String?
    /// The request to accept.
    public var friendRequestId: Int64
    /// The accepter's own name for the new friend, 1–50 characters.
    public var alias: String?

    /// Creates the body.
    public init(requestId: String? = nil, friendRequestId: Int64, alias: String? = nil) {
        self.requestId = requestId
        self.friendRequestId = friendRequestId
        self.alias = alias
    }

    func validate() throws(ChatMessageDecodingError) {
        try ChatFieldCheck.identifier(self.requestId, "requestId")
        try ChatFieldCheck.positive(self.friendRequestId, "friendRequestId")
        try ChatFieldCheck.name(self.alias, "alias")
    }
}

/// `decline_friend_request` (24), client → server: by the request's target only.
public struct ChatDeclineFriendRequest: ChatPayload {
    static let messageType = ChatMessageType.declineFriendRequest
    /// Echoed in the answer.
    public var requestId: String?
    /// The request to decline.
    public var friendRequestId: Int64

    /// Creates the body.
    public init(requestId: String? = nil, friendRequestId: Int64) {
        self.requestId = requestId
        self.friendRequestId = friendRequestId
    }

    func validate() throws(ChatMessageDecodingError) {
        try ChatFieldCheck.identifier(self.requestId, "requestId")
        try ChatFieldCheck.positive(self.friendRequestId, "friendRequestId")
    }
}

/// How a friend request ended.
public enum ChatRequestOutcome: String, Codable, Sendable, Hashable, CaseIterable {
    /// The two are friends now.
    case accepted
    /// The target said no.
    case declined
}

/// `friend_request_resolved` (25), server → client: to both sides of an accepted or declined request.
public struct ChatFriendRequestResolved: ChatPayload {
    static let messageType = ChatMessageType.friendRequestResolved
    /// The accept's or decline's `requestId`, on the frame sent to the side that acted.
    public var requestId: String?
    /// The request.
    public var friendRequestId: Int64
    /// Accepted or declined.
    public var outcome: ChatRequestOutcome
    /// When accepted: the other side as the receiver of this frame now sees it.
    public var friend: ChatFriend?

    /// Creates the body.
    public init(requestId: String? = nil, friendRequestId: Int64, outcome: ChatRequestOutcome, friend: ChatFriend? = nil) {
        self.requestId = requestId
        self.friendRequestId = friendRequestId
        self.outcome = outcome
        self.friend = friend
    }
}
