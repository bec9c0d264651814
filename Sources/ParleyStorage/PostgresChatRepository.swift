import Foundation
import ParleyCore
import PostgresNIO

/// Friend requests, friendships and texts in the `friend_requests`, `conversations` and `texts`
/// tables of a PostgreSQL database (migration 4).
///
/// A pair of users is keyed by `(user_low, user_high)`, the smaller id first. Every write is one
/// statement; accepting a request takes two, which heal themselves when only the first ran
/// (see ``acceptFriendRequest(id:userID:alias:now:)``).
struct PostgresChatRepository: ChatRepository {
    /// Every statement this repository runs; values are bound parameters.
    enum SQL {
        /// The partial UNIQUE index on a pair's pending request (migration 4).
        static let pendingPairConstraint = "friend_requests_pending_pair"
        /// The UNIQUE constraint on a conversation's pair (migration 4).
        static let conversationPairConstraint = "conversations_pair_unique"
        /// The primary key of texts, `(conversation_id, seq)` (migration 4).
        static let textSeqConstraint = "texts_seq_pkey"
        /// The UNIQUE constraint on `(sender_id, client_message_id)` (migration 4).
        static let clientMessageConstraint = "texts_client_message_unique"

        /// The columns `request(_:)` decodes, for a request `r` with its sender `f` and target `t`.
        static let requestColumns = """
            r.id, r.message, r.alias, r.status, r.created_at, f.id, f.username, f.nickname, t.id, t.username, t.nickname
            """
        /// A request `r` with its sender `f` and its target `t`.
        static let requestJoin = """
            friend_requests r
            JOIN users f ON f.id = r.from_user_id
            JOIN users t ON t.id = r.to_user_id
            """

        /// One user as chat shows them.
        static func user(id: Int64) -> PostgresQuery {
            "SELECT id, username, nickname FROM users WHERE id = \(id)"
        }

        /// Prefix match without LIKE (whose `_` and `%` are wildcards); keys in code point
        /// order (`COLLATE "C"`), as SQLite orders them.
        static func search(prefix: String, callerID: Int64, limit: Int) -> PostgresQuery {
            """
            SELECT u.id, u.username, u.nickname,
                   CASE
                       WHEN EXISTS (
                           SELECT 1 FROM conversations c
                           WHERE c.user_low = LEAST(u.id, \(callerID)) AND c.user_high = GREATEST(u.id, \(callerID))
                       ) THEN 'friend'
                       WHEN EXISTS (
                           SELECT 1 FROM friend_requests r
                           WHERE r.from_user_id = \(callerID) AND r.to_user_id = u.id AND r.status = 'pending'
                       ) THEN 'request_sent'
                       WHEN EXISTS (
                           SELECT 1 FROM friend_requests r
                           WHERE r.from_user_id = u.id AND r.to_user_id = \(callerID) AND r.status = 'pending'
                       ) THEN 'request_received'
                       ELSE 'none'
                   END
            FROM users u
            WHERE starts_with(u.username_key, \(prefix)) AND u.id <> \(callerID)
            ORDER BY u.username_key = \(prefix) DESC, u.username_key COLLATE "C"
            LIMIT \(Int64(limit))
            """
        }

        /// Inserts nothing when either user is missing, the two are friends, or the fence refuses;
        /// fails on `friend_requests_pending_pair` when a request between them is pending.
        static func createRequest(
            fromUserID: Int64, toUserID: Int64, message: String, alias: String?, createdAt: Int64, epoch: Int64?
        ) -> PostgresQuery {
            """
            INSERT INTO friend_requests (from_user_id, to_user_id, user_low, user_high, message, alias, status, created_at)
            SELECT f.id, t.id, LEAST(f.id, t.id), GREATEST(f.id, t.id), \(message), \(alias), 'pending', \(createdAt)
            FROM users f, users t
            WHERE f.id = \(fromUserID) AND t.id = \(toUserID)
              AND NOT EXISTS (
                  SELECT 1 FROM conversations c
                  WHERE c.user_low = LEAST(f.id, t.id) AND c.user_high = GREATEST(f.id, t.id)
              )
              AND \(fence: epoch)
            RETURNING id
            """
        }

