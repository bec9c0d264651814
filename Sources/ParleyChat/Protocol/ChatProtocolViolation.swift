/// An error raised by the chat codec on bad input: it says what to send back and whether the
/// connection must close afterwards.
public protocol ChatProtocolViolation: Error, Sendable {
    /// The `error` frame to send to the peer, or `nil` when nothing can be sent (the peer left).
    var reply: ChatError? { get }
    /// Whether the connection must be closed (after sending ``reply``).
    var closesConnection: Bool { get }
}
