/// An error raised by ``SMTPReplyDecoder`` when the server's bytes are not well-formed SMTP replies.
///
/// Any of these means the peer is misbehaving or is not an SMTP server: the connection is closed and
/// the send fails with ``SMTPError/Kind-swift.enum/invalidReply``.
public enum SMTPReplyFormatError: Error, Hashable, Sendable, CustomStringConvertible {
    /// A line grew longer than the limit, in bytes, without its CRLF. Raised as soon as the buffered
    /// part of the line exceeds the limit, without waiting for the line to end.
    case lineTooLong(limit: Int)
    /// A multi-line reply had more lines than the limit.
    case tooManyLines(limit: Int)
    /// A line does not start with a three-digit code from 200 to 599 followed by a space, a hyphen or
    /// the end of the line; `line` is its beginning.
    case malformedLine(String)
    /// A continuation line carried a different code from the first line of its reply.
    case inconsistentCode(expected: Int, found: Int)
    /// The stream ended in the middle of a reply; `bufferedBytes` bytes were dropped.
    case truncatedReply(bufferedBytes: Int)

    /// A human readable description of the error.
    public var description: String {
        switch self {
        case .lineTooLong(let limit):
            return "reply line longer than the limit of \(limit) bytes"
        case .tooManyLines(let limit):
            return "multi-line reply longer than the limit of \(limit) lines"
        case .malformedLine(let line):
            return "malformed reply line \"\(line)\": expected a three-digit code"
        case .inconsistentCode(let expected, let found):
            return "continuation line with code \(found) inside a reply with code \(expected)"
        case .truncatedReply(let bufferedBytes):
            return "stream ended in the middle of a reply (\(bufferedBytes) bytes dropped)"
        }
    }
}
