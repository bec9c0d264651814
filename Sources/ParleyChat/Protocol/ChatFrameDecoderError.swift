/// A TCP byte stream that cannot be split into chat frames: the connection closes.
public enum ChatFrameDecoderError: ChatProtocolViolation, Hashable, CustomStringConvertible {
    /// A header declared a body longer than the limit. Raised as soon as the header has
    /// arrived, before any of the body is read; the rest of the stream is not read.
    case bodyTooLarge(type: UInt16, length: UInt32, limit: Int)
    /// The stream ended in the middle of a frame; `bufferedBytes` bytes were dropped.
    case truncated(bufferedBytes: Int)

    /// For ``bodyTooLarge(type:length:limit:)`` a `too_large` error with `closing: true`;
    /// `nil` for ``truncated(bufferedBytes:)``, as the peer is gone.
    public var reply: ChatError? {
        switch self {
        case .bodyTooLarge:
            ChatError(code: .tooLarge, message: self.description, closing: true)
        case .truncated:
            nil
        }
    }

    /// Always `true`: after a bad header the stream cannot be resynchronised.
    public var closesConnection: Bool { true }

    /// A message for the peer and the logs.
    public var description: String {
        switch self {
        case .bodyTooLarge(let type, let length, let limit):
            "A frame (type \(type)) declared a body of \(length) bytes; the limit is \(limit) bytes."
        case .truncated(let bufferedBytes):
            "The connection ended in the middle of a frame (\(bufferedBytes) bytes dropped)."
        }
    }
}

/// A message that cannot be encoded into a frame the peer accepts.
public enum ChatEncodingError: Error, Hashable, Sendable, CustomStringConvertible {
    /// The encoded body is over the limit; a sender of lists (such as `sync_result`) sends fewer items.
    case bodyTooLarge(type: UInt16, length: Int, limit: Int)
    /// The JSON encoder failed; `reason` says why.
    case encodingFailed(type: UInt16, reason: String)

    /// A message for the logs.
    public var description: String {
        switch self {
        case .bodyTooLarge(let type, let length, let limit):
            "A message of type \(type) encodes to \(length) bytes; the limit is \(limit) bytes."
        case .encodingFailed(let type, let reason):
            "A message of type \(type) could not be encoded: \(reason)"
        }
    }
}
