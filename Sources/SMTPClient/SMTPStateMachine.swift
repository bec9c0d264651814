#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

/// The client's side of one SMTP conversation, without I/O: fed the server's replies and the
/// connection's events, it says what to do next.
///
/// Owned by ``SMTPClientHandler`` on the channel's event loop. The conversation is greeting, EHLO
/// (HELO when the server does not know EHLO), STARTTLS and EHLO again when configured, AUTH when
/// credentials are configured, MAIL FROM, one RCPT TO per recipient, DATA, the message, QUIT. Any
/// refusal ends it: the mail is sent to every recipient or to none.
struct SMTPStateMachine {
    /// What the conversation needs to know.
    struct Settings: Sendable {
        var security: SMTPClient.Configuration.Security
        var credentials: SMTPClient.Credentials?
        var allowsInsecureAuthentication: Bool
        var heloName: String
        var sender: String
        var recipients: [String]
    }

    /// What the handler does next.
    enum Action: Equatable {
        /// Write the command and wait for its reply.
        case send(SMTPCommand)
        /// Write the dot-stuffed message with its final dot and wait for the reply.
        case sendMessage
        /// Put TLS in front of the connection, then write the command (it goes out once the
        /// handshake is done) and wait for its reply.
        case startTLS(then: SMTPCommand)
        /// The message was accepted: report success, then write QUIT and wait for its reply.
        case delivered
        /// Report the error, write QUIT if the connection is still usable, and close.
        case fail(SMTPError, sendQuit: Bool)
        /// Close the connection (QUIT was answered).
        case close
        /// Nothing to do.
        case none
    }

    private enum AuthLoginStep: Hashable {
        case username
        case password
        case result
    }

    private enum State: Hashable {
        case greeting
        case ehlo(afterTLS: Bool)
        case helo
        case startTLS
        case authPlain
        case authLogin(AuthLoginStep)
        case mailFrom
        case recipient(Int)
        case data
        case message
        case quit
        case finished
    }

    let settings: Settings
    private var state = State.greeting
    private var capabilities = SMTPCapabilities()
    /// Whether the connection is encrypted (implicit TLS, or after STARTTLS).
    private(set) var isEncrypted: Bool

    init(settings: Settings) {
        self.settings = settings
        self.isEncrypted = settings.security == .tls
    }

    /// Whether the conversation is over (delivered and QUIT sent, or failed).
    var isFinished: Bool {
        self.state == .finished || self.state == .quit
    }

    /// Where the conversation is, for errors.
    var stage: SMTPError.Stage {
        switch self.state {
        case .greeting: return .greeting
        case .ehlo, .helo: return .hello
        case .startTLS: return .startTLS
        case .authPlain, .authLogin: return .authentication
        case .mailFrom: return .mailFrom(self.settings.sender)
        case .recipient(let index): return .recipient(self.settings.recipients[index])
        case .data: return .data
        case .message, .quit, .finished: return .message
        }
    }

    /// What the client is waiting for, for errors: `the reply to RCPT TO <x@y>`.
    private var awaited: String {
        switch self.state {
        case .greeting: return "the greeting"
        case .ehlo: return "the reply to EHLO"
        case .helo: return "the reply to HELO"
        case .authPlain: return "the reply to AUTH PLAIN"
        case .authLogin: return "the reply to AUTH LOGIN"
        case .message: return "the reply to the message"
        default: return "the reply to \(self.stage)"
        }
    }

    // MARK: - Events

    /// The server sent a reply.
    mutating func replyReceived(_ reply: SMTPReply) -> Action {
        switch self.state {
        case .greeting:
            guard reply.code == 220 else {
                return self.fail(.rejected, reply: reply, "the server refused the connection", sendQuit: true)
            }
            self.state = .ehlo(afterTLS: false)
            return .send(.ehlo(self.settings.heloName))

        case .ehlo(let afterTLS):
            if reply.isPositiveCompletion {
                self.capabilities = SMTPCapabilities(ehloReply: reply)
                return afterTLS ? self.afterSecuring() : self.afterHello()
            }
            guard reply.isPermanentFailure, !afterTLS else {
                return self.fail(.rejected, reply: reply, "the server refused EHLO", sendQuit: true)
            }
            self.state = .helo
            return .send(.helo(self.settings.heloName))

        case .helo:
            guard reply.isPositiveCompletion else {
                return self.fail(.rejected, reply: reply, "the server refused HELO", sendQuit: true)
            }
            self.capabilities = SMTPCapabilities()
            return self.afterHello()

        case .startTLS:
            guard reply.code == 220 else {
                if case .startTLS(required: false) = self.settings.security {
                    return self.afterSecuring()
                }
                return self.fail(.tlsFailed, reply: reply, "the server refused STARTTLS", sendQuit: true)
            }
            self.isEncrypted = true
            self.capabilities = SMTPCapabilities()
            self.state = .ehlo(afterTLS: true)
            return .startTLS(then: .ehlo(self.settings.heloName))

        case .authPlain:
            guard reply.code == 235 else {
                return self.failAuthentication(reply, mechanism: "PLAIN")
            }
            return self.startMail()

        case .authLogin(let step):
            return self.authLogin(step, reply: reply)

        case .mailFrom:
            guard reply.isPositiveCompletion else {
                return self.fail(.rejected, reply: reply, "the server refused \(self.stage)", sendQuit: true)
            }
            self.state = .recipient(0)
            return .send(.rcptTo(self.settings.recipients[0]))

        case .recipient(let index):
            guard reply.isPositiveCompletion else {
                return self.fail(.rejected, reply: reply, "the server refused \(self.stage)", sendQuit: true)
            }
            if index + 1 < self.settings.recipients.count {
                self.state = .recipient(index + 1)
                return .send(.rcptTo(self.settings.recipients[index + 1]))
            }
            self.state = .data
            return .send(.data)

        case .data:
            guard reply.code == 354 else {
                return self.fail(.rejected, reply: reply, "the server refused DATA", sendQuit: true)
            }
            self.state = .message
            return .sendMessage

        case .message:
            guard reply.isPositiveCompletion else {
                return self.fail(.rejected, reply: reply, "the server refused the message", sendQuit: true)
            }
            self.state = .quit
            return .delivered

        case .quit:
            self.state = .finished
            return .close

        case .finished:
            return .none
        }
    }

