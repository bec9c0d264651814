import Foundation
import ParleyCore

/// Friend requests, friendships and texts in the `friend_requests`, `conversations` and `texts`
/// tables of a SQLite database (migration 4).
///
/// A pair of users is keyed by `(user_low, user_high)`, the smaller id first. Every write is one
/// statement (the connection is shared, without transactions); accepting a request takes two,
/// which heal themselves when only the first ran (see ``acceptFriendRequest(id:userID:alias:now:)``).
struct SQLiteChatRepository: ChatRepository {
    /// Every statement this repository runs.
    enum SQL {
        /// The columns `request(_:)` reads, for a request `r` with its sender `f` and target `t`.
        static let requestColumns = """
            r.id, r.message, r.alias, r.status, r.created_at,
            f.id AS from_id, f.username AS from_username, f.nickname AS from_nickname,
            t.id AS to_id, t.username AS to_username, t.nickname AS to_nickname
            """
        /// A request `r` with its sender `f` and its target `t`.
        static let requestJoin = """
            friend_requests r
            JOIN users f ON f.id = r.from_user_id
            JOIN users t ON t.id = r.to_user_id
            """
        /// True when the pair of request `r` has a conversation: a request accepted half-way
        /// (the friendship was made, the request not yet marked) counts as accepted.
        static let requestPairIsFriends = """
            EXISTS (SELECT 1 FROM conversations c WHERE c.user_low = r.user_low AND c.user_high = r.user_high)
            """