        /// Why a request was not stored, once the fence is ruled out: how many of the two users
        /// exist (when both do, the two are friends).
        static func requestRefusal(fromUserID: Int64, toUserID: Int64) -> PostgresQuery {
            "SELECT COUNT(*) FROM users WHERE id IN (\(fromUserID), \(toUserID))"
        }

        /// Who sent the request pending between two users.
        static func pendingSender(_ first: Int64, _ second: Int64) -> PostgresQuery {
            """
            SELECT from_user_id FROM friend_requests
            WHERE user_low = LEAST(\(first), \(second)) AND user_high = GREATEST(\(first), \(second)) AND status = 'pending'
            """
        }

        /// One request with both users.
        static func request(id: Int64) -> PostgresQuery {
            "SELECT \(unescaped: requestColumns) FROM \(unescaped: requestJoin) WHERE r.id = \(id)"
        }

        /// Pending requests to or from the user, oldest first; not those whose pair is friends (a
        /// request accepted half-way: the friendship was made, the request not yet marked).
        static func pending(userID: Int64) -> PostgresQuery {
            """
            SELECT \(unescaped: requestColumns)
            FROM \(unescaped: requestJoin)
            WHERE r.status = 'pending' AND (r.from_user_id = \(userID) OR r.to_user_id = \(userID))
              AND NOT EXISTS (SELECT 1 FROM conversations c WHERE c.user_low = r.user_low AND c.user_high = r.user_high)
            ORDER BY r.id
            """
        }

        /// Accepts a pending request to the user: marks it and makes the friendship, in one
        /// statement, so that a decline racing it waits for the row and then finds it answered
        /// (as two statements, a decline between them saw no friendship yet and both succeeded).
        /// The request's alias is its sender's name for the target; `alias` is the accepter's for
        /// the sender.
        static func accept(id: Int64, userID: Int64, alias: String?, acceptedAt: Int64, epoch: Int64?) -> PostgresQuery {
            """
            WITH accepted AS (
                UPDATE friend_requests SET status = 'accepted', resolved_at = \(acceptedAt)
                WHERE id = \(id) AND to_user_id = \(userID) AND status = 'pending' AND \(fence: epoch)
                RETURNING user_low, user_high, from_user_id, alias
            )
            INSERT INTO conversations (user_low, user_high, alias_low, alias_high, created_at)
            SELECT a.user_low, a.user_high,
                   CASE WHEN a.from_user_id = a.user_low THEN a.alias ELSE \(alias) END,
                   CASE WHEN a.from_user_id = a.user_high THEN a.alias ELSE \(alias) END,
                   \(acceptedAt)
            FROM accepted a
            RETURNING id
            """
        }

        /// Marks a pending request to the user accepted or declined. A decline racing an accept
        /// whose friendship is already made changes nothing (the accept finishes).
        static func resolve(id: Int64, userID: Int64, status: FriendRequestStatus, resolvedAt: Int64, epoch: Int64?)
            -> PostgresQuery
        {
            """
            UPDATE friend_requests SET status = \(status.rawValue), resolved_at = \(resolvedAt)
            WHERE id = \(id) AND to_user_id = \(userID) AND status = 'pending' AND \(fence: epoch)
              AND (\(status.rawValue) = 'accepted' OR NOT EXISTS (
                SELECT 1 FROM conversations c
                WHERE c.user_low = friend_requests.user_low AND c.user_high = friend_requests.user_high))
            RETURNING id
            """
        }

        /// The state of a request, to tell `forbidden` from `not_found`.
        static func requestState(id: Int64) -> PostgresQuery {
            "SELECT from_user_id, to_user_id, status FROM friend_requests WHERE id = \(id)"
        }

