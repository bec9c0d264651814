/// `send_text` (32), client → server: a text to a friend.
public struct ChatSendText: ChatPayload {
    static let messageType = ChatMessageType.sendText
    /// The client's id for this text, unique per sender; a resend with the same id is
    /// acknowledged again and never stored twice.
    public var clientMessageId: String
    /// The friend.
    public var toUserId: Int64
    /// The text: 1–4,000 characters, at most 8,192 bytes, not only white space.
    public var text: String

    /// Creates the body.
    public init(clientMessageId: String, toUserId: Int64, text: String) {
        self.clientMessageId = clientMessageId
        self.toUserId = toUserId
        self.text = text
    }

    func validate() throws(ChatMessageDecodingError) {
        guard ChatFieldCheck.isIdentifier(self.clientMessageId) else {
            throw ChatMessageDecodingError(
                .invalidField("clientMessageId", reason: "must have 1 to 64 visible ASCII characters")
            )
        }
        try ChatFieldCheck.positive(self.toUserId, "toUserId")
        try ChatFieldCheck.text(
            self.text, "text", characters: ChatLimits.textLength, bytes: ChatLimits.textBytes, blankAllowed: false
        )
    }
}

/// `text_ack` (33), server → client: the text is stored.
public struct ChatTextAck: ChatPayload {
    static let messageType = ChatMessageType.textAck
    /// The `send_text`'s id.
    public var clientMessageId: String
    /// The conversation it is in.
    public var conversationId: Int64
    /// Its sequence number in the conversation.
    public var seq: Int64
    /// When the server stored it, milliseconds since 1970-01-01T00:00:00Z.
    public var sentAt: Int64
    /// `true` when this id had been stored before: this is the earlier message's acknowledgement again.
    public var duplicate: Bool

    /// Creates the body.
    public init(clientMessageId: String, conversationId: Int64, seq: Int64, sentAt: Int64, duplicate: Bool = false) {
        self.clientMessageId = clientMessageId
        self.conversationId = conversationId
        self.seq = seq
        self.sentAt = sentAt
        self.duplicate = duplicate
    }
}

/// A stored text: the body of `message` (34) and an item of `sync_result`.
public struct ChatTextMessage: ChatPayload {
    static let messageType = ChatMessageType.message
    /// The conversation.
    public var conversationId: Int64
    /// Its sequence number: 1, 2, 3, … within the conversation, with no gaps.
    public var seq: Int64
    /// The sender, as the server authenticated them.
    public var fromUserId: Int64
    /// The text.
    public var text: String
    /// When the server stored it, milliseconds since 1970-01-01T00:00:00Z.
    public var sentAt: Int64
    /// The sender's `clientMessageId`; present only on messages the receiving client sent.
    public var clientMessageId: String?

    /// Creates a message value.
    public init(conversationId: Int64, seq: Int64, fromUserId: Int64, text: String, sentAt: Int64, clientMessageId: String? = nil) {
        self.conversationId = conversationId
        self.seq = seq
        self.fromUserId = fromUserId
        self.text = text
        self.sentAt = sentAt
        self.clientMessageId = clientMessageId
    }
}

/// `sync` (35), client → server: a conversation's messages after `afterSeq`.
public struct ChatSync: ChatPayload {
    static let messageType = ChatMessageType.sync
    /// Echoed in the answer.
    public var requestId: String?
    /// The conversation.
    public var conversationId: Int64
    /// The last sequence number the client has; 0 for everything.
    public var afterSeq: Int64
    /// At most this many messages, 1–500; 100 when absent.
    public var limit: Int?

    /// Creates the body.
    public init(requestId: String? = nil, conversationId: Int64, afterSeq: Int64, limit: Int? = nil) {
        self.requestId = requestId
        self.conversationId = conversationId
        self.afterSeq = afterSeq
        self.limit = limit
    }

    func validate() throws(ChatMessageDecodingError) {
        try ChatFieldCheck.identifier(self.requestId, "requestId")
        try ChatFieldCheck.positive(self.conversationId, "conversationId")
        try ChatFieldCheck.nonNegative(self.afterSeq, "afterSeq")
        try ChatFieldCheck.range(self.limit, ChatLimits.syncLimit, "limit")
    }
}

/// `sync_result` (36), server → client: messages in ascending `seq`, with no gap after `afterSeq`.
public struct ChatSyncResult: ChatPayload {
    static let messageType = ChatMessageType.syncResult
    /// The sync's `requestId`.
    public var requestId: String?
    /// The conversation.
    public var conversationId: Int64
    /// The messages, `afterSeq + 1` onwards.
    public var messages: [ChatTextMessage]
    /// The highest sequence number in the conversation when the page was read.
    public var lastSeq: Int64
    /// Whether more messages follow the last one here: sync again after it.
    public var hasMore: Bool

    /// Creates the body.
    public init(requestId: String? = nil, conversationId: Int64, messages: [ChatTextMessage], lastSeq: Int64, hasMore: Bool) {
        self.requestId = requestId
        self.conversationId = conversationId
        self.messages = messages
        self.lastSeq = lastSeq
        self.hasMore = hasMore
    }
}

/// `mark_read` (37), client → server: the caller has read its conversation up to `seq`.
public struct ChatMarkRead: ChatPayload {
    static let messageType = ChatMessageType.markRead
    /// Echoed in the `ok`.
    public var requestId: String?
    /// The conversation.
    public var conversationId: Int64
    /// The highest sequence number read.
    public var seq: Int64

    /// Creates the body.
    public init(requestId: String? = nil, conversationId: Int64, seq: Int64) {
        self.requestId = requestId
        self.conversationId = conversationId
        self.seq = seq
    }

    func validate() throws(ChatMessageDecodingError) {
        try ChatFieldCheck.identifier(self.requestId, "requestId")
        try ChatFieldCheck.positive(self.conversationId, "conversationId")
        try ChatFieldCheck.nonNegative(self.seq, "seq")
    }
}
