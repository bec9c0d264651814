/// `authenticate` (1), client → server: the token from `POST /api/v1/chat/ticket`.
public struct ChatAuthenticate: ChatPayload {
    static let messageType = ChatMessageType.authenticate
    /// Echoed in the answer.
    public var requestId: String?
    /// The token the balancer signed; the only source of the user's identity.
    public var token: String

    /// Creates the body.
    public init(requestId: String? = nil, token: String) {
        self.requestId = requestId
        self.token = token
    }

    func validate() throws(ChatMessageDecodingError) {
        try ChatFieldCheck.identifier(self.requestId, "requestId")
        guard ChatLimits.tokenBytes.contains(self.token.utf8.count) else {
            throw ChatMessageDecodingError(.invalidField("token", reason: "must have 1 to 4096 bytes"))
        }
    }
}

/// `authenticated` (2), server → client: who the token says the client is, and its timing.
public struct ChatAuthenticated: ChatPayload {
    static let messageType = ChatMessageType.authenticated
    /// The `authenticate` frame's `requestId`.
    public var requestId: String?
    /// The user the token names.
    public var user: ChatUser
    /// The chat server's name, as registered with the balancer.
    public var serverName: String
    /// How often the client sends `heartbeat`, in seconds (10 by default).
    public var heartbeatSeconds: Int
    /// After how many seconds without any frame from the client the server closes (30 by default).
    public var idleTimeoutSeconds: Int

    /// Creates the body.
    public init(requestId: String? = nil, user: ChatUser, serverName: String, heartbeatSeconds: Int, idleTimeoutSeconds: Int) {
        self.requestId = requestId
        self.user = user
        self.serverName = serverName
        self.heartbeatSeconds = heartbeatSeconds
        self.idleTimeoutSeconds = idleTimeoutSeconds
    }
}

/// `heartbeat` (3), client → server: an empty object, `{}`.
public struct ChatHeartbeat: ChatPayload {
    static let messageType = ChatMessageType.heartbeat
    private enum CodingKeys: CodingKey {}

    /// Creates the body.
    public init() {}

    /// Requires a JSON object, ignoring its fields.
    public init(from decoder: any Decoder) throws {
        _ = try decoder.container(keyedBy: CodingKeys.self)
    }

    /// Writes `{}`.
    public func encode(to encoder: any Encoder) throws {
        _ = encoder.container(keyedBy: CodingKeys.self)
    }
}

/// `heartbeat_ack` (4), server → client: the answer to every heartbeat.
public struct ChatHeartbeatAck: ChatPayload {
    static let messageType = ChatMessageType.heartbeatAck
    /// The server's clock, milliseconds since 1970-01-01T00:00:00Z.
    public var serverTime: Int64

    /// Creates the body.
    public init(serverTime: Int64) {
        self.serverTime = serverTime
    }
}

/// `logout` (5), client → server: end the session; answered with `ok`, then the server closes.
public struct ChatLogout: ChatPayload {
    static let messageType = ChatMessageType.logout
    /// Echoed in the `ok`.
    public var requestId: String?

    /// Creates the body.
    public init(requestId: String? = nil) {
        self.requestId = requestId
    }

    func validate() throws(ChatMessageDecodingError) {
        try ChatFieldCheck.identifier(self.requestId, "requestId")
    }
}

/// Why the server ended a session with `kicked`.
public enum ChatKickReason: String, Codable, Sendable, Hashable, CaseIterable {
    /// The same user authenticated on another connection, which now holds the session.
    case loggedInElsewhere = "logged_in_elsewhere"
    /// The client sent nothing for the idle timeout.
    case idleTimeout = "idle_timeout"
    /// The server is shutting down; get a new ticket and reconnect.
    case shuttingDown = "shutting_down"
}

/// `kicked` (6), server → client: the session is over; the server closes after it.
public struct ChatKicked: ChatPayload {
    static let messageType = ChatMessageType.kicked
    /// Why.
    public var reason: ChatKickReason
    /// A message for the user.
    public var message: String

    /// Creates the body.
    public init(reason: ChatKickReason, message: String) {
        self.reason = reason
        self.message = message
    }
}

/// `ok` (7), server → client: a request with no other result (`logout`, `mark_read`) succeeded.
public struct ChatOK: ChatPayload {
    static let messageType = ChatMessageType.ok
    /// The request's `requestId`.
    public var requestId: String?

    /// Creates the body.
    public init(requestId: String? = nil) {
        self.requestId = requestId
    }
}

/// `error` (8), server → client: a request or a frame failed.
///
/// Also an `Error`, so that server code can throw it and send what it caught.
public struct ChatError: ChatPayload, Error {
    static let messageType = ChatMessageType.error
    /// What kind of failure.
    public var code: ChatErrorCode
    /// A message for the user.
    public var message: String
    /// The failed request's `requestId`, when it had one.
    public var requestId: String?
    /// The failed `send_text`'s `clientMessageId`.
    public var clientMessageId: String?
    /// Whether the server closes the connection after this frame.
    public var closing: Bool

    /// Creates the body.
    public init(
        code: ChatErrorCode,
        message: String,
        requestId: String? = nil,
        clientMessageId: String? = nil,
        closing: Bool = false
    ) {
        self.code = code
        self.message = message
        self.requestId = requestId
        self.clientMessageId = clientMessageId
        self.closing = closing
    }
}
