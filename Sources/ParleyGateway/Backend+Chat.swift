import Foundation
import ParleyCore

// Chat servers reach the backend's `Chat` service through the same clients as the gateway: one
// backend over JSON-RPC, or the cluster's leader, followed through a switch. `now` is the
// backend's clock, so the parameters of that name are not sent.

extension RPCBackend: ChatRepository {
    public func user(id: Int64) async throws -> ChatUser? {
        do {
            return try await self.call(BackendAPI.chatUser, BackendAPI.ChatParams(userID: id)) as ChatUser
        } catch let error as ParleyError where error.code == .notFound {
            return nil
        }
    }

    public func searchUsers(prefix: String, callerID: Int64, limit: Int) async throws -> [ChatUserMatch] {
        try await self.call(BackendAPI.chatSearch, BackendAPI.ChatParams(userID: callerID, query: prefix, limit: limit))
    }

    public func createFriendRequest(fromUserID: Int64, toUserID: Int64, message: String, alias: String?, now: Date) async throws
        -> FriendRequest
    {
        try await self.call(
            BackendAPI.chatRequest, BackendAPI.ChatParams(userID: fromUserID, otherUserID: toUserID, message: message, alias: alias)
        )
    }

    public func pendingFriendRequests(userID: Int64) async throws -> FriendRequestLists {
        try await self.call(BackendAPI.chatRequests, BackendAPI.ChatParams(userID: userID))
    }

    public func acceptFriendRequest(id: Int64, userID: Int64, alias: String?, now: Date) async throws -> AcceptedFriendRequest {
        try await self.call(BackendAPI.chatAccept, BackendAPI.ChatParams(userID: userID, alias: alias, friendRequestID: id))
    }

    public func declineFriendRequest(id: Int64, userID: Int64, now: Date) async throws -> FriendRequest {
        try await self.call(BackendAPI.chatDecline, BackendAPI.ChatParams(userID: userID, friendRequestID: id))
    }

    public func friends(userID: Int64) async throws -> [Friendship] {
        try await self.call(BackendAPI.chatFriends, BackendAPI.ChatParams(userID: userID))
    }

    public func sendText(fromUserID: Int64, toUserID: Int64, clientMessageID: String, text: String, now: Date) async throws
        -> TextReceipt
    {
        try await self.call(
            BackendAPI.chatSend,
            BackendAPI.ChatParams(userID: fromUserID, otherUserID: toUserID, clientMessageID: clientMessageID, text: text)
        )
    }

    public func texts(conversationID: Int64, userID: Int64, afterSeq: Int64, limit: Int) async throws -> ChatPage {
        try await self.call(
            BackendAPI.chatTexts,
            BackendAPI.ChatParams(userID: userID, limit: limit, conversationID: conversationID, afterSeq: afterSeq)
        )
    }

    public func markRead(conversationID: Int64, userID: Int64, seq: Int64) async throws {
        let _: BackendAPI.Empty = try await self.call(
            BackendAPI.chatMarkRead, BackendAPI.ChatParams(userID: userID, conversationID: conversationID, seq: seq)
        )
    }
}

/// Reads, read marks and texts (deduplicated by their client message id) are retried on the
/// next leader; friend requests and their answers are not (a retry could answer "already").
extension ClusterBackend: ChatRepository {
    public func user(id: Int64) async throws -> ChatUser? {
        try await self.onLeader(idempotent: true) { try await $0.user(id: id) }
    }

    public func searchUsers(prefix: String, callerID: Int64, limit: Int) async throws -> [ChatUserMatch] {
        try await self.onLeader(idempotent: true) { try await $0.searchUsers(prefix: prefix, callerID: callerID, limit: limit) }
    }

    public func createFriendRequest(fromUserID: Int64, toUserID: Int64, message: String, alias: String?, now: Date) async throws
        -> FriendRequest
    {
        try await self.onLeader(idempotent: false) {
            try await $0.createFriendRequest(fromUserID: fromUserID, toUserID: toUserID, message: message, alias: alias, now: now)
        }
    }

    public func pendingFriendRequests(userID: Int64) async throws -> FriendRequestLists {
        try await self.onLeader(idempotent: true) { try await $0.pendingFriendRequests(userID: userID) }
    }

    public func acceptFriendRequest(id: Int64, userID: Int64, alias: String?, now: Date) async throws -> AcceptedFriendRequest {
        try await self.onLeader(idempotent: false) { try await $0.acceptFriendRequest(id: id, userID: userID, alias: alias, now: now) }
    }

    public func declineFriendRequest(id: Int64, userID: Int64, now: Date) async throws -> FriendRequest {
        try await self.onLeader(idempotent: false) { try await $0.declineFriendRequest(id: id, userID: userID, now: now) }
    }

    public func friends(userID: Int64) async throws -> [Friendship] {
        try await self.onLeader(idempotent: true) { try await $0.friends(userID: userID) }
    }

    public func sendText(fromUserID: Int64, toUserID: Int64, clientMessageID: String, text: String, now: Date) async throws
        -> TextReceipt
    {
        try await self.onLeader(idempotent: true) {
            try await $0.sendText(fromUserID: fromUserID, toUserID: toUserID, clientMessageID: clientMessageID, text: text, now: now)
        }
    }

    public func texts(conversationID: Int64, userID: Int64, afterSeq: Int64, limit: Int) async throws -> ChatPage {
        try await self.onLeader(idempotent: true) {
            try await $0.texts(conversationID: conversationID, userID: userID, afterSeq: afterSeq, limit: limit)
        }
    }

    public func markRead(conversationID: Int64, userID: Int64, seq: Int64) async throws {
        try await self.onLeader(idempotent: true) { try await $0.markRead(conversationID: conversationID, userID: userID, seq: seq) }
    }
}
