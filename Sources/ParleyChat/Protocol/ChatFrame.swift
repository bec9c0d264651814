import NIOCore

/// One frame of the chat protocol over TCP: a 2-byte type, a 4-byte body length (both
/// big-endian), then the body, a UTF-8 JSON object.
///
/// The type is kept as the raw number so that a frame of a type this side does not know still
/// decodes as a frame, and can be answered with an error while the connection stays up.
public struct ChatFrame: Sendable, Hashable, CustomStringConvertible {
    /// Bytes of the header: the type (2) and the body length (4).
    public static let headerLength = 6
    /// The largest body either side sends or accepts: 64 KiB.
    public static let maximumBodyLength = 65_536

    /// The message type's number; ``ChatMessageType`` when known.
    public var type: UInt16
    /// The body: a UTF-8 JSON object (not checked here).
    public var body: ByteBuffer

    /// Creates a frame from a raw type number and a body.
    public init(type: UInt16, body: ByteBuffer) {
        self.type = type
        self.body = body
    }

    /// Creates a frame of a known type.
    public init(type: ChatMessageType, body: ByteBuffer) {
        self.init(type: type.rawValue, body: body)
    }

    /// The known type of this frame, or `nil` for a number this side does not know.
    public var messageType: ChatMessageType? { ChatMessageType(rawValue: self.type) }

    /// `type name (number), N bytes`.
    public var description: String {
        let name = self.messageType?.name ?? "unknown"
        return "ChatFrame(\(name) (\(self.type)), \(self.body.readableBytes) bytes)"
    }
}

extension ByteBuffer {
    /// Writes `frame` with its header; returns the number of bytes written.
    ///
    /// Does not check the body limit: ``ChatFrameEncoder`` does.
    @discardableResult
    public mutating func writeChatFrame(_ frame: ChatFrame) -> Int {
        var written = self.writeInteger(frame.type, endianness: .big, as: UInt16.self)
        written += self.writeInteger(UInt32(frame.body.readableBytes), endianness: .big, as: UInt32.self)
        written += self.writeImmutableBuffer(frame.body)
        return written
    }
}
