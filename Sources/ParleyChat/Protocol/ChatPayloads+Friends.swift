/// `search_users` (16), client → server: users whose username begins with `query`.
public struct ChatSearchUsers: ChatPayload {
    static let messageType = ChatMessageType.searchUsers
    /// Echoed in the answer.
    public var requestId: String?
    /// The start of a username, 1–32 characters, matched without regard to case.
    public var query: String
    /// At most this many users, 1–50; 20 when absent.
    public var limit: Int?

    /// Creates the body.
    public init(requestId: String? = nil, query: String, limit: Int? = nil) {
        self.requestId = requestId
        self.query = query
        self.limit = limit
    }

    func validate() throws(ChatMessageDecodingError) {
        try ChatFieldCheck.identifier(self.requestId, "requestId")
        try ChatFieldCheck.text(
            self.query, "query", characters: ChatLimits.queryLength, bytes: 128, blankAllowed: false
        )
        try ChatFieldCheck.range(self.limit, ChatLimits.searchLimit, "limit")
    }
}

/// How a user found by a search stands to the caller.
public enum ChatRelation: String, Codable, Sendable, Hashable, CaseIterable {
    /// Neither friends nor a pending request.
    case none
    /// Already friends.
    case friend
    /// The caller sent them a request that is pending.
    case requestSent = "request_sent"
    /// They sent the caller a request that is pending.
    case requestReceived = "request_received"
}

/// One user found by `search_users`.
public struct ChatUserMatch: Codable, Sendable, Hashable {
    /// The account's id, to use in `send_friend_request`.
    public var userId: Int64
    /// The username.
    public var username: String
    /// The shown name, when set.
    public var nickname: String?
    /// How the user stands to the caller.
    public var relation: ChatRelation

    /// Creates a match.
    public init(userId: Int64, username: String, nickname: String? = nil, relation: ChatRelation) {
        self.userId = userId
        self.username = username
        self.nickname = nickname
        self.relation = relation
    }
}

/// `search_results` (17), server → client: exact match first, then by username.
public struct ChatSearchResults: ChatPayload {
    static let messageType = ChatMessageType.searchResults
    /// The search's `requestId`.
    public var requestId: String?
    /// The users found; never the caller.
    public var users: [ChatUserMatch]

    /// Creates the body.
    public init(requestId: String? = nil, users: [ChatUserMatch]) {
        self.requestId = requestId
        self.users = users
    }
}

/// A friend, as seen by one side.
public struct ChatFriend: Codable, Sendable, Hashable {
    /// The friend's account id, to use in `send_text`.
    public var userId: Int64
    /// The friend's username.
    public var username: String
    /// The friend's shown name, when set.
    public var nickname: String?
    /// The caller's own name for the friend, when given.
    public var alias: String?
    /// Whether the friend has a live connection.
    public var online: Bool
    /// The two friends' conversation.
    public var conversationId: Int64
    /// The highest sequence number in the conversation; 0 when empty.
    public var lastSeq: Int64
    /// The highest sequence number the caller marked read; 0 when none.
    public var readSeq: Int64
    /// The friend's texts after `readSeq`: the unread ones (the caller's own texts are not).
    public var unread: Int64

    /// Creates a friend value.
    public init(
        userId: Int64,
        username: String,
        nickname: String? = nil,
        alias: String? = nil,
        online: Bool,
        conversationId: Int64,
        lastSeq: Int64,
        readSeq: Int64,
        unread: Int64
    ) {
        self.userId = userId
        self.username = username
        self.nickname = nickname
        self.alias = alias
        self.online = online
        self.conversationId = conversationId
        self.lastSeq = lastSeq
        self.readSeq = readSeq
        self.unread = unread
    }

    private enum CodingKeys: String, CodingKey {
        case userId, username, nickname, alias, online, conversationId, lastSeq, readSeq, unread
    }

    /// Decodes the value; a server from before `unread` sends none, and then every text after the
    /// read mark counts (as clients counted before).
    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        self.userId = try container.decode(Int64.self, forKey: .userId)
        self.username = try container.decode(String.self, forKey: .username)
        self.nickname = try container.decodeIfPresent(String.self, forKey: .nickname)
        self.alias = try container.decodeIfPresent(String.self, forKey: .alias)
        self.online = try container.decode(Bool.self, forKey: .online)
        self.conversationId = try container.decode(Int64.self, forKey: .conversationId)
        self.lastSeq = try container.decode(Int64.self, forKey: .lastSeq)
        self.readSeq = try container.decode(Int64.self, forKey: .readSeq)
        self.unread = try container.decodeIfPresent(Int64.self, forKey: .unread) ?? max(0, self.lastSeq - self.readSeq)
    }
}

/// `list_friends` (26), client → server.
public struct ChatListFriends: ChatPayload {
    static let messageType = ChatMessageType.listFriends
    /// Echoed in the answer.
    public var requestId: String?
    /// The friends listed come after this username (the last of the page before), in the
    /// list's order; from the first when absent.
    public var after: String?

    /// Creates the body.
    public init(requestId: String? = nil, after: String? = nil) {
        self.requestId = requestId
        self.after = after
    }

    func validate() throws(ChatMessageDecodingError) {
        try ChatFieldCheck.identifier(self.requestId, "requestId")
        if let after = self.after {
            try ChatFieldCheck.text(after, "after", characters: ChatLimits.queryLength, bytes: 128, blankAllowed: false)
        }
    }
}

/// `friends` (27), server → client: friends by username (the byte order of their lowercased
/// names), as many as one frame holds.
public struct ChatFriends: ChatPayload {
    static let messageType = ChatMessageType.friends
    /// The list's `requestId`.
    public var requestId: String?
    /// The friends.
    public var friends: [ChatFriend]
    /// More friends follow the last one: ask again with `after` its username.
    public var hasMore: Bool

    /// Creates the body.
    public init(requestId: String? = nil, friends: [ChatFriend], hasMore: Bool = false) {
        self.requestId = requestId
        self.friends = friends
        self.hasMore = hasMore
    }

    private enum CodingKeys: String, CodingKey {
        case requestId, friends, hasMore
    }

    /// Decodes the body; `hasMore` is false when absent (a server before it listed every friend
    /// it could in one frame).
    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        self.requestId = try container.decodeIfPresent(String.self, forKey: .requestId)
        self.friends = try container.decode([ChatFriend].self, forKey: .friends)
        self.hasMore = try container.decodeIfPresent(Bool.self, forKey: .hasMore) ?? false
    }
}

/// `presence` (28), server → client: a friend came online or went offline.
public struct ChatPresence: ChatPayload {
    static let messageType = ChatMessageType.presence
    /// The friend.
    public var userId: Int64
    /// Whether the friend now has a live connection.
    public var online: Bool

    /// Creates the body.
    public init(userId: Int64, online: Bool) {
        self.userId = userId
        self.online = online
    }
}
