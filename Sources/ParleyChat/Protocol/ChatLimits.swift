/// The limits of the chat protocol's fields, checked when a client's message is decoded.
///
/// Characters are Swift `Character`s (extended grapheme clusters); bytes are UTF-8 bytes.
public enum ChatLimits {
    /// A `requestId` or `clientMessageId`: 1–64 visible ASCII characters (`!` to `~`).
    public static let identifierLength = 1...64
    /// A token: 1–4,096 bytes.
    public static let tokenBytes = 1...4_096
    /// A search query: 1–32 characters, the length of a username.
    public static let queryLength = 1...32
    /// How many users a search returns; 20 when the client does not say.
    public static let searchLimit = 1...50
    /// The search limit when the client does not say.
    public static let defaultSearchLimit = 20
    /// A friend request's message: up to 255 characters.
    public static let requestMessageLength = 0...255
    /// A friend request's message: up to 1,024 bytes.
    public static let requestMessageBytes = 1_024
    /// An alias (the caller's own name for a friend): 1–50 characters, not only white space.
    public static let aliasLength = 1...50
    /// An alias: up to 200 bytes.
    public static let aliasBytes = 200
    /// A text: 1–4,000 characters, not only white space.
    public static let textLength = 1...4_000
    /// A text: up to 8,192 bytes, so that one message always fits a frame, escaped.
    public static let textBytes = 8_192
    /// How many messages a `sync` returns at most; 100 when the client does not say.
    public static let syncLimit = 1...500
    /// The sync limit when the client does not say.
    public static let defaultSyncLimit = 100
}

/// Field checks used by the payloads' `validate()`; each throws the decoding error to send back.
enum ChatFieldCheck {
    static func identifier(_ value: String?, _ field: String) throws(ChatMessageDecodingError) {
        guard let value else {
            return
        }
        guard Self.isIdentifier(value) else {
            throw ChatMessageDecodingError(
                .invalidField(field, reason: "must have 1 to 64 visible ASCII characters")
            )
        }
    }

    /// Whether `value` is a valid `requestId` / `clientMessageId`.
    static func isIdentifier(_ value: String) -> Bool {
        ChatLimits.identifierLength.contains(value.utf8.count)
            && value.utf8.allSatisfy { (0x21...0x7E).contains($0) }
    }

    static func positive(_ value: Int64, _ field: String) throws(ChatMessageDecodingError) {
        guard value >= 1 else {
            throw ChatMessageDecodingError(.invalidField(field, reason: "must be 1 or more"))
        }
    }

    static func nonNegative(_ value: Int64, _ field: String) throws(ChatMessageDecodingError) {
        guard value >= 0 else {
            throw ChatMessageDecodingError(.invalidField(field, reason: "must be 0 or more"))
        }
    }

    static func range(_ value: Int?, _ range: ClosedRange<Int>, _ field: String) throws(ChatMessageDecodingError) {
        guard let value else {
            return
        }
        guard range.contains(value) else {
            throw ChatMessageDecodingError(
                .invalidField(field, reason: "must be from \(range.lowerBound) to \(range.upperBound)")
            )
        }
    }

    /// Checks a string's length in characters and bytes; `blankAllowed` false refuses white space only.
    static func text(
        _ value: String,
        _ field: String,
        characters: ClosedRange<Int>,
        bytes: Int,
        blankAllowed: Bool
    ) throws(ChatMessageDecodingError) {
        if value.utf8.count > bytes || value.count > characters.upperBound {
            throw ChatMessageDecodingError(
                .fieldTooLarge(field, reason: "has at most \(characters.upperBound) characters and \(bytes) bytes")
            )
        }
        if value.count < characters.lowerBound {
            throw ChatMessageDecodingError(
                .invalidField(field, reason: "must have at least \(characters.lowerBound) character(s)")
            )
        }
        if !blankAllowed, value.allSatisfy(\.isWhitespace) {
            throw ChatMessageDecodingError(.invalidField(field, reason: "must not be only white space"))
        }
    }

    /// A name shown to people: no control characters.
    static func name(_ value: String?, _ field: String) throws(ChatMessageDecodingError) {
        guard let value else {
            return
        }
        try Self.text(value, field, characters: ChatLimits.aliasLength, bytes: ChatLimits.aliasBytes, blankAllowed: false)
        if value.unicodeScalars.contains(where: { $0.properties.generalCategory == .control }) {
            throw ChatMessageDecodingError(.invalidField(field, reason: "must not contain control characters"))
        }
    }
}
