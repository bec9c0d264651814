/// One message of the chat protocol, of any type, with its body.
///
/// ``decode(frame:direction:)`` and ``encode(allocator:)`` convert to and from TCP frames;
/// ``decode(webSocketText:direction:)`` and ``encodeWebSocketText()`` to and from the WebSocket
/// form, the same JSON object with a `type` field naming the type.
public enum ChatMessage: Sendable, Hashable {
    /// `authenticate` (1), client → server.
    case authenticate(ChatAuthenticate)
    /// `authenticated` (2), server → client.
    case authenticated(ChatAuthenticated)
    /// `heartbeat` (3), client → server.
    case heartbeat(ChatHeartbeat)
    /// `heartbeat_ack` (4), server → client.
    case heartbeatAck(ChatHeartbeatAck)
    /// `logout` (5), client → server.
    case logout(ChatLogout)
    /// `kicked` (6), server → client.
    case kicked(ChatKicked)
    /// `ok` (7), server → client.
    case ok(ChatOK)
    /// `error` (8), server → client.
    case error(ChatError)
    /// `search_users` (16), client → server.
    case searchUsers(ChatSearchUsers)
    /// `search_results` (17), server → client.
    case searchResults(ChatSearchResults)
    /// `send_friend_request` (18), client → server.
    case sendFriendRequest(ChatSendFriendRequest)
    /// `friend_request_sent` (19), server → client.
    case friendRequestSent(ChatFriendRequestSent)
    /// `friend_request_received` (20), server → client.
    case friendRequestReceived(ChatFriendRequestReceived)
    /// `list_friend_requests` (21), client → server.
    case listFriendRequests(ChatListFriendRequests)
    /// `friend_requests` (22), server → client.
    case friendRequests(ChatFriendRequests)
    /// `accept_friend_request` (23), client → server.
    case acceptFriendRequest(ChatAcceptFriendRequest)
    /// `decline_friend_request` (24), client → server.
    case declineFriendRequest(ChatDeclineFriendRequest)
    /// `friend_request_resolved` (25), server → client.
    case friendRequestResolved(ChatFriendRequestResolved)
    /// `list_friends` (26), client → server.
    case listFriends(ChatListFriends)
    /// `friends` (27), server → client.
    case friends(ChatFriends)
    /// `presence` (28), server → client.
    case presence(ChatPresence)
    /// `send_text` (32), client → server.
    case sendText(ChatSendText)
    /// `text_ack` (33), server → client.
    case textAck(ChatTextAck)
    /// `message` (34), server → client.
    case message(ChatTextMessage)
    /// `sync` (35), client → server.
    case sync(ChatSync)
    /// `sync_result` (36), server → client.
    case syncResult(ChatSyncResult)
    /// `mark_read` (37), client → server.
    case markRead(ChatMarkRead)

    /// The message's type.
    public var type: ChatMessageType {
        switch self {
        case .authenticate: .authenticate
        case .authenticated: .authenticated
        case .heartbeat: .heartbeat
        case .heartbeatAck: .heartbeatAck
        case .logout: .logout
        case .kicked: .kicked
        case .ok: .ok
        case .error: .error
        case .searchUsers: .searchUsers
        case .searchResults: .searchResults
        case .sendFriendRequest: .sendFriendRequest
        case .friendRequestSent: .friendRequestSent
        case .friendRequestReceived: .friendRequestReceived
        case .listFriendRequests: .listFriendRequests
        case .friendRequests: .friendRequests
        case .acceptFriendRequest: .acceptFriendRequest
        case .declineFriendRequest: .declineFriendRequest
        case .friendRequestResolved: .friendRequestResolved
        case .listFriends: .listFriends
        case .friends: .friends
        case .presence: .presence
        case .sendText: .sendText
        case .textAck: .textAck
        case .message: .message
        case .sync: .sync
        case .syncResult: .syncResult
        case .markRead: .markRead
        }
    }

    /// The body.
    var payload: any ChatPayload {
        switch self {
        case .authenticate(let body): body
        case .authenticated(let body): body
        case .heartbeat(let body): body
        case .heartbeatAck(let body): body
        case .logout(let body): body
        case .kicked(let body): body
        case .ok(let body): body
        case .error(let body): body
        case .searchUsers(let body): body
        case .searchResults(let body): body
        case .sendFriendRequest(let body): body
        case .friendRequestSent(let body): body
        case .friendRequestReceived(let body): body
        case .listFriendRequests(let body): body
        case .friendRequests(let body): body
        case .acceptFriendRequest(let body): body
        case .declineFriendRequest(let body): body
        case .friendRequestResolved(let body): body
        case .listFriends(let body): body
        case .friends(let body): body
        case .presence(let body): body
        case .sendText(let body): body
        case .textAck(let body): body
        case .message(let body): body
        case .sync(let body): body
        case .syncResult(let body): body
        case .markRead(let body): body
        }
    }

    /// Decodes the body of a message of `type` from JSON.
    static func decodeBody(_ type: ChatMessageType, from json: ChatJSONInput) throws -> ChatMessage {
        switch type {
        case .authenticate: .authenticate(try json.decode())
        case .authenticated: .authenticated(try json.decode())
        case .heartbeat: .heartbeat(try json.decode())
        case .heartbeatAck: .heartbeatAck(try json.decode())
        case .logout: .logout(try json.decode())
        case .kicked: .kicked(try json.decode())
        case .ok: .ok(try json.decode())
        case .error: .error(try json.decode())
        case .searchUsers: .searchUsers(try json.decode())
        case .searchResults: .searchResults(try json.decode())
        case .sendFriendRequest: .sendFriendRequest(try json.decode())
        case .friendRequestSent: .friendRequestSent(try json.decode())
        case .friendRequestReceived: .friendRequestReceived(try json.decode())
        case .listFriendRequests: .listFriendRequests(try json.decode())
        case .friendRequests: .friendRequests(try json.decode())
        case .acceptFriendRequest: .acceptFriendRequest(try json.decode())
        case .declineFriendRequest: .declineFriendRequest(try json.decode())
        case .friendRequestResolved: .friendRequestResolved(try json.decode())
        case .listFriends: .listFriends(try json.decode())
        case .friends: .friends(try json.decode())
        case .presence: .presence(try json.decode())
        case .sendText: .sendText(try json.decode())
        case .textAck: .textAck(try json.decode())
        case .message: .message(try json.decode())
        case .sync: .sync(try json.decode())
        case .syncResult: .syncResult(try json.decode())
        case .markRead: .markRead(try json.decode())
        }
    }
}
