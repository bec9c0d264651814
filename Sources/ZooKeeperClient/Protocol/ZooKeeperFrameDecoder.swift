import NIOCore

/// The byte stream from a ZooKeeper server could not be split into frames.
enum ZooKeeperFrameError: Error, Hashable, Sendable, CustomStringConvertible {
    /// A frame announced more bytes than the limit.
    case frameTooLarge(length: Int, limit: Int)
    /// A frame announced a negative length.
    case negativeLength(Int32)
    /// The stream ended inside a frame; `bufferedBytes` bytes were dropped.
    case truncatedFrame(bufferedBytes: Int)

    var description: String {
        switch self {
        case .frameTooLarge(let length, let limit):
            return "ZooKeeper frame of \(length) bytes is larger than the limit of \(limit) bytes"
        case .negativeLength(let length):
            return "ZooKeeper frame with a negative length (\(length))"
        case .truncatedFrame(let bufferedBytes):
            return "stream ended in the middle of a ZooKeeper frame (\(bufferedBytes) bytes dropped)"
        }
    }
}

/// Splits the byte stream from a ZooKeeper server into frames: a 4-byte big-endian length, then
/// that many bytes. Emits each frame's body without the length.
struct ZooKeeperFrameDecoder: ByteToMessageDecoder {
    typealias InboundOut = ByteBuffer

    /// 4 MiB: above the server's 1 MiB `jute.maxbuffer` for data, with room for long child lists.
    static let defaultMaximumFrameLength = 4 * 1024 * 1024

    private enum ReadState {
        case waitingForLength
        case waitingForBody(length: Int)
    }

    let maximumFrameLength: Int
    private var state = ReadState.waitingForLength

    init(maximumFrameLength: Int = ZooKeeperFrameDecoder.defaultMaximumFrameLength) {
        precondition(maximumFrameLength > 0, "maximumFrameLength must be positive")
        self.maximumFrameLength = maximumFrameLength
    }

    mutating func decode(context: ChannelHandlerContext, buffer: inout ByteBuffer) throws -> DecodingState {
        guard let frame = try self.nextFrame(in: &buffer) else {
            return .needMoreData
        }
        context.fireChannelRead(Self.wrapInboundOut(frame))
        return .continue
    }

    mutating func decodeLast(context: ChannelHandlerContext, buffer: inout ByteBuffer, seenEOF: Bool) throws -> DecodingState {
        if let frame = try self.nextFrame(in: &buffer) {
            context.fireChannelRead(Self.wrapInboundOut(frame))
            return .continue
        }
        if seenEOF, buffer.readableBytes > 0 {
            let dropped = buffer.readableBytes
            buffer.moveReaderIndex(forwardBy: dropped)
            self.state = .waitingForLength
            throw ZooKeeperFrameError.truncatedFrame(bufferedBytes: dropped)
        }
        return .needMoreData
    }

    /// Returns the next frame's body and consumes it, or `nil` if more bytes are needed.
    mutating func nextFrame(in buffer: inout ByteBuffer) throws -> ByteBuffer? {
        if case .waitingForLength = self.state {
            guard let length = buffer.readInteger(endianness: .big, as: Int32.self) else {
                return nil
            }
            guard length >= 0 else {
                throw ZooKeeperFrameError.negativeLength(length)
            }
            guard Int(length) <= self.maximumFrameLength else {
                throw ZooKeeperFrameError.frameTooLarge(length: Int(length), limit: self.maximumFrameLength)
            }
            self.state = .waitingForBody(length: Int(length))
        }
        guard case .waitingForBody(let length) = self.state, let body = buffer.readSlice(length: length) else {
            return nil
        }
        self.state = .waitingForLength
        return body
    }
}