        /// One user as chat shows them.
        static let user = """
            SELECT id, username, nickname FROM users WHERE id = ?1
            """
        /// Prefix match without LIKE (whose `_` and `%` are wildcards): a range on the key's
        /// index, made exact by comparing the first characters.
        static let search = """
            SELECT u.id, u.username, u.nickname,
                   CASE
                       WHEN EXISTS (
                           SELECT 1 FROM conversations c WHERE c.user_low = min(u.id, ?2) AND c.user_high = max(u.id, ?2)
                       ) THEN 'friend'
                       WHEN EXISTS (
                           SELECT 1 FROM friend_requests r
                           WHERE r.from_user_id = ?2 AND r.to_user_id = u.id AND r.status = 'pending'
                       ) THEN 'request_sent'
                       WHEN EXISTS (
                           SELECT 1 FROM friend_requests r
                           WHERE r.from_user_id = u.id AND r.to_user_id = ?2 AND r.status = 'pending'
                       ) THEN 'request_received'
                       ELSE 'none'
                   END AS relation
            FROM users u
            WHERE u.username_key >= ?1 AND u.username_key < ?1 || char(1114111)
              AND substr(u.username_key, 1, length(?1)) = ?1
              AND u.id <> ?2
            ORDER BY u.username_key = ?1 DESC, u.username_key
            LIMIT ?3
            """
        /// Inserts nothing when either user is missing, the two are friends, or the fence refuses;
        /// fails on `friend_requests_pending_pair` when a request between them is pending.
        static let createRequest = """
            INSERT INTO friend_requests (from_user_id, to_user_id, user_low, user_high, message, alias, status, created_at)
            SELECT f.id, t.id, min(f.id, t.id), max(f.id, t.id), ?3, ?4, 'pending', ?5
            FROM users f, users t
            WHERE f.id = ?1 AND t.id = ?2
              AND NOT EXISTS (
                  SELECT 1 FROM conversations c WHERE c.user_low = min(?1, ?2) AND c.user_high = max(?1, ?2)
              )
              AND \(SQLiteFence.condition(6))
            RETURNING id
            """
        /// Why a request was not stored, once the fence is ruled out: how many of the two users
        /// exist (when both do, the two are friends).
        static let requestRefusal = """
            SELECT COUNT(*) AS users FROM users WHERE id IN (?1, ?2)
            """
        /// Who sent the request pending between two users.
        static let pendingSender = """
            SELECT from_user_id FROM friend_requests
            WHERE user_low = min(?1, ?2) AND user_high = max(?1, ?2) AND status = 'pending'
            """
        /// One request with both users.
        static let request = """
            SELECT \(requestColumns)
            FROM \(requestJoin)
            WHERE r.id = ?1
            """
        /// Pending requests to or from the user, oldest first; not those whose pair is friends.
        static let pending = """
            SELECT \(requestColumns)
            FROM \(requestJoin)
            WHERE r.status = 'pending' AND (r.from_user_id = ?1 OR r.to_user_id = ?1)
              AND NOT \(requestPairIsFriends)
            ORDER BY r.id
            """
        /// Accepting, first step: the friendship, from a pending request to the user. The request's
        /// alias is its sender's name for the target; `?3` is the accepter's for the sender.
        static let befriend = """
            INSERT INTO conversations (user_low, user_high, alias_low, alias_high, created_at)
            SELECT r.user_low, r.user_high,
                   CASE WHEN r.from_user_id = r.user_low THEN r.alias ELSE ?3 END,
                   CASE WHEN r.from_user_id = r.user_high THEN r.alias ELSE ?3 END,
                   ?4
            FROM friend_requests r
            WHERE r.id = ?1 AND r.to_user_id = ?2 AND r.status = 'pending' AND \(SQLiteFence.condition(5))
            RETURNING id
            """
        /// Marks a pending request to the user accepted or declined (`?3`). A decline racing an
        /// accept whose friendship is already made changes nothing (the accept finishes).
        static let resolve = """
            UPDATE friend_requests SET status = ?3, resolved_at = ?4
            WHERE id = ?1 AND to_user_id = ?2 AND status = 'pending' AND \(SQLiteFence.condition(5))
              AND (?3 = 'accepted' OR NOT EXISTS (
                SELECT 1 FROM conversations c
                WHERE c.user_low = friend_requests.user_low AND c.user_high = friend_requests.user_high))
            RETURNING id
            """
        /// The state of a request, to tell `forbidden` from `not_found`.
        static let requestState = """
            SELECT from_user_id, to_user_id, status FROM friend_requests WHERE id = ?1
            """
        /// The friendships of `?1` (all of them, or with `?2` only), as `?1` sees them.
        static func friendships(where condition: String) -> String {
            """
            SELECT c.id AS conversation_id, u.id, u.username, u.nickname,
                   CASE WHEN c.user_low = ?1 THEN c.alias_low ELSE c.alias_high END AS alias,
                   CASE WHEN c.user_low = ?1 THEN c.read_low ELSE c.read_high END AS read_seq,
                   COALESCE((SELECT MAX(x.seq) FROM texts x WHERE x.conversation_id = c.id), 0) AS last_seq,
                   (SELECT COUNT(*) FROM texts x WHERE x.conversation_id = c.id AND x.sender_id <> ?1
                      AND x.seq > CASE WHEN c.user_low = ?1 THEN c.read_low ELSE c.read_high END) AS unread
            FROM conversations c
            JOIN users u ON u.id = CASE WHEN c.user_low = ?1 THEN c.user_high ELSE c.user_low END
            WHERE \(condition)
            ORDER BY u.username_key
            """
        }
        /// Every friendship of `?1`, by the friend's username key.
        static let friends = friendships(where: "(c.user_low = ?1 OR c.user_high = ?1)")
        /// The friendship of `?1` with `?2`.
        static let friendship = friendships(where: "c.user_low = min(?1, ?2) AND c.user_high = max(?1, ?2)")
        /// A text with the conversation's next sequence number; nothing when the two are not
        /// friends (or are one user) or the fence refuses. Fails on `texts.client_message_id` for
        /// an id the sender used before.
        static let send = """
            INSERT INTO texts (conversation_id, seq, sender_id, text, client_message_id, sent_at)
            SELECT c.id, COALESCE((SELECT MAX(x.seq) FROM texts x WHERE x.conversation_id = c.id), 0) + 1, ?1, ?4, ?3, ?5
            FROM conversations c
            WHERE c.user_low = min(?1, ?2) AND c.user_high = max(?1, ?2) AND \(SQLiteFence.condition(6))
            RETURNING conversation_id, seq
            """
        /// The text a sender stored with a client message id, and who received it.
        static let sent = """
            SELECT x.conversation_id, x.seq, x.sender_id, x.text, x.client_message_id, x.sent_at,
                   CASE WHEN c.user_low = x.sender_id THEN c.user_high ELSE c.user_low END AS receiver_id
            FROM texts x
            JOIN conversations c ON c.id = x.conversation_id
            WHERE x.sender_id = ?1 AND x.client_message_id = ?2
            """
        /// A page of texts after `?3` (at most `?4` rows) with the conversation's last sequence
        /// number, read at once; no row at all when the user is not in the conversation.
        static let texts = """
            SELECT COALESCE((SELECT MAX(y.seq) FROM texts y WHERE y.conversation_id = c.id), 0) AS last_seq,
                   x.seq, x.sender_id, x.text, x.client_message_id, x.sent_at
            FROM conversations c
            LEFT JOIN (
                SELECT seq, sender_id, text, client_message_id, sent_at FROM texts
                WHERE conversation_id = ?1 AND seq > ?3
                ORDER BY seq
                LIMIT ?4
            ) x ON 1
            WHERE c.id = ?1 AND (c.user_low = ?2 OR c.user_high = ?2)
            ORDER BY x.seq
            """
        /// Moves the user's read mark forward to `?3`, capped at the last sequence number.
        static let markRead = """
            UPDATE conversations SET
                read_low = CASE WHEN user_low = ?2 THEN max(read_low, min(?3, COALESCE(
                    (SELECT MAX(x.seq) FROM texts x WHERE x.conversation_id = conversations.id), 0))) ELSE read_low END,
                read_high = CASE WHEN user_high = ?2 THEN max(read_high, min(?3, COALESCE(
                    (SELECT MAX(x.seq) FROM texts x WHERE x.conversation_id = conversations.id), 0))) ELSE read_high END
            WHERE id = ?1 AND (user_low = ?2 OR user_high = ?2) AND \(SQLiteFence.condition(4))
            RETURNING id
            """
    }

