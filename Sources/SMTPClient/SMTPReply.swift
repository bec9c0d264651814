/// One reply from an SMTP server: a three-digit code and one or more lines of text.
///
/// A multi-line reply (`250-first`, `250-second`, `250 last`) is one reply whose ``lines`` are the
/// text of each line without the code and its separator.
public struct SMTPReply: Hashable, Sendable, CustomStringConvertible {
    /// The reply code, such as 250 or 550.
    public var code: Int
    /// The text of each line, without the code and the separator (`-` or space).
    public var lines: [String]

    /// Creates a reply.
    public init(code: Int, lines: [String]) {
        self.code = code
        self.lines = lines
    }

    /// Creates a one-line reply.
    public init(code: Int, _ text: String) {
        self.init(code: code, lines: [text])
    }

    /// The text of all lines joined by a space, such as `5.1.1 no such user`.
    public var text: String {
        self.lines.filter { !$0.isEmpty }.joined(separator: " ")
    }

    /// A 2yz reply: the command succeeded.
    public var isPositiveCompletion: Bool { (200..<300).contains(self.code) }
    /// A 3yz reply: the server waits for more (DATA's 354, AUTH's 334).
    public var isPositiveIntermediate: Bool { (300..<400).contains(self.code) }
    /// A 4yz reply: a temporary failure, worth trying again later.
    public var isTransientFailure: Bool { (400..<500).contains(self.code) }
    /// A 5yz reply: a permanent failure.
    public var isPermanentFailure: Bool { (500..<600).contains(self.code) }

    /// The code and the text, such as `550 5.1.1 no such user`.
    public var description: String {
        let text = self.text
        return text.isEmpty ? "\(self.code)" : "\(self.code) \(text)"
    }
}
