/// Why an ``Email`` could not be created: a field that would corrupt the message or let text
/// inject headers.
public struct EmailError: Error, Hashable, Sendable, CustomStringConvertible {
    /// The header the value was for, such as `Subject` or `To`.
    public var field: String
    /// What is wrong with it.
    public var reason: String

    /// Creates an error.
    public init(field: String, reason: String) {
        self.field = field
        self.reason = reason
    }

    /// Such as `invalid Subject: it contains a line break (CR or LF)`.
    public var description: String {
        "invalid \(self.field): \(self.reason)"
    }
}
