import ParleyCore

/// Writes chat texts for ``SQLiteChatRepository``, many in one statement: each gets its
/// conversation's next sequence number, in the statement that stores it.
struct SQLiteTexts: Sendable {
    /// A text waiting to be written.
    struct Text: Sendable {
        var senderID: Int64
        var receiverID: Int64
        var clientMessageID: String
        var text: String
        var sentAt: Int64

        /// Its five parameters, in the order of `SQLiteChatRepository.SQL.send` and of a row of
        /// ``insert(count:)``.
        var binds: [SQLiteValue] {
            [.integer(self.senderID), .integer(self.receiverID), .text(self.clientMessageID), .text(self.text), .integer(self.sentAt)]
        }
    }

    /// Texts, `count` of them, each row of `batch` five parameters (sender, receiver, client
    /// message id, text, sent at), then the epoch; as `SQLiteChatRepository.SQL.send` for each.
    /// The conversations must differ: each text's number is its conversation's highest plus one,
    /// read before any of the batch is stored.
    static func insert(count: Int) -> String {
        """
            WITH batch(sender_id, receiver_id, client_message_id, text, sent_at) AS (VALUES \(sqliteParameterRows(count, columns: 5)))
            INSERT INTO texts (conversation_id, seq, sender_id, text, client_message_id, sent_at)
            SELECT c.id, COALESCE((SELECT MAX(x.seq) FROM texts x WHERE x.conversation_id = c.id), 0) + 1,
                   batch.sender_id, batch.text, batch.client_message_id, batch.sent_at
            FROM batch
            JOIN conversations c
              ON c.user_low = min(batch.sender_id, batch.receiver_id) AND c.user_high = max(batch.sender_id, batch.receiver_id)
            WHERE \(SQLiteFence.condition(count * 5 + 1))
            RETURNING conversation_id, seq, sender_id, client_message_id
            """
    }

    /// The open, migrated database.
    let connection: SQLiteHandle
    /// The epoch writes carry.
    let fence: WriteFence

    /// Writes a batch: the texts of distinct conversations in one statement, one transaction;
    /// the others (a second text of a conversation, so after the first), the texts that statement
    /// did not store (not friends, say), and all of them when it fails (a resent client message
    /// id, say), each alone, for its own answer.
    func write(_ batch: [Text]) async -> [Result<TextReceipt, any Error>] {
        var conversations = Set<[Int64]>()
        let together = batch.count > 1 ? batch.filter { conversations.insert([min($0.senderID, $0.receiverID), max($0.senderID, $0.receiverID)]).inserted } : []
        let written = together.count > 1 ? await self.writeTogether(together) : [:]
        // A resend in the same batch is written alone after the first, and so told it is one.
        return await eachResult(of: batch, written: written, key: Key.init, alone: self.write)
    }

    /// A text's sender and client message id: unique among stored texts.
    struct Key: Hashable {
        var senderID: Int64
        var clientMessageID: String
    }

    /// The texts of `batch` (of distinct conversations) written in one statement, by sender and
    /// client message id; none when the statement fails.
    func writeTogether(_ batch: [Text]) async -> [Key: TextReceipt] {
        // `try?` over the epoch too: refused, each text alone then says why; unfenced, it is `nil`.
        guard let rows = try? await self.connection.query(Self.insert(count: batch.count), batch.flatMap(\.binds) + [SQLiteFence.bind(self.fence.epochForWrite())])
        else { return [:] }
        let texts = Dictionary(batch.map { (Key($0), $0) }, uniquingKeysWith: { first, _ in first })
        var written: [Key: TextReceipt] = [:]
        for row in rows {
            guard let senderID = try? row.int64("sender_id"), let clientMessageID = try? row.text("client_message_id"),
                let conversationID = try? row.int64("conversation_id"), let seq = try? row.int64("seq"),
                let text = texts[Key(senderID: senderID, clientMessageID: clientMessageID)]
            else { continue }
            let stored = ChatText(
                conversationID: conversationID, seq: seq, senderID: senderID, text: text.text, clientMessageID: clientMessageID,
                sentAt: text.sentAt
            )
            written[Key(text)] = TextReceipt(text: stored, receiverID: text.receiverID, duplicate: false)
        }
        return written
    }

    /// Writes one text.
    func write(_ text: Text) async throws -> TextReceipt {
        let epoch = try self.fence.epochForWrite()
        let rows: [SQLiteRow]
        do {
            rows = try await self.connection.query(SQLiteChatRepository.SQL.send, text.binds + [SQLiteFence.bind(epoch)])
        } catch let error as SQLiteError
            where error.isUniqueViolation && error.message.contains("texts.client_message_id")
        {
            guard let receipt = try await self.storedText(senderID: text.senderID, clientMessageID: text.clientMessageID) else { throw error }
            return receipt
        }
        guard let row = rows.first else {
            try await SQLiteFence.verify(epoch, on: self.connection)
            // A retry whose first attempt went to someone else is still a retry: the first one wins.
            if let receipt = try await self.storedText(senderID: text.senderID, clientMessageID: text.clientMessageID) { return receipt }
            throw ChatErrors.notFriends
        }
        let stored = ChatText(
            conversationID: try row.int64("conversation_id"), seq: try row.int64("seq"), senderID: text.senderID, text: text.text,
            clientMessageID: text.clientMessageID, sentAt: text.sentAt
        )
        return TextReceipt(text: stored, receiverID: text.receiverID, duplicate: false)
    }

    /// The text stored before with this client message id, as a duplicate's receipt.
    private func storedText(senderID: Int64, clientMessageID: String) async throws -> TextReceipt? {
        let rows = try await self.connection.query(SQLiteChatRepository.SQL.sent, [.integer(senderID), .text(clientMessageID)])
        guard let row = rows.first else { return nil }
        let text = ChatText(
            conversationID: try row.int64("conversation_id"), seq: try row.int64("seq"), senderID: try row.int64("sender_id"),
            text: try row.text("text"), clientMessageID: try row.text("client_message_id"), sentAt: try row.int64("sent_at")
        )
        return TextReceipt(text: text, receiverID: try row.int64("receiver_id"), duplicate: true)
    }
}

extension SQLiteTexts.Key {
    init(_ text: SQLiteTexts.Text) {
        self.init(senderID: text.senderID, clientMessageID: text.clientMessageID)
    }
}