    /// The open, migrated database.
    let connection: SQLiteHandle
    /// The epoch writes carry.
    let fence: WriteFence
    /// Texts, written together (one statement, one commit) when they come at the same time.
    let sentTexts: GroupCommit<SQLiteTexts.Text, TextReceipt>

    init(connection: SQLiteHandle, fence: WriteFence) {
        self.connection = connection
        self.fence = fence
        let texts = SQLiteTexts(connection: connection, fence: fence)
        self.sentTexts = GroupCommit(maximumBatch: 64) { batch in await texts.write(batch) }
    }

    func user(id: Int64) async throws -> ChatUser? {
        try await self.connection.query(SQL.user, [.integer(id)]).first.map { try Self.user($0, prefix: "") }
    }

    func searchUsers(prefix: String, callerID: Int64, limit: Int) async throws -> [ChatUserMatch] {
        // A negative LIMIT means "no limit" to SQLite; the contract is "at most `limit`".
        guard limit > 0 else { return [] }
        let rows = try await self.connection.query(
            SQL.search, [.text(prefix), .integer(callerID), .integer(Int64(limit))]
        )
        return try rows.map { row in
            let relation = try row.text("relation")
            guard let relation = ChatRelation(rawValue: relation) else {
                throw UnexpectedRowError(column: "relation", found: row.column("relation"))
            }
            return ChatUserMatch(user: try Self.user(row, prefix: ""), relation: relation)
        }
    }

    func createFriendRequest(fromUserID: Int64, toUserID: Int64, message: String, alias: String?, now: Date) async throws
        -> FriendRequest
    {
        guard fromUserID != toUserID else { throw ChatErrors.selfRequest }
        let createdAt = UnixMilliseconds.from(now)
        let epoch = try self.fence.epochForWrite()
        let from = SQLiteValue.integer(fromUserID)
        let to = SQLiteValue.integer(toUserID)
        let rows: [SQLiteRow]
        do {
            rows = try await self.connection.query(
                SQL.createRequest,
                [from, to, .text(message), alias.map { .text($0) } ?? .null, .integer(createdAt), SQLiteFence.bind(epoch)]
            )
        } catch let error as SQLiteError
            where error.isUniqueViolation && error.message.contains("friend_requests.user_low")
        {
            // One is pending between the two already: say which way.
            guard let sender = try await self.connection.query(SQL.pendingSender, [from, to]).first else { throw error }
            throw ChatErrors.alreadyRequested(byCaller: try sender.int64("from_user_id") == fromUserID)
        }
        guard let row = rows.first else {
            try await SQLiteFence.verify(epoch, on: self.connection)
            let refusal = try await self.connection.query(SQL.requestRefusal, [from, to]).first
            guard let refusal, try refusal.int64("users") == 2 else { throw ChatErrors.noSuchUser }
            throw ChatErrors.alreadyFriends
        }
        return try await self.request(id: try row.int64("id"))
    }

