import NIOCore

/// A command for a Redis server: the command name and its arguments, each sent as a bulk string.
///
/// Arguments are binary-safe: a `String` is sent as its UTF-8 bytes, a `ByteBuffer` as it is.
/// ``RESPCommandEncoder`` writes a command as a RESP array of bulk strings, the form every Redis
/// server accepts.
public struct RESPCommand: Sendable, Hashable {
    /// One argument, kept as given until it is encoded (no copy on creation).
    enum Argument: Sendable, Hashable {
        case string(String)
        case bytes(ByteBuffer)

        var byteCount: Int {
            switch self {
            case .string(let text): return text.utf8.count
            case .bytes(let buffer): return buffer.readableBytes
            }
        }
    }

    var arguments: [Argument]

    /// Creates a command from text arguments, such as `["SET", "key", "value"]`.
    public init(_ arguments: [String]) {
        self.arguments = arguments.map(Argument.string)
    }

    /// Creates a command from binary arguments; the buffers' readable bytes are sent.
    public init(_ arguments: [ByteBuffer]) {
        self.arguments = arguments.map(Argument.bytes)
    }

    /// Creates a command from a name and text arguments, such as `RESPCommand("GET", "key")`.
    public init(_ name: String, _ arguments: String...) {
        self.arguments = [.string(name)] + arguments.map(Argument.string)
    }

    /// The number of arguments, the name included.
    public var count: Int { self.arguments.count }

    /// The command name (the first argument) in upper case, for messages and logs; the other
    /// arguments, which may hold secrets, are never shown.
    public var name: String {
        switch self.arguments.first {
        case .string(let text): return text.uppercased()
        case .bytes(let buffer): return String(buffer: buffer).uppercased()
        case nil: return "(empty command)"
        }
    }
}

/// Writes ``RESPCommand``s as RESP arrays of bulk strings: `*2\r\n$3\r\nGET\r\n$3\r\nkey\r\n`.
///
/// Usable as a `MessageToByteEncoder` in a pipeline, or directly through
/// ``encode(_:into:)`` to put many commands in one buffer (pipelining).
public struct RESPCommandEncoder: MessageToByteEncoder, Sendable {
    /// The commands written.
    public typealias OutboundIn = RESPCommand

    /// Creates an encoder.
    public init() {}

    /// Appends `data` to `out`.
    public func encode(data: RESPCommand, out: inout ByteBuffer) throws {
        Self.encode(data, into: &out)
    }

    /// Appends `command` to `buffer` as a RESP array of bulk strings.
    public static func encode(_ command: RESPCommand, into buffer: inout ByteBuffer) {
        var size = 16
        for argument in command.arguments {
            size += argument.byteCount + 16
        }
        buffer.reserveCapacity(minimumWritableBytes: size)
        Self.writeHeader(UInt8(ascii: "*"), command.arguments.count, into: &buffer)
        for argument in command.arguments {
            Self.writeHeader(UInt8(ascii: "$"), argument.byteCount, into: &buffer)
            switch argument {
            case .string(let text): buffer.writeString(text)
            case .bytes(let bytes): buffer.writeImmutableBuffer(bytes)
            }
            buffer.writeStaticString("\r\n")
        }
    }

    /// Writes `type`, the decimal `count` and CRLF.
    private static func writeHeader(_ type: UInt8, _ count: Int, into buffer: inout ByteBuffer) {
        buffer.writeInteger(type)
        buffer.writeString(String(count))
        buffer.writeStaticString("\r\n")
    }
}
