import NIOCore

/// Splits the bytes from an SMTP server into replies (RFC 5321 section 4.2).
///
/// Each line is `CODE SP TEXT CRLF`, or `CODE - TEXT CRLF` when more lines of the same reply follow.
/// The decoder collects continuation lines until the last line and emits one ``SMTPReply``. A bare LF
/// is accepted as a line end. Lines are limited in length and replies in line count, so a server that
/// never ends a line cannot make the client buffer without bound.
///
/// The scan offset of the current line is kept between reads, so a line arriving in many small reads
/// is scanned once, not from its start on every read.
public struct SMTPReplyDecoder: ByteToMessageDecoder {
    /// One complete reply.
    public typealias InboundOut = SMTPReply

    /// The default longest line, in bytes without CRLF. RFC 5321 allows 512; servers send more.
    public static let defaultMaximumLineLength = 4096
    /// The default largest number of lines in one reply.
    public static let defaultMaximumLineCount = 256

    /// The longest line accepted, in bytes without its CRLF.
    public let maximumLineLength: Int
    /// The largest number of lines accepted in one reply.
    public let maximumLineCount: Int

    private enum ReadState: Hashable {
        /// Between replies.
        case idle
        /// Continuation lines of a reply with `code` have arrived; its last line has not.
        case continuing(code: Int, lines: [String])
    }

    private var state = ReadState.idle
    /// Bytes of the current line scanned so far without finding its LF.
    private var scanned = 0

    /// Creates a decoder.
    ///
    /// - Parameters:
    ///   - maximumLineLength: The longest line accepted; a longer one raises
    ///     ``SMTPReplyFormatError/lineTooLong(limit:)``.
    ///   - maximumLineCount: The most lines in one reply; more raise
    ///     ``SMTPReplyFormatError/tooManyLines(limit:)``.
    public init(
        maximumLineLength: Int = SMTPReplyDecoder.defaultMaximumLineLength,
        maximumLineCount: Int = SMTPReplyDecoder.defaultMaximumLineCount
    ) {
        precondition(maximumLineLength >= 3, "maximumLineLength must leave room for a reply code")
        precondition(maximumLineCount > 0, "maximumLineCount must be positive")
        self.maximumLineLength = maximumLineLength
        self.maximumLineCount = maximumLineCount
    }

    /// Emits the next complete reply, if the buffer holds one.
    public mutating func decode(context: ChannelHandlerContext, buffer: inout ByteBuffer) throws -> DecodingState {
        guard let reply = try self.nextReply(from: &buffer) else {
            return .needMoreData
        }
        context.fireChannelRead(Self.wrapInboundOut(reply))
        return .continue
    }

    /// Emits the remaining complete replies; at end of file, a partial reply raises
    /// ``SMTPReplyFormatError/truncatedReply(bufferedBytes:)``.
    public mutating func decodeLast(
        context: ChannelHandlerContext,
        buffer: inout ByteBuffer,
        seenEOF: Bool
    ) throws -> DecodingState {
        if let reply = try self.nextReply(from: &buffer) {
            context.fireChannelRead(Self.wrapInboundOut(reply))
            return .continue
        }
        if seenEOF, buffer.readableBytes > 0 || self.state != .idle {
            let dropped = buffer.readableBytes
            buffer.moveReaderIndex(forwardBy: dropped)
            self.state = .idle
            self.scanned = 0
            throw SMTPReplyFormatError.truncatedReply(bufferedBytes: dropped)
        }
        return .needMoreData
    }

    /// Returns the next complete reply and consumes its bytes, or `nil` if more bytes are needed.
    public mutating func nextReply(from buffer: inout ByteBuffer) throws -> SMTPReply? {
        while let line = try self.nextLine(from: &buffer) {
            let (code, isLast, text) = try Self.parse(line)
            var lines: [String]
            switch self.state {
            case .idle:
                lines = []
            case .continuing(let expected, let previous):
                guard code == expected else {
                    throw SMTPReplyFormatError.inconsistentCode(expected: expected, found: code)
                }
                lines = previous
            }
            lines.append(text)
            if isLast {
                self.state = .idle
                return SMTPReply(code: code, lines: lines)
            }
            guard lines.count < self.maximumLineCount else {
                throw SMTPReplyFormatError.tooManyLines(limit: self.maximumLineCount)
            }
            self.state = .continuing(code: code, lines: lines)
        }
        return nil
    }

    /// Returns the next line without its CRLF (or LF) and consumes it, or `nil` if it has not ended.
    private mutating func nextLine(from buffer: inout ByteBuffer) throws -> ByteBuffer? {
        let view = buffer.readableBytesView
        let start = view.startIndex + self.scanned
        guard let newline = view[start...].firstIndex(of: UInt8(ascii: "\n")) else {
            self.scanned = view.count
            // One byte more than the limit may be the line's CR.
            if self.scanned > self.maximumLineLength + 1 {
                throw SMTPReplyFormatError.lineTooLong(limit: self.maximumLineLength)
            }
            return nil
        }
        self.scanned = 0
        var length = newline - view.startIndex
        if length > 0, view[newline - 1] == UInt8(ascii: "\r") {
            length -= 1
        }
        guard length <= self.maximumLineLength else {
            throw SMTPReplyFormatError.lineTooLong(limit: self.maximumLineLength)
        }
        let line = buffer.readSlice(length: length)!
        buffer.moveReaderIndex(forwardBy: newline - view.startIndex + 1 - length)
        return line
    }

    /// Splits a line into its code, whether it is the last line of its reply, and its text.
    private static func parse(_ line: ByteBuffer) throws -> (code: Int, isLast: Bool, text: String) {
        let bytes = line.readableBytesView
        let digits = bytes.prefix(3)
        guard digits.count == 3,
            digits.allSatisfy({ (UInt8(ascii: "0")...UInt8(ascii: "9")).contains($0) }),
            (UInt8(ascii: "2")...UInt8(ascii: "5")).contains(digits.first!)
        else {
            throw SMTPReplyFormatError.malformedLine(Self.excerpt(line))
        }
        let code = digits.reduce(0) { $0 * 10 + Int($1 - UInt8(ascii: "0")) }
        let rest = bytes.dropFirst(3)
        guard let separator = rest.first else {
            return (code, true, "")
        }
        let text = String(decoding: rest.dropFirst(), as: UTF8.self)
        switch separator {
        case UInt8(ascii: " "):
            return (code, true, text)
        case UInt8(ascii: "-"):
            return (code, false, text)
        default:
            throw SMTPReplyFormatError.malformedLine(Self.excerpt(line))
        }
    }

    private static func excerpt(_ line: ByteBuffer) -> String {
        let text = String(decoding: line.readableBytesView.prefix(40), as: UTF8.self)
        return String(text.unicodeScalars.map { $0.value < 0x20 || $0.value == 0x7F ? "?" : Character($0) })
    }
}
