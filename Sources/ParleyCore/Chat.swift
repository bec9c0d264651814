import Foundation

// Issue 6: friends and 1:1 conversations. The chat server reaches them through the backend
// (`BackendAPI.Chat…`); the backend stores them through `ChatRepository`. Times are Unix
// milliseconds, as the chat protocol carries them.

/// A user as chat shows them.
public struct ChatUser: Codable, Sendable, Hashable {
    /// The account id.
    public var id: Int64
    /// The username as registered.
    public var username: String
    /// The name the user chose to be shown by.
    public var nickname: String
    /// Creates the value.
    public init(id: Int64, username: String, nickname: String) {
        self.id = id
        self.username = username
        self.nickname = nickname
    }
}

/// How a user found by a search stands to the one searching.
public enum ChatRelation: String, Codable, Sendable {
    /// Neither friends nor a pending request.
    case none
    /// Friends.
    case friend
    /// The searcher's request to them is pending.
    case requestSent = "request_sent"
    /// Their request to the searcher is pending.
    case requestReceived = "request_received"
}

/// One search result.
public struct ChatUserMatch: Codable, Sendable, Hashable {
    /// The user found.
    public var user: ChatUser
    /// How they stand to the searcher.
    public var relation: ChatRelation
    /// Creates the value.
    public init(user: ChatUser, relation: ChatRelation) {
        self.user = user
        self.relation = relation
    }
}

/// Where a friend request stands.
public enum FriendRequestStatus: String, Codable, Sendable {
    case pending, accepted, declined
}

/// A friend request.
public struct FriendRequest: Codable, Sendable, Hashable {
    /// Its id.
    public var id: Int64
    /// Who asked.
    public var from: ChatUser
    /// Who was asked.
    public var to: ChatUser
    /// The sender's words; may be empty.
    public var message: String
    /// The sender's own name for the target once friends; shown to the sender only.
    public var alias: String?
    /// Pending, accepted or declined.
    public var status: FriendRequestStatus
    /// When it was sent, Unix milliseconds.
    public var createdAt: Int64
    /// Creates the value.
    public init(
        id: Int64, from: ChatUser, to: ChatUser, message: String, alias: String?, status: FriendRequestStatus,
        createdAt: Int64
    ) {
        self.id = id
        self.from = from
        self.to = to
        self.message = message
        self.alias = alias
        self.status = status
        self.createdAt = createdAt
    }
}

/// A user's pending friend requests, oldest first.
public struct FriendRequestLists: Codable, Sendable, Hashable {
    /// Requests to the user.
    public var incoming: [FriendRequest]
    /// Requests the user sent.
    public var outgoing: [FriendRequest]
    /// Creates the value.
    public init(incoming: [FriendRequest], outgoing: [FriendRequest]) {
        self.incoming = incoming
        self.outgoing = outgoing
    }
}

/// A friend as one side of a friendship sees the other.
public struct Friendship: Codable, Sendable, Hashable {
    /// The friend.
    public var friend: ChatUser
    /// The viewer's own name for the friend, if they gave one.
    public var alias: String?
    /// The conversation the two share.
    public var conversationID: Int64
    /// The highest sequence number in it; 0 when empty.
    public var lastSeq: Int64
    /// The highest sequence number the viewer marked read; 0 when none.
    public var readSeq: Int64
    /// The friend's texts after `readSeq` (the viewer's own are not unread).
    public var unread: Int64
    /// Creates the value.
    public init(friend: ChatUser, alias: String?, conversationID: Int64, lastSeq: Int64, readSeq: Int64, unread: Int64) {
        self.friend = friend
        self.alias = alias
        self.conversationID = conversationID
        self.lastSeq = lastSeq
        self.readSeq = readSeq
        self.unread = unread
    }

    private enum CodingKeys: String, CodingKey {
        case friend, alias, conversationID, lastSeq, readSeq, unread
    }

    /// Decodes the value; a backend from before `unread` sends none, and then every text after
    /// the read mark counts (as clients counted before).
    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        self.friend = try container.decode(ChatUser.self, forKey: .friend)
        self.alias = try container.decodeIfPresent(String.self, forKey: .alias)
        self.conversationID = try container.decode(Int64.self, forKey: .conversationID)
        self.lastSeq = try container.decode(Int64.self, forKey: .lastSeq)
        self.readSeq = try container.decode(Int64.self, forKey: .readSeq)
        self.unread = try container.decodeIfPresent(Int64.self, forKey: .unread) ?? max(0, self.lastSeq - self.readSeq)
    }
}

