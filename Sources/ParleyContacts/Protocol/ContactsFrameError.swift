/// A byte stream that breaks the contacts protocol; the connection that sent it is closed.
public enum ContactsFrameError: Error, Hashable, Sendable, CustomStringConvertible {
    /// The greeting's first byte is neither 1 (server) nor 2 (client).
    case unknownGreeting(UInt8)
    /// A frame's type byte is not one the connection's role knows; its length cannot be known.
    case unknownType(UInt8)
    /// A frame's field is invalid; `frame` names the frame (such as "client Update").
    case invalidField(frame: String, ContactsFieldError)
    /// A frame was started and not finished within the read timeout, in milliseconds.
    case readTimeout(milliseconds: Int64)
    /// A peer sent nothing at all for this long, in milliseconds: it is taken as down.
    case peerSilent(milliseconds: Int64)
    /// The connection ended in the middle of a frame; `bufferedBytes` bytes were dropped.
    case truncated(bufferedBytes: Int)
    /// A ListAll reply announced more contacts than the reader accepts.
    case tooManyContacts(announced: UInt32, limit: Int)
    /// A frame that the connection's state does not allow, such as a second greeting.
    case unexpected(String)

    /// A message for logs and people.
    public var description: String {
        switch self {
        case .unknownGreeting(let byte):
            "unknown greeting kind \(byte) (expected 1 for a server or 2 for a client)"
        case .unknownType(let byte):
            "unknown frame type \(byte)"
        case .invalidField(let frame, let error):
            "invalid \(frame): \(error)"
        case .readTimeout(let milliseconds):
            "a frame stalled for more than \(milliseconds) ms"
        case .peerSilent(let milliseconds):
            "the peer sent nothing for \(milliseconds) ms"
        case .truncated(let bufferedBytes):
            "the connection ended in the middle of a frame (\(bufferedBytes) bytes dropped)"
        case .tooManyContacts(let announced, let limit):
            "a ListAll reply announced \(announced) contacts, more than the limit of \(limit)"
        case .unexpected(let what):
            "unexpected \(what)"
        }
    }
}
