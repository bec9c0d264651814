/// Why ``SMTPClient/send(_:)`` failed: what kind of failure, at which stage of the conversation, and
/// the server's reply when it sent one.
///
/// The description reads as a sentence for logs and operators, such as
/// `the server refused RCPT TO <x@y>: 550 5.1.1 no such user`. Credentials never appear in it.
public struct SMTPError: Error, Hashable, Sendable, CustomStringConvertible {
    /// What went wrong.
    public enum Kind: Hashable, Sendable {
        /// The server could not be reached (connection refused, unknown host) or closed the
        /// connection before the message was accepted.
        case connectionFailed
        /// No connection within the connect timeout, or no reply within the command timeout.
        case timeout
        /// TLS could not be set up: the handshake failed (for example an untrusted certificate or a
        /// wrong host name), the server does not offer or refused a required STARTTLS, or the trust
        /// roots could not be loaded.
        case tlsFailed
        /// The server refused the credentials, offers no mechanism this client speaks, or the
        /// client refused to send credentials over an unencrypted connection.
        case authenticationFailed
        /// The server refused a command of the mail transaction (``SMTPError/reply`` says why).
        case rejected
        /// The server sent something that is not a well-formed SMTP reply, or a reply out of turn.
        case invalidReply
        /// The configuration cannot be used (for example a HELO name with spaces); nothing was sent.
        case invalidConfiguration
    }

    /// Where in the conversation the failure happened.
    public enum Stage: Hashable, Sendable, CustomStringConvertible {
        /// Opening the TCP connection (and, for implicit TLS, the handshake).
        case connect
        /// Waiting for the server's 220 greeting.
        case greeting
        /// EHLO, or HELO when the server does not know EHLO.
        case hello
        /// STARTTLS and the TLS handshake that follows it.
        case startTLS
        /// AUTH.
        case authentication
        /// MAIL FROM with the given sender address.
        case mailFrom(String)
        /// RCPT TO with the given recipient address.
        case recipient(String)
        /// The DATA command.
        case data
        /// The message content, up to the server's reply to the final dot.
        case message

        /// The stage as the command it sends, such as `RCPT TO <x@y>`.
        public var description: String {
            switch self {
            case .connect: return "connect"
            case .greeting: return "greeting"
            case .hello: return "EHLO"
            case .startTLS: return "STARTTLS"
            case .authentication: return "AUTH"
            case .mailFrom(let address): return "MAIL FROM <\(address)>"
            case .recipient(let address): return "RCPT TO <\(address)>"
            case .data: return "DATA"
            case .message: return "the message"
            }
        }
    }

    /// What went wrong.
    public var kind: Kind
    /// Where in the conversation it went wrong.
    public var stage: Stage
    /// The server's reply, when the failure is a reply (a refusal).
    public var reply: SMTPReply?
    /// What happened, without the reply, such as `the server refused RCPT TO <x@y>`.
    public var detail: String

    /// Creates an error.
    public init(kind: Kind, stage: Stage, reply: SMTPReply? = nil, detail: String) {
        self.kind = kind
        self.stage = stage
        self.reply = reply
        self.detail = detail
    }

    /// The server's reply code, such as 550, when the failure is a reply.
    public var replyCode: Int? {
        self.reply?.code
    }

    /// Whether trying again later may succeed: a 4yz reply, a timeout or a lost connection.
    public var isTransient: Bool {
        if let reply = self.reply {
            return reply.isTransientFailure
        }
        return self.kind == .timeout || self.kind == .connectionFailed
    }

    /// The detail followed by the reply, such as `the server refused RCPT TO <x@y>: 550 5.1.1 no such user`.
    public var description: String {
        guard let reply = self.reply else {
            return self.detail
        }
        return "\(self.detail): \(reply)"
    }
}