        /// The friendships of `viewerID` (all of them, or with `friendID` only), as the viewer sees them.
        static func friendships(of viewerID: Int64, with friendID: Int64?) -> PostgresQuery {
            """
            SELECT c.id, u.id, u.username, u.nickname,
                   CASE WHEN c.user_low = \(viewerID) THEN c.alias_low ELSE c.alias_high END,
                   CASE WHEN c.user_low = \(viewerID) THEN c.read_low ELSE c.read_high END,
                   COALESCE((SELECT MAX(x.seq) FROM texts x WHERE x.conversation_id = c.id), 0),
                   (SELECT COUNT(*) FROM texts x WHERE x.conversation_id = c.id AND x.sender_id <> \(viewerID)
                      AND x.seq > CASE WHEN c.user_low = \(viewerID) THEN c.read_low ELSE c.read_high END)
            FROM conversations c
            JOIN users u ON u.id = CASE WHEN c.user_low = \(viewerID) THEN c.user_high ELSE c.user_low END
            WHERE (c.user_low = \(viewerID) OR c.user_high = \(viewerID))
              AND (\(friendID)::BIGINT IS NULL OR u.id = \(friendID))
            ORDER BY u.username_key COLLATE "C"
            """
        }

        /// A text with the conversation's next sequence number; nothing when the two are not
        /// friends (or are one user) or the fence refuses. Fails on `texts_client_message_unique`
        /// for an id the sender used before, and on `texts_seq_pkey` when a concurrent text took
        /// the number (READ COMMITTED: both read the same MAX).
        static func send(
            fromUserID: Int64, toUserID: Int64, clientMessageID: String, text: String, sentAt: Int64, epoch: Int64?
        ) -> PostgresQuery {
            """
            INSERT INTO texts (conversation_id, seq, sender_id, text, client_message_id, sent_at)
            SELECT c.id, COALESCE((SELECT MAX(x.seq) FROM texts x WHERE x.conversation_id = c.id), 0) + 1,
                   \(fromUserID), \(text), \(clientMessageID), \(sentAt)
            FROM conversations c
            WHERE c.user_low = LEAST(\(fromUserID), \(toUserID)) AND c.user_high = GREATEST(\(fromUserID), \(toUserID))
              AND \(fence: epoch)
            RETURNING conversation_id, seq
            """
        }

        /// The text a sender stored with a client message id, and who received it.
        static func sent(senderID: Int64, clientMessageID: String) -> PostgresQuery {
            """
            SELECT x.conversation_id, x.seq, x.sender_id, x.text, x.client_message_id, x.sent_at,
                   CASE WHEN c.user_low = x.sender_id THEN c.user_high ELSE c.user_low END
            FROM texts x
            JOIN conversations c ON c.id = x.conversation_id
            WHERE x.sender_id = \(senderID) AND x.client_message_id = \(clientMessageID)
            """
        }

        /// A page of texts after `afterSeq` (at most `limit` rows) with the conversation's last
        /// sequence number, read in one snapshot; no row at all when the user is not in the conversation.
        static func texts(conversationID: Int64, userID: Int64, afterSeq: Int64, limit: Int) -> PostgresQuery {
            """
            SELECT COALESCE((SELECT MAX(y.seq) FROM texts y WHERE y.conversation_id = c.id), 0),
                   x.seq, x.sender_id, x.text, x.client_message_id, x.sent_at
            FROM conversations c
            LEFT JOIN (
                SELECT seq, sender_id, text, client_message_id, sent_at FROM texts
                WHERE conversation_id = \(conversationID) AND seq > \(afterSeq)
                ORDER BY seq
                LIMIT \(Int64(limit))
            ) x ON TRUE
            WHERE c.id = \(conversationID) AND (c.user_low = \(userID) OR c.user_high = \(userID))
            ORDER BY x.seq
            """
        }

        /// Moves the user's read mark forward to `seq`, capped at the last sequence number.
        static func markRead(conversationID: Int64, userID: Int64, seq: Int64, epoch: Int64?) -> PostgresQuery {
            """
            UPDATE conversations c SET
                read_low = CASE WHEN c.user_low = \(userID) THEN GREATEST(c.read_low, LEAST(\(seq), COALESCE(
                    (SELECT MAX(x.seq) FROM texts x WHERE x.conversation_id = c.id), 0))) ELSE c.read_low END,
                read_high = CASE WHEN c.user_high = \(userID) THEN GREATEST(c.read_high, LEAST(\(seq), COALESCE(
                    (SELECT MAX(x.seq) FROM texts x WHERE x.conversation_id = c.id), 0))) ELSE c.read_high END
            WHERE c.id = \(conversationID) AND (c.user_low = \(userID) OR c.user_high = \(userID)) AND \(fence: epoch)
            RETURNING c.id
            """
        }
    }

