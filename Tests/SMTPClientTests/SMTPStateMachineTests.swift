import ParleyTestSupport
import Foundation
import Testing

@testable import SMTPClient

@Suite("SMTPStateMachine")
struct SMTPStateMachineTests {
    typealias Security = SMTPClient.Configuration.Security

    static func machine(
        security: Security = .none,
        credentials: SMTPClient.Credentials? = nil,
        allowsInsecureAuthentication: Bool = false,
        recipients: [String] = ["alice@example.com"]
    ) -> SMTPStateMachine {
        SMTPStateMachine(
            settings: .init(
                security: security,
                credentials: credentials,
                allowsInsecureAuthentication: allowsInsecureAuthentication,
                heloName: "client.test",
                sender: "noreply@parley.test",
                recipients: recipients
            )
        )
    }

    static let credentials = SMTPClient.Credentials(username: "mailer", password: "s3cret")
    static let ehloWithEverything = SMTPReply(code: 250, lines: ["smtp.test", "STARTTLS", "AUTH PLAIN LOGIN", "8BITMIME"])
    static let ehloAfterTLS = SMTPReply(code: 250, lines: ["smtp.test", "AUTH LOGIN PLAIN"])

    @Test("STARTTLS, AUTH PLAIN, two recipients, delivery and QUIT")
    func happyPath() {
        var machine = Self.machine(security: .startTLS(required: true), credentials: Self.credentials, recipients: ["a@x.y", "b@x.y"])
        #expect(machine.replyReceived(SMTPReply(code: 220, "smtp.test ESMTP")) == .send(.ehlo("client.test")))
        #expect(machine.replyReceived(Self.ehloWithEverything) == .send(.startTLS))
        #expect(machine.replyReceived(SMTPReply(code: 220, "go ahead")) == .startTLS(then: .ehlo("client.test")))
        #expect(machine.isEncrypted)
        let plain = Data("\0mailer\0s3cret".utf8).base64EncodedString()
        #expect(machine.replyReceived(Self.ehloAfterTLS) == .send(.authPlain(initialResponse: plain)))
        #expect(machine.replyReceived(SMTPReply(code: 235, "2.7.0 ok")) == .send(.mailFrom("noreply@parley.test")))
        #expect(machine.replyReceived(SMTPReply(code: 250, "ok")) == .send(.rcptTo("a@x.y")))
        #expect(machine.replyReceived(SMTPReply(code: 250, "ok")) == .send(.rcptTo("b@x.y")))
        #expect(machine.replyReceived(SMTPReply(code: 251, "will forward")) == .send(.data))
        #expect(machine.replyReceived(SMTPReply(code: 354, "go")) == .sendMessage)
        #expect(machine.replyReceived(SMTPReply(code: 250, "queued")) == .delivered)
        #expect(machine.connectionClosed() == nil)
    }

    @Test("AUTH LOGIN when PLAIN is not offered")
    func authLogin() {
        var machine = Self.machine(security: .tls, credentials: Self.credentials)
        _ = machine.replyReceived(SMTPReply(code: 220, "hi"))
        #expect(machine.replyReceived(SMTPReply(code: 250, lines: ["smtp.test", "AUTH=LOGIN"])) == .send(.authLogin))
        #expect(machine.replyReceived(SMTPReply(code: 334, "VXNlcm5hbWU6")) == .send(.authResponse("bWFpbGVy")))
        #expect(machine.replyReceived(SMTPReply(code: 334, "UGFzc3dvcmQ6")) == .send(.authResponse("czNjcmV0")))
        #expect(machine.replyReceived(SMTPReply(code: 235, "ok")) == .send(.mailFrom("noreply@parley.test")))
    }

    @Test("HELO when the server does not know EHLO")
    func heloFallback() {
        var machine = Self.machine()
        _ = machine.replyReceived(SMTPReply(code: 220, "hi"))
        #expect(machine.replyReceived(SMTPReply(code: 502, "5.5.2 unknown command")) == .send(.helo("client.test")))
        #expect(machine.replyReceived(SMTPReply(code: 250, "hello")) == .send(.mailFrom("noreply@parley.test")))
    }

    @Test("a required STARTTLS the server does not offer fails the send")
    func startTLSMissing() throws {
        var machine = Self.machine(security: .startTLS(required: true))
        _ = machine.replyReceived(SMTPReply(code: 220, "hi"))
        let error = try Self.failure(machine.replyReceived(SMTPReply(code: 250, lines: ["smtp.test", "8BITMIME"])))
        #expect(error.kind == .tlsFailed)
        #expect(error.stage == .startTLS)
        #expect(error.description == "the server does not offer STARTTLS")
    }

    @Test("an optional STARTTLS the server does not offer goes on in plain text, without credentials")
    func startTLSOptional() throws {
        var machine = Self.machine(security: .startTLS(required: false))
        _ = machine.replyReceived(SMTPReply(code: 220, "hi"))
        #expect(machine.replyReceived(SMTPReply(code: 250, "smtp.test")) == .send(.mailFrom("noreply@parley.test")))

        var withCredentials = Self.machine(security: .startTLS(required: false), credentials: Self.credentials)
        _ = withCredentials.replyReceived(SMTPReply(code: 220, "hi"))
        _ = withCredentials.replyReceived(SMTPReply(code: 250, lines: ["smtp.test", "STARTTLS"]))
        let error = try Self.failure(withCredentials.replyReceived(SMTPReply(code: 454, "4.7.0 TLS not available")))
        #expect(error.kind == .authenticationFailed)
        #expect(error.description.contains("unencrypted"))
    }

