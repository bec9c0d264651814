/// An error raised by ``RESPReplyDecoder`` when the bytes from the server are not valid RESP or
/// break one of its ``RESPReplyDecoder/Limits``.
///
/// Any of these means the stream can no longer be trusted: the connection that raised it is closed.
public enum RESPDecodingError: Error, Hashable, Sendable, CustomStringConvertible {
    /// A reply started with a byte that is no RESP2 or RESP3 type.
    case unknownType(UInt8)
    /// A bulk string, verbatim string or blob error announced more bytes than the limit. Raised
    /// as soon as the length is read, before any of the body.
    case bulkTooLarge(length: Int, limit: Int)
    /// An array, set, push, map or attribute announced more elements (pairs, for a map) than the limit.
    case aggregateTooLarge(count: Int, limit: Int)
    /// Aggregates were nested deeper than the limit.
    case nestingTooDeep(limit: Int)
    /// A header or simple line (simple string, error, integer, double …) grew past the limit
    /// without its CRLF.
    case lineTooLong(limit: Int)
    /// A length or count that is not a decimal integer, or negative other than `-1`.
    case invalidLength(String)
    /// A line or body that does not fit its type, such as `:12a` or `#x`.
    case invalidValue(type: Character, text: String)
    /// A CR not followed by LF, or a bulk body not followed by CRLF.
    case missingCRLF
    /// The stream ended in the middle of a reply; `bufferedBytes` bytes were dropped.
    case truncated(bufferedBytes: Int)

    /// A human readable description of the error.
    public var description: String {
        switch self {
        case .unknownType(let byte):
            let shown = (0x20..<0x7F).contains(byte) ? "'\(Character(UnicodeScalar(byte)))' " : ""
            return "unknown RESP type byte \(shown)(0x\(String(byte, radix: 16)))"
        case .bulkTooLarge(let length, let limit):
            return "RESP bulk string of \(length) bytes is larger than the limit of \(limit) bytes"
        case .aggregateTooLarge(let count, let limit):
            return "RESP aggregate of \(count) elements is larger than the limit of \(limit)"
        case .nestingTooDeep(let limit):
            return "RESP aggregates nested deeper than the limit of \(limit)"
        case .lineTooLong(let limit):
            return "RESP line longer than the limit of \(limit) bytes"
        case .invalidLength(let text):
            return "invalid RESP length \"\(text)\""
        case .invalidValue(let type, let text):
            return "invalid RESP value of type '\(type)': \"\(text.prefix(64))\""
        case .missingCRLF:
            return "RESP line or bulk string not terminated by CRLF"
        case .truncated(let bufferedBytes):
            return "stream ended in the middle of a RESP reply (\(bufferedBytes) bytes dropped)"
        }
    }
}
