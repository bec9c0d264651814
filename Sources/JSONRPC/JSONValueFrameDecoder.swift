import NIOCore

/// Splits a TCP byte stream into complete top-level JSON objects or arrays.
///
/// JSON-RPC 1.0 as spoken by Go's `net/rpc/jsonrpc` has no length prefix: messages are JSON values
/// written one after another, optionally separated by whitespace (Go's encoder writes a newline after
/// each). The decoder scans bytes, tracking nesting depth, whether it is inside a string and whether
/// the previous byte was a backslash escape. The scan state and offset are kept between reads, so a
/// value arriving in many small reads is scanned once, not from its start on every read.
///
/// Each emitted `ByteBuffer` holds exactly one value, without the surrounding whitespace. The value
/// is not validated as JSON beyond its bracket structure: that is the JSON decoder's job.
public struct JSONValueFrameDecoder: ByteToMessageDecoder {
    /// One complete JSON value.
    public typealias InboundOut = ByteBuffer

    /// The default limit for one message, 1 MiB.
    public static let defaultMaximumFrameLength = 1_048_576

    /// The largest value accepted, in bytes.
    public let maximumFrameLength: Int

    /// Where the scan of the current, incomplete value stopped.
    private struct ScanState {
        /// Bytes of the current value scanned so far (from the buffer's reader index); 0 between values.
        var scanned = 0
        var depth = 0
        var inString = false
        var escaped = false
    }

    private var scan = ScanState()

    /// Creates a decoder.
    ///
    /// - Parameter maximumFrameLength: The largest value accepted, in bytes; a larger one raises
    ///   ``JSONRPCFrameError/frameTooLarge(limit:)``.
    public init(maximumFrameLength: Int = JSONValueFrameDecoder.defaultMaximumFrameLength) {
        precondition(maximumFrameLength > 0, "maximumFrameLength must be positive")
        self.maximumFrameLength = maximumFrameLength
    }

    /// Emits the next complete value, if the buffer holds one.
    public mutating func decode(context: ChannelHandlerContext, buffer: inout ByteBuffer) throws -> DecodingState {
        guard let frame = try self.nextFrame(in: &buffer) else {
            return .needMoreData
        }
        context.fireChannelRead(Self.wrapInboundOut(frame))
        return .continue
    }

    /// Emits the remaining complete values; at end of file, a partial value raises
    /// ``JSONRPCFrameError/truncatedFrame(bufferedBytes:)``. Trailing whitespace is ignored.
    public mutating func decodeLast(
        context: ChannelHandlerContext,
        buffer: inout ByteBuffer,
        seenEOF: Bool
    ) throws -> DecodingState {
        if let frame = try self.nextFrame(in: &buffer) {
            context.fireChannelRead(Self.wrapInboundOut(frame))
            return .continue
        }
        if seenEOF, buffer.readableBytes > 0 {
            let dropped = buffer.readableBytes
            buffer.moveReaderIndex(forwardBy: dropped)
            self.scan = ScanState()
            throw JSONRPCFrameError.truncatedFrame(bufferedBytes: dropped)
        }
        return .needMoreData
    }

    /// Returns the next complete value and consumes it, or `nil` if more bytes are needed.
    mutating func nextFrame(in buffer: inout ByteBuffer) throws -> ByteBuffer? {
        if self.scan.scanned == 0 {
            // Between values: skip whitespace, then the value must open with '{' or '['.
            let whitespace = buffer.readableBytesView.prefix(while: Self.isWhitespace).count
            buffer.moveReaderIndex(forwardBy: whitespace)
            guard let first = buffer.readableBytesView.first else {
                return nil
            }
            guard first == UInt8(ascii: "{") || first == UInt8(ascii: "[") else {
                throw JSONRPCFrameError.unexpectedByte(first)
            }
        }

        var state = self.scan
        let frameLength: Int? = buffer.withUnsafeReadableBytes { bytes in
            var index = state.scanned
            while index < bytes.count {
                let byte = bytes[index]
                index += 1
                if state.inString {
                    if state.escaped {
                        state.escaped = false
                    } else if byte == UInt8(ascii: "\\") {
                        state.escaped = true
                    } else if byte == UInt8(ascii: "\"") {
                        state.inString = false
                    }
                    continue
                }
                switch byte {
                case UInt8(ascii: "\""):
                    state.inString = true
                case UInt8(ascii: "{"), UInt8(ascii: "["):
                    state.depth += 1
                case UInt8(ascii: "}"), UInt8(ascii: "]"):
                    state.depth -= 1
                    if state.depth == 0 {
                        return index
                    }
                default:
                    break
                }
            }
            state.scanned = index
            return nil
        }

        guard let frameLength else {
            self.scan = state
            if state.scanned > self.maximumFrameLength {
                throw JSONRPCFrameError.frameTooLarge(limit: self.maximumFrameLength)
            }
            return nil
        }
        self.scan = ScanState()
        if frameLength > self.maximumFrameLength {
            throw JSONRPCFrameError.frameTooLarge(limit: self.maximumFrameLength)
        }
        return buffer.readSlice(length: frameLength)
    }

    private static func isWhitespace(_ byte: UInt8) -> Bool {
        byte == UInt8(ascii: " ") || byte == UInt8(ascii: "\n") || byte == UInt8(ascii: "\r")
            || byte == UInt8(ascii: "\t")
    }
}
