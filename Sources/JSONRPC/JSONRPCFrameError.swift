/// An error raised by ``JSONValueFrameDecoder`` when the byte stream cannot be split into JSON values.
///
/// Any of these errors means the peer is misbehaving (or the stream is corrupt): the connection that
/// raised it is closed.
public enum JSONRPCFrameError: Error, Hashable, Sendable, CustomStringConvertible {
    /// A single JSON value grew larger than the limit, in bytes. Raised as soon as the buffered part of
    /// the value exceeds the limit, without waiting for the value to end.
    case frameTooLarge(limit: Int)
    /// A byte that cannot start a top-level JSON object or array (and is not whitespace) was found
    /// between two values.
    case unexpectedByte(UInt8)
    /// The stream ended (end of file) in the middle of a value; `bufferedBytes` bytes were dropped.
    case truncatedFrame(bufferedBytes: Int)

    /// A human readable description of the error.
    public var description: String {
        switch self {
        case .frameTooLarge(let limit):
            return "JSON message larger than the limit of \(limit) bytes"
        case .unexpectedByte(let byte):
            let shown = (0x20..<0x7F).contains(byte) ? "'\(Character(UnicodeScalar(byte)))' " : ""
            return "unexpected byte \(shown)(0x\(String(byte, radix: 16))) between JSON messages; expected '{' or '['"
        case .truncatedFrame(let bufferedBytes):
            return "stream ended in the middle of a JSON message (\(bufferedBytes) bytes dropped)"
        }
    }
}
