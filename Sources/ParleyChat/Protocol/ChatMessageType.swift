/// Which side of a chat connection sends a message type.
public enum ChatMessageDirection: String, Sendable, Hashable, CaseIterable {
    /// Sent by the client; the server refuses it from a server (and a client never receives it).
    case clientToServer = "client→server"
    /// Sent by the server; a client that sends it gets an `invalid_input` error.
    case serverToClient = "server→client"
}

/// Every message type of the chat protocol: the number in a TCP frame's 2-byte header and the
/// name in a WebSocket message's `type` field (`docs/protocols/chat.md`).
///
/// Numbers are grouped: 1–15 session, 16–31 users and friends, 32–47 messages.
/// A number never changes meaning once released; new types take new numbers.
public enum ChatMessageType: UInt16, Sendable, Hashable, CaseIterable, CustomStringConvertible {
    // MARK: Session (1–15)

    /// Client → server: the first frame, with the token from the balancer's ticket.
    case authenticate = 1
    /// Server → client: the token was accepted; who the client is and the timing it must keep.
    case authenticated = 2
    /// Client → server: "I am alive", every heartbeat interval (10 s by default).
    case heartbeat = 3
    /// Server → client: the answer to each heartbeat.
    case heartbeatAck = 4
    /// Client → server: end the session; the server answers `ok` and closes.
    case logout = 5
    /// Server → client: the server ends this session (another login, silence, shutdown) and closes.
    case kicked = 6
    /// Server → client: a request with no other result succeeded.
    case ok = 7
    /// Server → client: a request or a frame failed.
    case error = 8

    // MARK: Users and friends (16–31)

    /// Client → server: find users by the start of their username.
    case searchUsers = 16
    /// Server → client: the users found.
    case searchResults = 17
    /// Client → server: ask a user to become a friend, with a message.
    case sendFriendRequest = 18
    /// Server → client: the answer to the sender: the request as stored.
    case friendRequestSent = 19
    /// Server → client: pushed to the target of a new request, when online.
    case friendRequestReceived = 20
    /// Client → server: the pending requests, both ways.
    case listFriendRequests = 21
    /// Server → client: the pending requests, incoming and outgoing.
    case friendRequests = 22
    /// Client → server: the target accepts a request, optionally naming the friend.
    case acceptFriendRequest = 23
    /// Client → server: the target declines a request.
    case declineFriendRequest = 24
    /// Server → client: a request was accepted or declined; sent to both sides.
    case friendRequestResolved = 25
    /// Client → server: the friends, with presence and conversation state.
    case listFriends = 26
    /// Server → client: the friends.
    case friends = 27
    /// Server → client: a friend came online or went offline.
    case presence = 28

    // MARK: Messages (32–47)

    /// Client → server: send a text to a friend.
    case sendText = 32
    /// Server → client: the text is stored: its conversation and sequence number.
    case textAck = 33
    /// Server → client: a text pushed to its receiver.
    case message = 34
    /// Client → server: the messages of a conversation after a sequence number.
    case sync = 35
    /// Server → client: a page of a conversation's messages.
    case syncResult = 36
    /// Client → server: everything up to a sequence number has been read.
    case markRead = 37

    /// The name used in the WebSocket form's `type` field, such as `send_text`.
    public var name: String {
        switch self {
        case .authenticate: "authenticate"
        case .authenticated: "authenticated"
        case .heartbeat: "heartbeat"
        case .heartbeatAck: "heartbeat_ack"
        case .logout: "logout"
        case .kicked: "kicked"
        case .ok: "ok"
        case .error: "error"
        case .searchUsers: "search_users"
        case .searchResults: "search_results"
        case .sendFriendRequest: "send_friend_request"
        case .friendRequestSent: "friend_request_sent"
        case .friendRequestReceived: "friend_request_received"
        case .listFriendRequests: "list_friend_requests"
        case .friendRequests: "friend_requests"
        case .acceptFriendRequest: "accept_friend_request"
        case .declineFriendRequest: "decline_friend_request"
        case .friendRequestResolved: "friend_request_resolved"
        case .listFriends: "list_friends"
        case .friends: "friends"
        case .presence: "presence"
        case .sendText: "send_text"
        case .textAck: "text_ack"
        case .message: "message"
        case .sync: "sync"
        case .syncResult: "sync_result"
        case .markRead: "mark_read"
        }
    }

    /// Which side sends this type.
    public var direction: ChatMessageDirection {
        switch self {
        case .authenticate, .heartbeat, .logout, .searchUsers, .sendFriendRequest, .listFriendRequests,
            .acceptFriendRequest, .declineFriendRequest, .listFriends, .sendText, .sync, .markRead:
            .clientToServer
        case .authenticated, .heartbeatAck, .kicked, .ok, .error, .searchResults, .friendRequestSent,
            .friendRequestReceived, .friendRequests, .friendRequestResolved, .friends, .presence, .textAck,
            .message, .syncResult:
            .serverToClient
        }
    }

    private static let byName: [String: ChatMessageType] = Dictionary(
        uniqueKeysWithValues: ChatMessageType.allCases.map { ($0.name, $0) }
    )

    /// The type with this WebSocket name, or `nil` when no type has it.
    public init?(name: String) {
        guard let type = Self.byName[name] else {
            return nil
        }
        self = type
    }

    /// `name (number)`, such as `send_text (32)`.
    public var description: String { "\(self.name) (\(self.rawValue))" }
}