    /// How many times a text is tried when concurrent texts keep taking its sequence number.
    static let sendAttempts = 10

    /// The open, migrated database.
    let database: PostgresDatabase
    /// The epoch writes carry.
    let fence: WriteFence

    func user(id: Int64) async throws -> ChatUser? {
        guard let row = try await self.database.query(SQL.user(id: id)).first else { return nil }
        let (id, username, nickname) = try row.decode((Int64, String, String).self)
        return ChatUser(id: id, username: username, nickname: nickname)
    }

    func searchUsers(prefix: String, callerID: Int64, limit: Int) async throws -> [ChatUserMatch] {
        // PostgreSQL rejects a negative LIMIT; the contract is "at most `limit`".
        guard limit > 0 else { return [] }
        let rows = try await self.database.query(SQL.search(prefix: prefix, callerID: callerID, limit: limit))
        return try rows.map { row in
            let (id, username, nickname, relation) = try row.decode((Int64, String, String, String).self)
            guard let relation = ChatRelation(rawValue: relation) else {
                throw PostgresUnexpectedResultError(expected: "a relation")
            }
            return ChatUserMatch(user: ChatUser(id: id, username: username, nickname: nickname), relation: relation)
        }
    }

    func createFriendRequest(fromUserID: Int64, toUserID: Int64, message: String, alias: String?, now: Date) async throws
        -> FriendRequest
    {
        guard fromUserID != toUserID else { throw ChatErrors.selfRequest }
        let createdAt = UnixMilliseconds.from(now)
        let epoch = try self.fence.epochForWrite()
        let rows: [PostgresRow]
        do {
            rows = try await self.database.query(
                SQL.createRequest(
                    fromUserID: fromUserID, toUserID: toUserID, message: message, alias: alias, createdAt: createdAt, epoch: epoch
                )
            )
        } catch where PostgresFailure.isUniqueViolation(error, constraint: SQL.pendingPairConstraint) {
            // One is pending between the two already: say which way.
            guard let sender = try await self.database.query(SQL.pendingSender(fromUserID, toUserID)).first else { throw error }
            throw ChatErrors.alreadyRequested(byCaller: try sender.decode(Int64.self) == fromUserID)
        }
        guard let row = rows.first else {
            try await PostgresFence.verify(epoch, on: self.database)
            let refusal = try await self.database.query(SQL.requestRefusal(fromUserID: fromUserID, toUserID: toUserID)).first
            guard let refusal, try refusal.decode(Int64.self) == 2 else { throw ChatErrors.noSuchUser }
            throw ChatErrors.alreadyFriends
        }
        return try await self.request(id: try row.decode(Int64.self))
    }

    func pendingFriendRequests(userID: Int64) async throws -> FriendRequestLists {
        let requests = try await self.database.query(SQL.pending(userID: userID)).map(Self.request)
        return FriendRequestLists(
            incoming: requests.filter { $0.to.id == userID },
            outgoing: requests.filter { $0.from.id == userID }
        )
    }

    func acceptFriendRequest(id: Int64, userID: Int64, alias: String?, now: Date) async throws -> AcceptedFriendRequest {
        let acceptedAt = UnixMilliseconds.from(now)
        let epoch = try self.fence.epochForWrite()
        do {
            let made = try await self.database.query(SQL.accept(id: id, userID: userID, alias: alias, acceptedAt: acceptedAt, epoch: epoch))
            if made.isEmpty { try await self.checkAnswered(id: id, userID: userID, as: .accepted, epoch: epoch) }
        } catch where PostgresFailure.isUniqueViolation(error, constraint: SQL.conversationPairConstraint) {
            // The friendship exists already, from an accept of a version that wrote it apart from
            // the request's status and stopped between the two: only mark the request.
            let marked = try await self.database.query(
                SQL.resolve(id: id, userID: userID, status: .accepted, resolvedAt: acceptedAt, epoch: epoch)
            )
            if marked.isEmpty { try await self.checkAnswered(id: id, userID: userID, as: .accepted, epoch: epoch) }
        }

        let accepted = try await self.request(id: id)
        return AcceptedFriendRequest(
            request: accepted,
            accepterView: try await self.friendship(of: accepted.to.id, with: accepted.from.id),
            senderView: try await self.friendship(of: accepted.from.id, with: accepted.to.id)
        )
    }

