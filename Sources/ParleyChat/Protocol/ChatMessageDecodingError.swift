/// A frame (or WebSocket message) whose body is not a valid message of its type.
///
/// The connection stays up: send ``reply`` (an `error` frame with `closing: false`) and read on.
/// It carries the `requestId` and `clientMessageId` of the bad message when they could be read,
/// so that the client can tell which of its requests failed.
public struct ChatMessageDecodingError: ChatProtocolViolation, Hashable, CustomStringConvertible {
    /// What is wrong.
    public enum Kind: Sendable, Hashable {
        /// The type number is not one this side knows.
        case unknownType(UInt16)
        /// A WebSocket message's `type` names no message type.
        case unknownTypeName(String)
        /// The type is sent by the other side only.
        case wrongDirection(ChatMessageType)
        /// The body is not valid UTF-8.
        case invalidUTF8
        /// The body is not valid JSON (including an empty or truncated body).
        case invalidJSON
        /// The body is JSON but not an object (an array, a string, a number, `null`).
        case notAnObject
        /// A number does not fit its field: a fraction or out of range for an integer. (The
        /// JSON decoder does not say which field.)
        case invalidNumber
        /// A required field is missing; the field's path, such as `text`.
        case missingField(String)
        /// A field has the wrong JSON type or a value out of its range; the path and what it must be.
        case invalidField(String, reason: String)
        /// A field is longer than its limit; the path and the limit.
        case fieldTooLarge(String, reason: String)
    }

    /// What is wrong.
    public var kind: Kind
    /// The bad message's `requestId`, when it had a valid one.
    public var requestId: String?
    /// The bad message's `clientMessageId`, when it had a valid one.
    public var clientMessageId: String?

    /// Creates an error.
    public init(_ kind: Kind, requestId: String? = nil, clientMessageId: String? = nil) {
        self.kind = kind
        self.requestId = requestId
        self.clientMessageId = clientMessageId
    }

    /// `unknown_type`, `too_large` for an over-long field, else `invalid_input`.
    public var code: ChatErrorCode {
        switch self.kind {
        case .unknownType, .unknownTypeName: .unknownType
        case .fieldTooLarge: .tooLarge
        case .wrongDirection, .invalidUTF8, .invalidJSON, .notAnObject, .invalidNumber, .missingField, .invalidField:
            .invalidInput
        }
    }

    /// The message for the peer.
    public var message: String {
        switch self.kind {
        case .unknownType(let number):
            "Unknown message type \(number)."
        case .unknownTypeName(let name):
            "Unknown message type \"\(Self.shorten(name))\"."
        case .wrongDirection(let type):
            type.direction == .serverToClient
                ? "\(type.name) is sent by the server only."
                : "\(type.name) is sent by the client only."
        case .invalidUTF8:
            "The body is not valid UTF-8."
        case .invalidJSON:
            "The body is not valid JSON."
        case .notAnObject:
            "The body must be a JSON object."
        case .invalidNumber:
            "A number in the body does not fit its field: integers are whole numbers of at most 64 bits."
        case .missingField(let path):
            "The field \"\(path)\" is missing."
        case .invalidField(let path, let reason):
            "The field \"\(path)\" \(reason)."
        case .fieldTooLarge(let path, let reason):
            "The field \"\(path)\" \(reason)."
        }
    }

    /// The `error` frame to send back, with `closing: false`.
    public var reply: ChatError? {
        ChatError(
            code: self.code,
            message: self.message,
            requestId: self.requestId,
            clientMessageId: self.clientMessageId,
            closing: false
        )
    }

    /// Always `false`: the frame boundary is intact, so the connection reads on.
    public var closesConnection: Bool { false }

    /// `code: message`.
    public var description: String { "\(self.code.rawValue): \(self.message)" }

    /// A peer-supplied string, cut to 64 characters for echoing back.
    static func shorten(_ text: String) -> String {
        text.count > 64 ? String(text.prefix(64)) + "…" : text
    }
}
