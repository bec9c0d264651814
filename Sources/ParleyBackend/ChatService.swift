import Foundation
import ParleyCore

/// Friends and conversations: the `Chat` JSON-RPC service, called by chat servers.
///
/// The chat server checks every field against the chat protocol's rules before it calls; the
/// backend checks the bounds again (its port may be reached by other callers) and leaves the
/// rules that need stored state to the repository. `userID` is the ticket's user, as the chat
/// server verified it.
public struct ChatService: Sendable {
    let chat: any ChatRepository
    let now: @Sendable () -> Date

    /// Creates the service.
    public init(chat: any ChatRepository, now: @escaping @Sendable () -> Date = { Date() }) {
        self.chat = chat
        self.now = now
    }

    /// `Chat.User`.
    public func user(_ params: BackendAPI.ChatParams) async throws -> ChatUser {
        guard let user = try await self.chat.user(id: params.userID) else {
            throw ParleyError(.notFound, "There is no such user.")
        }
        return user
    }

    /// `Chat.Search`.
    public func search(_ params: BackendAPI.ChatParams) async throws -> [ChatUserMatch] {
        let query = try Self.required(params.query, "query")
        guard (1...32).contains(query.count) else { throw ParleyError(.invalidInput, "query must be 1 to 32 characters.") }
        let limit = try Self.bounded(params.limit ?? 20, 1...50, "limit")
        return try await self.chat.searchUsers(prefix: Username.key(query), callerID: params.userID, limit: limit)
    }

    /// `Chat.Request`.
    public func request(_ params: BackendAPI.ChatParams) async throws -> FriendRequest {
        let target = try Self.required(params.otherUserID, "otherUserID")
        guard target != params.userID else { throw ParleyError(.selfRequest, "You cannot befriend yourself.") }
        let message = params.message ?? ""
        try Self.fits(message, bytes: 1024, "message")
        if let alias = params.alias { try Self.fits(alias, bytes: 200, "alias") }
        return try await self.chat.createFriendRequest(
            fromUserID: params.userID, toUserID: target, message: message, alias: params.alias, now: self.now()
        )
    }

    /// `Chat.Requests`.
    public func requests(_ params: BackendAPI.ChatParams) async throws -> FriendRequestLists {
        try await self.chat.pendingFriendRequests(userID: params.userID)
    }

    /// `Chat.Accept`.
    public func accept(_ params: BackendAPI.ChatParams) async throws -> AcceptedFriendRequest {
        let id = try Self.required(params.friendRequestID, "friendRequestID")
        if let alias = params.alias { try Self.fits(alias, bytes: 200, "alias") }
        return try await self.chat.acceptFriendRequest(id: id, userID: params.userID, alias: params.alias, now: self.now())
    }

    /// `Chat.Decline`.
    public func decline(_ params: BackendAPI.ChatParams) async throws -> FriendRequest {
        let id = try Self.required(params.friendRequestID, "friendRequestID")
        return try await self.chat.declineFriendRequest(id: id, userID: params.userID, now: self.now())
    }

    /// `Chat.Friends`.
    public func friends(_ params: BackendAPI.ChatParams) async throws -> [Friendship] {
        try await self.chat.friends(userID: params.userID)
    }

    /// `Chat.Send`.
    public func send(_ params: BackendAPI.ChatParams) async throws -> TextReceipt {
        let receiver = try Self.required(params.otherUserID, "otherUserID")
        let id = try Self.required(params.clientMessageID, "clientMessageID")
        guard (1...64).contains(id.utf8.count) else { throw ParleyError(.invalidInput, "clientMessageID must be 1 to 64 bytes.") }
        let text = try Self.required(params.text, "text")
        guard !text.trimmingWhitespace().isEmpty else {
            throw ParleyError(.invalidInput, "text must not be empty.")
        }
        try Self.fits(text, bytes: 8192, "text")
        return try await self.chat.sendText(fromUserID: params.userID, toUserID: receiver, clientMessageID: id, text: text, now: self.now())
    }

    /// `Chat.Texts`.
    public func texts(_ params: BackendAPI.ChatParams) async throws -> ChatPage {
        let conversation = try Self.required(params.conversationID, "conversationID")
        let after = try Self.bounded(params.afterSeq ?? 0, 0...Int64.max, "afterSeq")
        let limit = try Self.bounded(params.limit ?? 100, 1...500, "limit")
        return try await self.chat.texts(conversationID: conversation, userID: params.userID, afterSeq: after, limit: limit)
    }

    /// `Chat.MarkRead`.
    public func markRead(_ params: BackendAPI.ChatParams) async throws -> BackendAPI.Empty {
        let conversation = try Self.required(params.conversationID, "conversationID")
        let seq = try Self.bounded(try Self.required(params.seq, "seq"), 0...Int64.max, "seq")
        try await self.chat.markRead(conversationID: conversation, userID: params.userID, seq: seq)
        return BackendAPI.Empty()
    }

    private static func required<T>(_ value: T?, _ field: String) throws -> T {
        guard let value else { throw ParleyError(.invalidInput, "\(field) is missing.") }
        return value
    }

    private static func bounded<T: Comparable>(_ value: T, _ range: ClosedRange<T>, _ field: String) throws -> T {
        guard range.contains(value) else { throw ParleyError(.invalidInput, "\(field) is out of range.") }
        return value
    }

    private static func fits(_ value: String, bytes: Int, _ field: String) throws {
        guard value.utf8.count <= bytes else { throw ParleyError(.tooLarge, "\(field) is longer than \(bytes) bytes.") }
    }
}