    func pendingFriendRequests(userID: Int64) async throws -> FriendRequestLists {
        let rows = try await self.connection.query(SQL.pending, [.integer(userID)])
        let requests = try rows.map(Self.request)
        return FriendRequestLists(
            incoming: requests.filter { $0.to.id == userID },
            outgoing: requests.filter { $0.from.id == userID }
        )
    }

    func acceptFriendRequest(id: Int64, userID: Int64, alias: String?, now: Date) async throws -> AcceptedFriendRequest {
        let acceptedAt = UnixMilliseconds.from(now)
        let epoch = try self.fence.epochForWrite()
        let request = SQLiteValue.integer(id)
        let user = SQLiteValue.integer(userID)
        // First the friendship, then the request's status. Should only the first have run, the
        // request stays pending, which lists and new requests treat as accepted; accepting it
        // again meets the conversation made then, and only marks the request.
        do {
            let made = try await self.connection.query(
                SQL.befriend,
                [request, user, alias.map { .text($0) } ?? .null, .integer(acceptedAt), SQLiteFence.bind(epoch)]
            )
            if made.isEmpty { try await self.checkAnswered(id: id, userID: userID, as: .accepted, epoch: epoch) }
        } catch let error as SQLiteError where error.isUniqueViolation && error.message.contains("conversations.user_low") {
            // The friendship exists already: an earlier accept stopped half-way.
        }
        let marked = try await self.connection.query(
            SQL.resolve,
            [request, user, .text(FriendRequestStatus.accepted.rawValue), .integer(acceptedAt), SQLiteFence.bind(epoch)]
        )
        if marked.isEmpty { try await self.checkAnswered(id: id, userID: userID, as: .accepted, epoch: epoch) }

        let accepted = try await self.request(id: id)
        return AcceptedFriendRequest(
            request: accepted,
            accepterView: try await self.friendship(of: accepted.to.id, with: accepted.from.id),
            senderView: try await self.friendship(of: accepted.from.id, with: accepted.to.id)
        )
    }

    func declineFriendRequest(id: Int64, userID: Int64, now: Date) async throws -> FriendRequest {
        let epoch = try self.fence.epochForWrite()
        let rows = try await self.connection.query(
            SQL.resolve,
            [
                .integer(id), .integer(userID), .text(FriendRequestStatus.declined.rawValue),
                .integer(UnixMilliseconds.from(now)), SQLiteFence.bind(epoch),
            ]
        )
        if rows.isEmpty { try await self.checkAnswered(id: id, userID: userID, as: .declined, epoch: epoch) }
        return try await self.request(id: id)
    }

    /// After accepting or declining changed nothing: returns when the caller had answered the
    /// request so already (a retry whose first answer was lost), else throws why not (the fence,
    /// `forbidden` for the request's sender, `not_found` otherwise).
    private func checkAnswered(id: Int64, userID: Int64, as answer: FriendRequestStatus, epoch: Int64?) async throws {
        try await SQLiteFence.verify(epoch, on: self.connection)
        if let state = try await self.connection.query(SQL.requestState, [.integer(id)]).first {
            try ChatErrors.checkAnswered(
                by: userID, as: answer, from: try state.int64("from_user_id"), to: try state.int64("to_user_id"), status: try state.text("status")
            )
            return
        }
        throw ChatErrors.noSuchRequest
    }

    func friends(userID: Int64) async throws -> [Friendship] {
        try await self.connection.query(SQL.friends, [.integer(userID)]).map(Self.friendship)
    }