/// What accepting a friend request made: the request, and the friendship as each side sees it.
public struct AcceptedFriendRequest: Codable, Sendable, Hashable {
    /// The request, now accepted.
    public var request: FriendRequest
    /// The sender, as the accepter sees them.
    public var accepterView: Friendship
    /// The accepter, as the sender sees them.
    public var senderView: Friendship
    /// Creates the value.
    public init(request: FriendRequest, accepterView: Friendship, senderView: Friendship) {
        self.request = request
        self.accepterView = accepterView
        self.senderView = senderView
    }
}

/// A stored text.
public struct ChatText: Codable, Sendable, Hashable {
    /// The conversation.
    public var conversationID: Int64
    /// Its place in the conversation: 1, 2, 3, … with no gaps.
    public var seq: Int64
    /// Who wrote it.
    public var senderID: Int64
    /// The text.
    public var text: String
    /// The sender's id for it, unique among the sender's texts.
    public var clientMessageID: String
    /// When it was stored, Unix milliseconds.
    public var sentAt: Int64
    /// Creates the value.
    public init(conversationID: Int64, seq: Int64, senderID: Int64, text: String, clientMessageID: String, sentAt: Int64) {
        self.conversationID = conversationID
        self.seq = seq
        self.senderID = senderID
        self.text = text
        self.clientMessageID = clientMessageID
        self.sentAt = sentAt
    }
}

/// The answer to storing a text.
public struct TextReceipt: Codable, Sendable, Hashable {
    /// The stored text (the first one stored with its client message id).
    public var text: ChatText
    /// Who receives it.
    public var receiverID: Int64
    /// True when the client message id had been stored before: nothing was stored now.
    public var duplicate: Bool
    /// Creates the value.
    public init(text: ChatText, receiverID: Int64, duplicate: Bool) {
        self.text = text
        self.receiverID = receiverID
        self.duplicate = duplicate
    }
}

/// Texts of one conversation after a sequence number.
public struct ChatPage: Codable, Sendable, Hashable {
    /// The texts, ascending, with no gaps.
    public var texts: [ChatText]
    /// The conversation's highest sequence number when the page was read.
    public var lastSeq: Int64
    /// True when texts after the last one of this page exist.
    public var hasMore: Bool
    /// Creates the value.
    public init(texts: [ChatText], lastSeq: Int64, hasMore: Bool) {
        self.texts = texts
        self.lastSeq = lastSeq
        self.hasMore = hasMore
    }
}

/// Friend requests, friendships, conversations and their texts.
///
/// The caller has checked every field against the chat protocol's rules (lengths, a request to
/// oneself); the repository enforces what needs the stored state, with the errors named.
/// Every write is one statement (or self-healing steps) and carries the write fence.
public protocol ChatRepository: Sendable {
    /// The user with this id.
    func user(id: Int64) async throws -> ChatUser?
    /// At most `limit` users whose username key starts with `prefix` (a `Username.key`-normalised
    /// string): an exact match first, then by key. Never the caller.
    func searchUsers(prefix: String, callerID: Int64, limit: Int) async throws -> [ChatUserMatch]
    /// Stores a pending request. Throws `not_found` (no such target), `already_friends`,
    /// `already_requested` (one is pending between the two in either direction; the message says which).
    func createFriendRequest(fromUserID: Int64, toUserID: Int64, message: String, alias: String?, now: Date) async throws
        -> FriendRequest
    /// The user's pending requests, both ways, oldest first.
    func pendingFriendRequests(userID: Int64) async throws -> FriendRequestLists
    /// Accepts a pending request to `userID`: the two become friends with a new conversation.
    /// Throws `not_found` (no such pending request involving the caller) or `forbidden` (the caller sent it).
    func acceptFriendRequest(id: Int64, userID: Int64, alias: String?, now: Date) async throws -> AcceptedFriendRequest
    /// Declines a pending request to `userID`; errors as for accepting.
    func declineFriendRequest(id: Int64, userID: Int64, now: Date) async throws -> FriendRequest
    /// The user's friends, by username key.
    func friends(userID: Int64) async throws -> [Friendship]
    /// Stores a text from one friend to the other with the conversation's next sequence number.
    /// A client message id the sender used before stores nothing and returns the stored text
    /// with `duplicate: true`. Throws `not_friends` when the two are not friends.
    func sendText(fromUserID: Int64, toUserID: Int64, clientMessageID: String, text: String, now: Date) async throws
        -> TextReceipt
    /// At most `limit` texts with `seq > afterSeq`, ascending. Throws `not_found` when the
    /// conversation does not exist or the user is not in it.
    func texts(conversationID: Int64, userID: Int64, afterSeq: Int64, limit: Int) async throws -> ChatPage
    /// Moves the user's read mark to `seq`, capped at the last seq, never back. Throws `not_found` as `texts`.
    func markRead(conversationID: Int64, userID: Int64, seq: Int64) async throws
}
