import NIOCore

/// Writes ``ChatFrame``s with their 6-byte header.
///
/// Refuses a body over the limit with ``ChatEncodingError/bodyTooLarge(type:length:limit:)``
/// rather than send a frame the peer would refuse and close on.
public struct ChatFrameEncoder: MessageToByteEncoder, Sendable {
    /// The frames to write.
    public typealias OutboundIn = ChatFrame

    /// The largest body written, in bytes.
    public let maximumBodyLength: Int

    /// Creates an encoder.
    ///
    /// - Parameter maximumBodyLength: The largest body written; the protocol's 64 KiB by default.
    public init(maximumBodyLength: Int = ChatFrame.maximumBodyLength) {
        self.maximumBodyLength = maximumBodyLength
    }

    /// Writes the header and the body of `data` into `out`.
    public func encode(data: ChatFrame, out: inout ByteBuffer) throws {
        let length = data.body.readableBytes
        guard length <= self.maximumBodyLength else {
            throw ChatEncodingError.bodyTooLarge(type: data.type, length: length, limit: self.maximumBodyLength)
        }
        out.reserveCapacity(minimumWritableBytes: ChatFrame.headerLength + length)
        out.writeChatFrame(data)
    }
}