    /// No reply came within the command timeout.
    mutating func timedOut(after timeout: Duration) -> Action {
        if self.state == .quit {
            self.state = .finished
            return .close
        }
        guard self.state != .finished else {
            return .none
        }
        let detail = "timed out after \(timeout) waiting for \(self.awaited)"
        return self.fail(.timeout, reply: nil, detail, sendQuit: false)
    }

    /// The connection cannot go on: a TLS failure, a malformed reply, an I/O error. `reason` says
    /// why, such as `connection reset by peer`.
    mutating func errorCaught(_ kind: SMTPError.Kind, reason: String) -> Action {
        guard !self.isFinished else {
            // After the message was accepted, a failure (such as an unclean TLS shutdown) does not matter.
            self.state = .finished
            return .close
        }
        let detail: String
        switch kind {
        case .tlsFailed where self.state == .ehlo(afterTLS: true):
            // EHLO waits in NIOSSL until the handshake is done, so this is the handshake failing.
            let error = SMTPError(kind: kind, stage: .startTLS, detail: "the TLS handshake after STARTTLS failed: \(reason)")
            self.state = .finished
            return .fail(error, sendQuit: false)
        case .tlsFailed:
            detail = "TLS failed: \(reason)"
        case .invalidReply:
            detail = "the server sent an invalid reply: \(reason)"
        default:
            detail = "the connection failed: \(reason)"
        }
        return self.fail(kind, reply: nil, "\(detail), while waiting for \(self.awaited)", sendQuit: false)
    }

    /// The connection was closed. Returns the error to report, or `nil` if the conversation was over.
    mutating func connectionClosed() -> SMTPError? {
        guard !self.isFinished else {
            self.state = .finished
            return nil
        }
        let stage = self.stage
        let detail = "the server closed the connection before sending \(self.awaited)"
        self.state = .finished
        return SMTPError(kind: .connectionFailed, stage: stage, detail: detail)
    }

    // MARK: - Steps

    /// After EHLO or HELO on the first, unencrypted (or implicit TLS) connection.
    private mutating func afterHello() -> Action {
        guard case .startTLS(let required) = self.settings.security, !self.isEncrypted else {
            return self.afterSecuring()
        }
        if self.capabilities.supportsStartTLS {
            self.state = .startTLS
            return .send(.startTLS)
        }
        guard !required else {
            self.state = .startTLS
            return self.fail(.tlsFailed, reply: nil, "the server does not offer STARTTLS", sendQuit: true)
        }
        return self.afterSecuring()
    }

    /// Once the connection is as secure as it will be: authenticate if configured, then send.
    private mutating func afterSecuring() -> Action {
        guard let credentials = self.settings.credentials else {
            return self.startMail()
        }
        self.state = .authPlain
        guard self.isEncrypted || self.settings.allowsInsecureAuthentication else {
            return self.fail(
                .authenticationFailed, reply: nil,
                "refusing to send credentials over an unencrypted connection (use STARTTLS or TLS, or allow insecure authentication explicitly)",
                sendQuit: true
            )
        }
        let offered = self.capabilities.authenticationMechanisms
        if offered.contains("PLAIN") {
            let response = Data("\0\(credentials.username)\0\(credentials.password)".utf8).base64EncodedString()
            return .send(.authPlain(initialResponse: response))
        }
        if offered.contains("LOGIN") {
            self.state = .authLogin(.username)
            return .send(.authLogin)
        }
        let detail =
            offered.isEmpty
            ? "the server does not offer authentication (no AUTH in its reply to EHLO)"
            : "the server offers no supported authentication mechanism (it offers \(offered.joined(separator: " ")); this client speaks PLAIN and LOGIN)"
        return self.fail(.authenticationFailed, reply: nil, detail, sendQuit: true)
    }

    private mutating func authLogin(_ step: AuthLoginStep, reply: SMTPReply) -> Action {
        guard let credentials = self.settings.credentials else {
            preconditionFailure("AUTH LOGIN without credentials")
        }
        switch step {
        case .username where reply.code == 334:
            self.state = .authLogin(.password)
            return .send(.authResponse(Data(credentials.username.utf8).base64EncodedString()))
        case .password where reply.code == 334:
            self.state = .authLogin(.result)
            return .send(.authResponse(Data(credentials.password.utf8).base64EncodedString()))
        case .password where reply.code == 235, .result where reply.code == 235:
            return self.startMail()
        default:
            return self.failAuthentication(reply, mechanism: "LOGIN")
        }
    }

    private mutating func startMail() -> Action {
        self.state = .mailFrom
        return .send(.mailFrom(self.settings.sender))
    }

    private mutating func failAuthentication(_ reply: SMTPReply, mechanism: String) -> Action {
        self.fail(.authenticationFailed, reply: reply, "the server refused the credentials (AUTH \(mechanism))", sendQuit: true)
    }

    private mutating func fail(_ kind: SMTPError.Kind, reply: SMTPReply?, _ detail: String, sendQuit: Bool) -> Action {
        let error = SMTPError(kind: kind, stage: self.stage, reply: reply, detail: detail)
        self.state = .finished
        return .fail(error, sendQuit: sendQuit)
    }
}