    @Test("credentials are not sent in plain text unless allowed")
    func insecureAuthentication() throws {
        var machine = Self.machine(credentials: Self.credentials)
        _ = machine.replyReceived(SMTPReply(code: 220, "hi"))
        let error = try Self.failure(machine.replyReceived(SMTPReply(code: 250, lines: ["smtp.test", "AUTH PLAIN"])))
        #expect(error.kind == .authenticationFailed)
        #expect(error.stage == .authentication)

        var allowed = Self.machine(credentials: Self.credentials, allowsInsecureAuthentication: true)
        _ = allowed.replyReceived(SMTPReply(code: 220, "hi"))
        guard case .send(.authPlain) = allowed.replyReceived(SMTPReply(code: 250, lines: ["smtp.test", "AUTH PLAIN"])) else {
            Issue.record("expected AUTH PLAIN")
            return
        }
    }

    @Test("no supported mechanism, and a refused password")
    func authenticationFailures() throws {
        var machine = Self.machine(security: .tls, credentials: Self.credentials)
        _ = machine.replyReceived(SMTPReply(code: 220, "hi"))
        let unsupported = try Self.failure(machine.replyReceived(SMTPReply(code: 250, lines: ["smtp.test", "AUTH CRAM-MD5 XOAUTH2"])))
        #expect(unsupported.kind == .authenticationFailed)
        #expect(unsupported.description.contains("CRAM-MD5 XOAUTH2"))

        var refused = Self.machine(security: .tls, credentials: Self.credentials)
        _ = refused.replyReceived(SMTPReply(code: 220, "hi"))
        _ = refused.replyReceived(SMTPReply(code: 250, lines: ["smtp.test", "AUTH PLAIN"]))
        let error = try Self.failure(refused.replyReceived(SMTPReply(code: 535, "5.7.8 Authentication credentials invalid")))
        #expect(error.kind == .authenticationFailed)
        #expect(error.replyCode == 535)
        #expect(error.description == "the server refused the credentials (AUTH PLAIN): 535 5.7.8 Authentication credentials invalid")
        #expect(!error.description.contains("s3cret"))
    }

    @Test("a refused recipient names the recipient; nothing is sent")
    func refusedRecipient() throws {
        var machine = Self.machine(recipients: ["ok@x.y", "x@y"])
        _ = machine.replyReceived(SMTPReply(code: 220, "hi"))
        _ = machine.replyReceived(SMTPReply(code: 250, "smtp.test"))
        _ = machine.replyReceived(SMTPReply(code: 250, "ok"))
        _ = machine.replyReceived(SMTPReply(code: 250, "ok"))
        let action = machine.replyReceived(SMTPReply(code: 550, "5.1.1 no such user"))
        guard case .fail(let error, sendQuit: true) = action else {
            Issue.record("expected a failure with QUIT, got \(action)")
            return
        }
        #expect(error.kind == .rejected)
        #expect(error.stage == .recipient("x@y"))
        #expect(error.description == "the server refused RCPT TO <x@y>: 550 5.1.1 no such user")
        #expect(!error.isTransient)
        #expect(machine.replyReceived(SMTPReply(code: 250, "late")) == .none)
    }

    @Test("timeouts, lost connections and replies after delivery")
    func connectionEvents() throws {
        var machine = Self.machine()
        let timeout = try Self.failure(machine.timedOut(after: .milliseconds(300)))
        #expect(timeout.kind == .timeout)
        #expect(timeout.stage == .greeting)
        #expect(timeout.description == "timed out after 0.3 seconds waiting for the greeting")
        #expect(timeout.isTransient)

        var closing = Self.machine()
        _ = closing.replyReceived(SMTPReply(code: 220, "hi"))
        let closedError = closing.connectionClosed()
        let closed = try #require(closedError)
        #expect(closed.kind == .connectionFailed)
        #expect(closed.description == "the server closed the connection before sending the reply to EHLO")

        var refusing = Self.machine()
        let greeting = try Self.failure(refusing.replyReceived(SMTPReply(code: 554, "5.3.2 go away")))
        #expect(greeting.description == "the server refused the connection: 554 5.3.2 go away")
    }

    @Test("commands are logged without credentials")
    func redaction() {
        #expect(SMTPCommand.authPlain(initialResponse: "AG1haWxlcgBzM2NyZXQ=").description == "AUTH PLAIN <redacted>")
        #expect(SMTPCommand.authResponse("czNjcmV0").description == "<redacted>")
        let configuration = SMTPClient.Configuration(host: "smtp.test", credentials: Self.credentials)
        #expect(!"\(configuration)".contains("s3cret"))
        #expect(!String(reflecting: configuration).contains("s3cret"))
        var dumped = ""
        dump(configuration, to: &dumped)
        #expect(!dumped.contains("s3cret"))
        #expect("\(Self.credentials)".contains("mailer"))
    }

    static func failure(_ action: SMTPStateMachine.Action) throws -> SMTPError {
        guard case .fail(let error, _) = action else {
            throw SMTPTestServer.Failure(description: "expected a failure, got \(action)")
        }
        return error
    }
}