    func declineFriendRequest(id: Int64, userID: Int64, now: Date) async throws -> FriendRequest {
        let epoch = try self.fence.epochForWrite()
        let rows = try await self.database.query(
            SQL.resolve(id: id, userID: userID, status: .declined, resolvedAt: UnixMilliseconds.from(now), epoch: epoch)
        )
        if rows.isEmpty { try await self.checkAnswered(id: id, userID: userID, as: .declined, epoch: epoch) }
        return try await self.request(id: id)
    }

    /// After accepting or declining changed nothing: returns when the caller had answered the
    /// request so already (a retry whose first answer was lost), else throws why not (the fence,
    /// `forbidden` for the request's sender, `not_found` otherwise).
    private func checkAnswered(id: Int64, userID: Int64, as answer: FriendRequestStatus, epoch: Int64?) async throws {
        try await PostgresFence.verify(epoch, on: self.database)
        if let row = try await self.database.query(SQL.requestState(id: id)).first {
            let (senderID, targetID, status) = try row.decode((Int64, Int64, String).self)
            try ChatErrors.checkAnswered(by: userID, as: answer, from: senderID, to: targetID, status: status)
            return
        }
        throw ChatErrors.noSuchRequest
    }

    func friends(userID: Int64) async throws -> [Friendship] {
        try await self.database.query(SQL.friendships(of: userID, with: nil)).map(Self.friendship)
    }

    func sendText(fromUserID: Int64, toUserID: Int64, clientMessageID: String, text: String, now: Date) async throws
        -> TextReceipt
    {
        let sentAt = UnixMilliseconds.from(now)
        let epoch = try self.fence.epochForWrite()
        let query = SQL.send(
            fromUserID: fromUserID, toUserID: toUserID, clientMessageID: clientMessageID, text: text, sentAt: sentAt, epoch: epoch
        )
        var attempt = 1
        while true {
            let rows: [PostgresRow]
            do {
                rows = try await self.database.query(query)
            } catch where PostgresFailure.isUniqueViolation(error, constraint: SQL.clientMessageConstraint) {
                guard let receipt = try await self.storedText(senderID: fromUserID, clientMessageID: clientMessageID) else {
                    throw error
                }
                return receipt
            } catch where PostgresFailure.isUniqueViolation(error, constraint: SQL.textSeqConstraint)
                && attempt < Self.sendAttempts
            {
                // A concurrent text in the conversation took the number (it committed, so the
                // next attempt reads it); wait a little, longer each time, so the racers spread out.
                attempt += 1
                try await Task.sleep(for: .milliseconds(Int.random(in: 1...(2 * attempt))))
                continue
            }
            guard let row = rows.first else {
                try await PostgresFence.verify(epoch, on: self.database)
                // A retry whose first attempt went to someone else is still a retry: the first one wins.
                if let receipt = try await self.storedText(senderID: fromUserID, clientMessageID: clientMessageID) { return receipt }
                throw ChatErrors.notFriends
            }
            let (conversationID, seq) = try row.decode((Int64, Int64).self)
            let stored = ChatText(
                conversationID: conversationID, seq: seq, senderID: fromUserID, text: text, clientMessageID: clientMessageID,
                sentAt: sentAt
            )
            return TextReceipt(text: stored, receiverID: toUserID, duplicate: false)
        }
    }

