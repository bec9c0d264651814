import NIOCore

/// Decodes a stream of RESP2 and RESP3 replies into ``RESPValue``s, one per complete top-level reply.
///
/// The decoder consumes each line and each bulk body as soon as it is complete and keeps what it
/// has read in its state: the open aggregates (with the elements read so far), whether it waits
/// for a bulk body, and how far it has scanned the current line for its CRLF. A reply split into
/// any number of reads is therefore read once, never from its start again. Lengths and counts are
/// checked against ``Limits`` when their header is read, before the body arrives.
public struct RESPReplyDecoder: ByteToMessageDecoder {
    /// One complete top-level reply.
    public typealias InboundOut = RESPValue

    /// The limits on what a server may send; breaking one raises a ``RESPDecodingError``.
    public struct Limits: Sendable, Hashable {
        /// The largest bulk string, verbatim string or blob error, in bytes (default 64 MiB).
        public var maximumBulkLength: Int
        /// The most elements in one array, set or push message, or pairs in one map (default 1 Mi).
        public var maximumAggregateLength: Int
        /// The deepest nesting of aggregates; a flat array is depth 1 (default 32).
        public var maximumNestingDepth: Int
        /// The longest simple line: simple string, error, integer, double … (default 64 KiB).
        public var maximumLineLength: Int

        /// Creates limits; every one has a default.
        public init(
            maximumBulkLength: Int = 64 * 1024 * 1024,
            maximumAggregateLength: Int = 1024 * 1024,
            maximumNestingDepth: Int = 32,
            maximumLineLength: Int = 64 * 1024
        ) {
            precondition(maximumBulkLength >= 0 && maximumAggregateLength >= 0, "limits must not be negative")
            precondition(maximumNestingDepth > 0 && maximumLineLength > 0, "limits must be positive")
            self.maximumBulkLength = maximumBulkLength
            self.maximumAggregateLength = maximumAggregateLength
            self.maximumNestingDepth = maximumNestingDepth
            self.maximumLineLength = maximumLineLength
        }
    }

    enum ReadState {
        /// Waiting for a type byte and its line.
        case line
        /// The header of a bulk value was read; waiting for `length` bytes and CRLF.
        case body(BodyKind, length: Int)
    }

    enum BodyKind {
        case bulkString, verbatimString, blobError
    }

    enum AggregateKind {
        case array, set, push, map, attribute
    }

    /// An aggregate whose elements are still arriving.
    struct OpenAggregate {
        var kind: AggregateKind
        var remaining: Int
        var elements: [RESPValue]
    }

    /// The limits in force.
    public let limits: Limits
    var state = ReadState.line
    /// Bytes of the current line already scanned for CR (from the reader index).
    private var lineScanned = 0
    /// The open aggregates, outermost first.
    var open: [OpenAggregate] = []

    /// Creates a decoder with `limits`.
    public init(limits: Limits = Limits()) {
        self.limits = limits
    }

    /// Emits the next complete reply, if the buffer holds the rest of one.
    public mutating func decode(context: ChannelHandlerContext, buffer: inout ByteBuffer) throws -> DecodingState {
        guard let value = try self.next(from: &buffer) else {
            return .needMoreData
        }
        context.fireChannelRead(Self.wrapInboundOut(value))
        return .continue
    }

    /// Emits the remaining complete replies; at end of file, a partial reply raises
    /// ``RESPDecodingError/truncated(bufferedBytes:)``.
    public mutating func decodeLast(
        context: ChannelHandlerContext,
        buffer: inout ByteBuffer,
        seenEOF: Bool
    ) throws -> DecodingState {
        if let value = try self.next(from: &buffer) {
            context.fireChannelRead(Self.wrapInboundOut(value))
            return .continue
        }
        let partial = buffer.readableBytes > 0 || !self.open.isEmpty
        if seenEOF, partial {
            let dropped = buffer.readableBytes
            buffer.moveReaderIndex(forwardBy: dropped)
            self = RESPReplyDecoder(limits: self.limits)
            throw RESPDecodingError.truncated(bufferedBytes: dropped)
        }
        return .needMoreData
    }

    /// Consumes bytes from `buffer` and returns the next complete top-level reply, or `nil` when
    /// every byte is consumed or kept for later and more are needed.
    mutating func next(from buffer: inout ByteBuffer) throws -> RESPValue? {
        while true {
            let element: RESPValue?
            switch self.state {
            case .line:
                guard let (type, line) = try self.readLine(from: &buffer) else {
                    return nil
                }
                element = try self.parseLine(type: type, line: line)
            case .body(let kind, let length):
                guard buffer.readableBytes >= length + 2 else {
                    return nil
                }
                let body = buffer.readSlice(length: length)!
                guard buffer.readInteger(as: UInt16.self) == 0x0D0A else {
                    throw RESPDecodingError.missingCRLF
                }
                self.state = .line
                element = try Self.makeBody(kind, body)
            }
            if let element, let complete = self.add(element) {
                return complete
            }
        }
    }

    /// Reads a complete line: its type byte and the bytes up to CRLF. Checks the type byte as soon
    /// as it arrives, so garbage fails without waiting for a line end.
    private mutating func readLine(from buffer: inout ByteBuffer) throws -> (UInt8, ByteBuffer)? {
        let view = buffer.readableBytesView
        guard let type = view.first else {
            return nil
        }
        guard Self.isKnownType(type) else {
            throw RESPDecodingError.unknownType(type)
        }
        let start = view.startIndex + self.lineScanned
        guard let cr = view[start...].firstIndex(of: UInt8(ascii: "\r")) else {
            self.lineScanned = view.count
            if view.count > self.limits.maximumLineLength + 1 {
                throw RESPDecodingError.lineTooLong(limit: self.limits.maximumLineLength)
            }
            return nil
        }
        let lineLength = cr - view.startIndex - 1
        if lineLength > self.limits.maximumLineLength {
            throw RESPDecodingError.lineTooLong(limit: self.limits.maximumLineLength)
        }
        guard cr + 1 < view.endIndex else {
            self.lineScanned = cr - view.startIndex
            return nil
        }
        guard view[cr + 1] == UInt8(ascii: "\n") else {
            throw RESPDecodingError.missingCRLF
        }
        self.lineScanned = 0
        buffer.moveReaderIndex(forwardBy: 1)
        let line = buffer.readSlice(length: lineLength)!
        buffer.moveReaderIndex(forwardBy: 2)
        return (type, line)
    }

    private static func isKnownType(_ byte: UInt8) -> Bool {
        switch byte {
        case UInt8(ascii: "+"), UInt8(ascii: "-"), UInt8(ascii: ":"), UInt8(ascii: "$"), UInt8(ascii: "*"),
            UInt8(ascii: "_"), UInt8(ascii: "#"), UInt8(ascii: ","), UInt8(ascii: "("), UInt8(ascii: "="),
            UInt8(ascii: "!"), UInt8(ascii: "%"), UInt8(ascii: "~"), UInt8(ascii: ">"), UInt8(ascii: "|"):
            return true
        default:
            return false
        }
    }
}
