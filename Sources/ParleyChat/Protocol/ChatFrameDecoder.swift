import NIOCore

/// Splits a TCP byte stream into ``ChatFrame``s.
///
/// Resumable: a half-written header or body is left in the buffer until the rest arrives, and
/// nothing is consumed before a whole frame is there. The declared body length is checked as
/// soon as the 6-byte header has arrived, before any of the body is waited for: a length over
/// the limit throws ``ChatFrameDecoderError/bodyTooLarge(type:length:limit:)``, whose
/// ``ChatFrameDecoderError/reply`` is the `too_large` error frame to send before closing.
///
/// The body is not looked at: its UTF-8 and JSON are checked by ``ChatMessage/decode(frame:direction:)``,
/// whose errors leave the connection up. Unknown type numbers pass through as frames too.
///
/// Install it in a `ByteToMessageHandler` with a `maximumBufferSize` of at least
/// ``ChatFrame/headerLength`` + the limit.
public struct ChatFrameDecoder: NIOSingleStepByteToMessageDecoder, Sendable {
    /// A decoded frame.
    public typealias InboundOut = ChatFrame

    /// The largest body accepted, in bytes.
    public let maximumBodyLength: Int

    /// Creates a decoder.
    ///
    /// - Parameter maximumBodyLength: The largest body accepted; the protocol's 64 KiB by default.
    public init(maximumBodyLength: Int = ChatFrame.maximumBodyLength) {
        precondition(maximumBodyLength >= 0, "maximumBodyLength must not be negative")
        self.maximumBodyLength = maximumBodyLength
    }

    /// Returns the next frame when the buffer holds all of it, else `nil` with nothing consumed.
    ///
    /// - Throws: ``ChatFrameDecoderError/bodyTooLarge(type:length:limit:)`` as soon as the header
    ///   declares a body over the limit.
    public mutating func decode(buffer: inout ByteBuffer) throws -> ChatFrame? {
        guard
            let type = buffer.getInteger(at: buffer.readerIndex, endianness: .big, as: UInt16.self),
            let length = buffer.getInteger(at: buffer.readerIndex + 2, endianness: .big, as: UInt32.self)
        else {
            return nil
        }
        guard UInt64(length) <= UInt64(self.maximumBodyLength) else {
            throw ChatFrameDecoderError.bodyTooLarge(type: type, length: length, limit: self.maximumBodyLength)
        }
        guard buffer.readableBytes >= ChatFrame.headerLength + Int(length) else {
            return nil
        }
        buffer.moveReaderIndex(forwardBy: ChatFrame.headerLength)
        let body = buffer.readSlice(length: Int(length))!
        return ChatFrame(type: type, body: body)
    }

    /// Returns the remaining frames; at end of input inside a frame throws
    /// ``ChatFrameDecoderError/truncated(bufferedBytes:)``.
    public mutating func decodeLast(buffer: inout ByteBuffer, seenEOF: Bool) throws -> ChatFrame? {
        if let frame = try self.decode(buffer: &buffer) {
            return frame
        }
        if seenEOF, buffer.readableBytes > 0 {
            let dropped = buffer.readableBytes
            buffer.moveReaderIndex(forwardBy: dropped)
            throw ChatFrameDecoderError.truncated(bufferedBytes: dropped)
        }
        return nil
    }
}
