import NIOCore

/// One reply from a Redis server, in RESP2 or RESP3.
///
/// RESP2 has simple strings, errors, integers, bulk strings and arrays (both of which may be
/// null). RESP3 adds null, booleans, doubles, big numbers, verbatim strings, maps, sets and push
/// messages; its blob errors (`!`) are decoded as ``error(_:)`` like RESP2 errors. RESP3
/// attributes (`|`) are read and dropped by ``RESPReplyDecoder``: they never appear here.
public enum RESPValue: Sendable, Hashable {
    /// A key and a value of a RESP3 map, in the order the server sent them.
    public struct Pair: Sendable, Hashable {
        /// The key.
        public var key: RESPValue
        /// The value.
        public var value: RESPValue

        /// Creates a pair.
        public init(key: RESPValue, value: RESPValue) {
            self.key = key
            self.value = value
        }
    }

    /// `+OK`: a short string without CR or LF.
    case simpleString(String)
    /// `-ERR message` (RESP2 and RESP3) or `!length` blob error (RESP3): the whole text, prefix
    /// included, as in `"WRONGPASS invalid username-password pair"`.
    case error(String)
    /// `:42`: a signed 64-bit integer.
    case integer(Int64)
    /// `$length`: binary-safe bytes; `nil` for the RESP2 null bulk string `$-1`.
    case bulkString(ByteBuffer?)
    /// `*count`: an ordered list; `nil` for the RESP2 null array `*-1`.
    case array([RESPValue]?)
    /// `_`: the RESP3 null.
    case null
    /// `#t` or `#f` (RESP3).
    case boolean(Bool)
    /// `,1.5`, `,inf`, `,-inf` or `,nan` (RESP3).
    case double(Double)
    /// `(12345678901234567890`: an integer of any size, as its decimal text (RESP3).
    case bigNumber(String)
    /// `=length`: text with a three-letter format such as `txt` or `mkd` (RESP3).
    case verbatimString(format: String, text: ByteBuffer)
    /// `%count`: key-value pairs in the order sent (RESP3).
    case map([Pair])
    /// `~count`: an unordered collection (RESP3), in the order sent.
    case set([RESPValue])
    /// `>count`: an out-of-band message such as an invalidation or a pub/sub message (RESP3).
    case push([RESPValue])
}

extension RESPValue {
    /// Whether the value is a null of any kind: `$-1`, `*-1` or `_`.
    public var isNull: Bool {
        switch self {
        case .null, .bulkString(nil), .array(nil): return true
        default: return false
        }
    }

    /// The text of a simple string, bulk string or verbatim string, decoded as UTF-8 (invalid
    /// sequences replaced); the decimal text of an integer or big number; otherwise `nil`.
    public var string: String? {
        switch self {
        case .simpleString(let text), .bigNumber(let text): return text
        case .bulkString(let buffer?), .verbatimString(_, let buffer): return String(buffer: buffer)
        case .integer(let value): return String(value)
        default: return nil
        }
    }

    /// The bytes of a bulk string or verbatim string, or the UTF-8 bytes of a simple string;
    /// otherwise `nil`.
    public var buffer: ByteBuffer? {
        switch self {
        case .bulkString(let buffer?), .verbatimString(_, let buffer): return buffer
        case .simpleString(let text): return ByteBuffer(string: text)
        default: return nil
        }
    }

    /// The value of an integer, or of a bulk or simple string holding a decimal integer
    /// (`INCR` answers `:1`, `GET` of a counter answers `$1 1`); otherwise `nil`.
    public var integer: Int64? {
        switch self {
        case .integer(let value): return value
        case .bulkString(let buffer?): return Int64(String(buffer: buffer))
        case .simpleString(let text): return Int64(text)
        default: return nil
        }
    }

    /// The elements of an array, set or push message; otherwise `nil`.
    public var array: [RESPValue]? {
        switch self {
        case .array(let elements?), .set(let elements), .push(let elements): return elements
        default: return nil
        }
    }

    /// The message of an error reply; otherwise `nil`.
    public var errorMessage: String? {
        if case .error(let message) = self { return message }
        return nil
    }
}