    func sendText(fromUserID: Int64, toUserID: Int64, clientMessageID: String, text: String, now: Date) async throws
        -> TextReceipt
    {
        let text = SQLiteTexts.Text(
            senderID: fromUserID, receiverID: toUserID, clientMessageID: clientMessageID, text: text, sentAt: UnixMilliseconds.from(now)
        )
        return try await self.sentTexts.submit(text)
    }

    func texts(conversationID: Int64, userID: Int64, afterSeq: Int64, limit: Int) async throws -> ChatPage {
        // One more than asked, to know whether more follow.
        let limit = max(0, min(limit, Int(Int32.max)))
        let rows = try await self.connection.query(
            SQL.texts,
            [
                .integer(conversationID), .integer(userID), .integer(afterSeq),
                .integer(Int64(limit + 1)),
            ]
        )
        guard let first = rows.first else { throw ChatErrors.noSuchConversation }
        var texts: [ChatText] = []
        for row in rows {
            guard let seq = try row.optionalInt64("seq") else { continue }
            texts.append(
                ChatText(
                    conversationID: conversationID, seq: seq, senderID: try row.int64("sender_id"), text: try row.text("text"),
                    clientMessageID: try row.text("client_message_id"), sentAt: try row.int64("sent_at")
                )
            )
        }
        let hasMore = texts.count > limit
        return ChatPage(texts: Array(texts.prefix(limit)), lastSeq: try first.int64("last_seq"), hasMore: hasMore)
    }

    func markRead(conversationID: Int64, userID: Int64, seq: Int64) async throws {
        let epoch = try self.fence.epochForWrite()
        let rows = try await self.connection.query(
            SQL.markRead,
            [.integer(conversationID), .integer(userID), .integer(seq), SQLiteFence.bind(epoch)]
        )
        if rows.isEmpty {
            try await SQLiteFence.verify(epoch, on: self.connection)
            throw ChatErrors.noSuchConversation
        }
    }

    /// The request with this id, with both users; it must exist.
    private func request(id: Int64) async throws -> FriendRequest {
        guard let row = try await self.connection.query(SQL.request, [.integer(id)]).first else {
            throw ChatErrors.noSuchRequest
        }
        return try Self.request(row)
    }

    /// The friendship of `viewerID` with `friendID` as the viewer sees it; it must exist.
    private func friendship(of viewerID: Int64, with friendID: Int64) async throws -> Friendship {
        let rows = try await self.connection.query(SQL.friendship, [.integer(viewerID), .integer(friendID)])
        guard let row = rows.first else { throw UnexpectedRowError(column: "conversation_id", found: nil) }
        return try Self.friendship(row)
    }

    /// The user in columns `id`, `username` and `nickname`, each after `prefix`.
    private static func user(_ row: SQLiteRow, prefix: String) throws -> ChatUser {
        ChatUser(
            id: try row.int64(prefix + "id"), username: try row.text(prefix + "username"),
            nickname: try row.text(prefix + "nickname")
        )
    }

    /// A request read with `SQL.requestColumns`.
    private static func request(_ row: SQLiteRow) throws -> FriendRequest {
        let alias: String? = if case .null? = row.column("alias") { nil } else { try row.text("alias") }
        guard let status = FriendRequestStatus(rawValue: try row.text("status")) else {
            throw UnexpectedRowError(column: "status", found: row.column("status"))
        }
        return FriendRequest(
            id: try row.int64("id"), from: try Self.user(row, prefix: "from_"), to: try Self.user(row, prefix: "to_"),
            message: try row.text("message"), alias: alias, status: status, createdAt: try row.int64("created_at")
        )
    }

    /// A friendship read with `SQL.friendships(where:)`.
    private static func friendship(_ row: SQLiteRow) throws -> Friendship {
        let alias: String? = if case .null? = row.column("alias") { nil } else { try row.text("alias") }
        return Friendship(
            friend: try Self.user(row, prefix: ""), alias: alias, conversationID: try row.int64("conversation_id"),
            lastSeq: try row.int64("last_seq"), readSeq: try row.int64("read_seq"), unread: try row.int64("unread")
        )
    }
}
