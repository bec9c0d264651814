/// The body of one message type: its JSON fields, and the field rules checked when it arrives.
protocol ChatPayload: Codable, Sendable, Hashable {
    /// The type whose body this is.
    static var messageType: ChatMessageType { get }
    /// Checks the field rules of ``ChatLimits``; server → client bodies check nothing.
    func validate() throws(ChatMessageDecodingError)
}

extension ChatPayload {
    func validate() throws(ChatMessageDecodingError) {}
}

/// A user as the chat protocol shows one.
public struct ChatUser: Codable, Sendable, Hashable {
    /// The account's id.
    public var userId: Int64
    /// The username as registered.
    public var username: String
    /// The name the user chose to show, when it differs from the username.
    public var nickname: String?

    /// Creates a user value.
    public init(userId: Int64, username: String, nickname: String? = nil) {
        self.userId = userId
        self.username = username
        self.nickname = nickname
    }
}