    /// The text stored before with this client message id, as a duplicate's receipt.
    private func storedText(senderID: Int64, clientMessageID: String) async throws -> TextReceipt? {
        guard let row = try await self.database.query(SQL.sent(senderID: senderID, clientMessageID: clientMessageID)).first else {
            return nil
        }
        let (conversationID, seq, senderID, text, clientMessageID, sentAt, receiverID) = try row.decode(
            (Int64, Int64, Int64, String, String, Int64, Int64).self
        )
        let stored = ChatText(
            conversationID: conversationID, seq: seq, senderID: senderID, text: text, clientMessageID: clientMessageID, sentAt: sentAt
        )
        return TextReceipt(text: stored, receiverID: receiverID, duplicate: true)
    }

    func texts(conversationID: Int64, userID: Int64, afterSeq: Int64, limit: Int) async throws -> ChatPage {
        // One more than asked, to know whether more follow.
        let limit = max(0, min(limit, Int(Int32.max)))
        let rows = try await self.database.query(
            SQL.texts(conversationID: conversationID, userID: userID, afterSeq: afterSeq, limit: limit + 1)
        )
        guard !rows.isEmpty else { throw ChatErrors.noSuchConversation }
        var lastSeq: Int64 = 0
        var texts: [ChatText] = []
        for row in rows {
            let (last, seq, senderID, text, clientMessageID, sentAt) = try row.decode(
                (Int64, Int64?, Int64?, String?, String?, Int64?).self
            )
            lastSeq = last
            guard let seq, let senderID, let text, let clientMessageID, let sentAt else { continue }
            texts.append(
                ChatText(
                    conversationID: conversationID, seq: seq, senderID: senderID, text: text, clientMessageID: clientMessageID,
                    sentAt: sentAt
                )
            )
        }
        return ChatPage(texts: Array(texts.prefix(limit)), lastSeq: lastSeq, hasMore: texts.count > limit)
    }

    func markRead(conversationID: Int64, userID: Int64, seq: Int64) async throws {
        let epoch = try self.fence.epochForWrite()
        let rows = try await self.database.query(
            SQL.markRead(conversationID: conversationID, userID: userID, seq: seq, epoch: epoch)
        )
        if rows.isEmpty {
            try await PostgresFence.verify(epoch, on: self.database)
            throw ChatErrors.noSuchConversation
        }
    }

    /// The request with this id, with both users; it must exist.
    private func request(id: Int64) async throws -> FriendRequest {
        guard let row = try await self.database.query(SQL.request(id: id)).first else { throw ChatErrors.noSuchRequest }
        return try Self.request(row)
    }

    /// The friendship of `viewerID` with `friendID` as the viewer sees it; it must exist.
    private func friendship(of viewerID: Int64, with friendID: Int64) async throws -> Friendship {
        guard let row = try await self.database.query(SQL.friendships(of: viewerID, with: friendID)).first else {
            throw PostgresUnexpectedResultError(expected: "the friendship just made")
        }
        return try Self.friendship(row)
    }

    /// A request read with `SQL.requestColumns`.
    private static func request(_ row: PostgresRow) throws -> FriendRequest {
        let (id, message, alias, status, createdAt, fromID, fromUsername, fromNickname, toID, toUsername, toNickname) =
            try row.decode((Int64, String, String?, String, Int64, Int64, String, String, Int64, String, String).self)
        guard let status = FriendRequestStatus(rawValue: status) else {
            throw PostgresUnexpectedResultError(expected: "a request status")
        }
        return FriendRequest(
            id: id, from: ChatUser(id: fromID, username: fromUsername, nickname: fromNickname),
            to: ChatUser(id: toID, username: toUsername, nickname: toNickname), message: message, alias: alias, status: status,
            createdAt: createdAt
        )
    }

    /// A friendship read with `SQL.friendships(of:with:)`.
    private static func friendship(_ row: PostgresRow) throws -> Friendship {
        let (conversationID, id, username, nickname, alias, readSeq, lastSeq, unread) = try row.decode(
            (Int64, Int64, String, String, String?, Int64, Int64, Int64).self
        )
        return Friendship(
            friend: ChatUser(id: id, username: username, nickname: nickname), alias: alias, conversationID: conversationID,
            lastSeq: lastSeq, readSeq: readSeq, unread: unread
        )
    }
}
