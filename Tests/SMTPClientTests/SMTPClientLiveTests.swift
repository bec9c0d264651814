import ParleyTestSupport
import Foundation
import Logging
import NIOCore
import NIOPosix
import Testing

@testable import SMTPClient

/// `SMTPClient` against a real SMTP server (aiosmtpd, started by ``SMTPTestServer``).
@Suite("SMTPClient against aiosmtpd", .enabled(if: SMTPTestServer.isEnabled))
struct SMTPClientLiveTests {
    static let quietLogger: Logger = {
        var logger = Logger(label: "smtp.test")
        logger.logLevel = .critical
        return logger
    }()

    static func client(
        port: Int,
        security: SMTPClient.Configuration.Security = .none,
        tls: SMTPClient.TLS = SMTPClient.TLS(),
        credentials: SMTPClient.Credentials? = nil,
        allowsInsecureAuthentication: Bool = false,
        commandTimeout: Duration = .seconds(10)
    ) -> SMTPClient {
        SMTPClient(
            configuration: .init(
                host: "127.0.0.1",
                port: port,
                security: security,
                tls: tls,
                credentials: credentials,
                allowsInsecureAuthentication: allowsInsecureAuthentication,
                heloName: "client.parley.test",
                connectTimeout: .seconds(5),
                commandTimeout: commandTimeout,
                logger: Self.quietLogger
            )
        )
    }

    static let subject = "Votre code: 123456 — ünïcødé 🎉"
    static let body = """
        Bonjour Zoë,

        Votre code de vérification est 123456. Il expire dans 3 minutes. Ceci est une longue ligne qui dépasse largement soixante-seize caractères, pour vérifier le pliage.
        .une ligne qui commence par un point
        .
        ..
        fin = end\u{20}
        """ + "\n"

    static func email(to: [Email.Address] = ["alice@example.com"]) throws -> Email {
        try Email(from: Email.Address("noreply@parley.test", displayName: "Parley"), to: to, subject: Self.subject, body: Self.body)
    }

    static func trustTestCertificate(serverName: String? = nil) async throws -> SMTPClient.TLS {
        SMTPClient.TLS(trustRoots: .pemFile(try await SMTPTestServer.certificatePath()), serverName: serverName)
    }

    @Test("plain send: the received message parses back to the same subject and body")
    func plainSend() async throws {
        try await SMTPTestServer.run { server in
            let email = try Self.email(to: ["alice@example.com", Email.Address("bob@example.com", displayName: "Bob")])
            try await Self.client(port: await server.port).send(email)
            let messages = try await server.messages()
            try #require(messages.count == 1)
            let message = messages[0]
            #expect(message.mailFrom == "noreply@parley.test")
            #expect(message.rcptTos == ["alice@example.com", "bob@example.com"])
            #expect(message.subject == Self.subject)
            #expect(message.body == Self.body)
            #expect(message.from == "Parley <noreply@parley.test>")
            #expect(message.defects.isEmpty)
            #expect(!message.tls)
            #expect(message.raw.contains("Message-ID: <\(email.messageID)>"))
        }
    }

    @Test("base64 body")
    func base64Send() async throws {
        try await SMTPTestServer.run { server in
            let email = try Email(from: "noreply@parley.test", to: ["alice@example.com"], subject: "s", body: Self.body, transferEncoding: .base64)
            try await Self.client(port: await server.port).send(email)
            #expect(try await server.messages().map(\.body) == [Self.body])
        }
    }

    @Test("HELO when the server refuses EHLO")
    func heloFallback() async throws {
        try await SMTPTestServer.run(.init(refuseEHLO: true)) { server in
            try await Self.client(port: await server.port).send(try Self.email())
            #expect(try await server.messages().count == 1)
        }
    }

    @Test("STARTTLS with the test certificate as the trust root")
    func startTLS() async throws {
        try await SMTPTestServer.run(.init(startTLS: true)) { server in
            let tls = try await Self.trustTestCertificate(serverName: "localhost")
            try await Self.client(port: await server.port, security: .startTLS(required: true), tls: tls).send(try Self.email())
            let messages = try await server.messages()
            #expect(messages.count == 1)
            #expect(messages.first?.tls == true)
            #expect(messages.first?.subject == Self.subject)
        }
    }

    @Test(
        "STARTTLS fails when the certificate is not trusted or names another host",
        arguments: ["untrusted", "another host name", "an address the certificate does not name"]
    )
    func startTLSUntrusted(problem: String) async throws {
        let tls: SMTPClient.TLS
        switch problem {
        case "untrusted": tls = SMTPClient.TLS(trustRoots: .system, serverName: "localhost")
        case "another host name": tls = try await Self.trustTestCertificate(serverName: "mail.example.com")
        default: tls = try await Self.trustTestCertificate(serverName: nil)  // 127.0.0.1
        }
        try await SMTPTestServer.run(.init(startTLS: true)) { server in
            let error = try await #require(throws: SMTPError.self) {
                try await Self.client(port: await server.port, security: .startTLS(required: true), tls: tls).send(try Self.email())
            }
            #expect(error.kind == .tlsFailed)
            #expect(error.stage == .startTLS)
            #expect(error.description.hasPrefix("the TLS handshake after STARTTLS failed: the server's certificate"))
            #expect(try await server.messages().isEmpty)
        }
    }

    @Test("verification can be turned off explicitly, for tests")
    func startTLSWithoutVerification() async throws {
        try await SMTPTestServer.run(.init(startTLS: true)) { server in
            let tls = SMTPClient.TLS(certificateVerification: .disabledInsecure)
            try await Self.client(port: await server.port, security: .startTLS(required: true), tls: tls).send(try Self.email())
            #expect(try await server.messages().count == 1)
        }
    }

    @Test("a required STARTTLS the server does not offer")
    func startTLSNotOffered() async throws {
        try await SMTPTestServer.run { server in
            let error = try await #require(throws: SMTPError.self) {
                try await Self.client(port: await server.port, security: .startTLS(required: true)).send(try Self.email())
            }
            #expect(error.kind == .tlsFailed)
            #expect(error.description == "the server does not offer STARTTLS")
        }
    }

    @Test("implicit TLS")
    func implicitTLS() async throws {
        try await SMTPTestServer.run(.init(implicitTLS: true)) { server in
            let tls = try await Self.trustTestCertificate(serverName: "localhost")
            try await Self.client(port: await server.port, security: .tls, tls: tls).send(try Self.email())
            #expect(try await server.messages().first?.tls == true)
        }
    }

    @Test("AUTH with the right password", arguments: ["PLAIN", "LOGIN"])
    func authenticate(mechanism: String) async throws {
        let options = SMTPTestServer.Options(startTLS: true, authUser: "mailer", authMechanisms: [mechanism])
        try await SMTPTestServer.run(options) { server in
            let credentials = SMTPClient.Credentials(username: "mailer", password: options.password)
            let client = Self.client(
                port: await server.port, security: .startTLS(required: true),
                tls: try await Self.trustTestCertificate(serverName: "localhost"),
                credentials: credentials
            )
            try await client.send(try Self.email())
            let messages = try await server.messages()
            #expect(messages.count == 1)
            #expect(messages.first?.authenticated == true)
        }
    }

    @Test("AUTH with a wrong password: a clear error", arguments: ["PLAIN", "LOGIN"])
    func authenticateWrongPassword(mechanism: String) async throws {
        let options = SMTPTestServer.Options(startTLS: true, authUser: "mailer", authMechanisms: [mechanism])
        try await SMTPTestServer.run(options) { server in
            let credentials = SMTPClient.Credentials(username: "mailer", password: "wrong password")
            let client = Self.client(
                port: await server.port, security: .startTLS(required: true),
                tls: try await Self.trustTestCertificate(serverName: "localhost"),
                credentials: credentials
            )
            let error = try await #require(throws: SMTPError.self) { try await client.send(try Self.email()) }
            #expect(error.kind == .authenticationFailed)
            #expect(error.replyCode == 535)
            #expect(error.description.hasPrefix("the server refused the credentials (AUTH \(mechanism)): 535"))
            #expect(!error.description.contains("wrong password"))
            #expect(try await server.messages().isEmpty)
        }
    }

    @Test("credentials are not sent over plain text unless explicitly allowed")
    func insecureAuthentication() async throws {
        let options = SMTPTestServer.Options(authUser: "mailer", authWithoutTLS: true)
        try await SMTPTestServer.run(options) { server in
            let credentials = SMTPClient.Credentials(username: "mailer", password: options.password)
            let error = try await #require(throws: SMTPError.self) {
                try await Self.client(port: await server.port, credentials: credentials).send(try Self.email())
            }
            #expect(error.kind == .authenticationFailed)
            #expect(error.description.contains("unencrypted"))
            #expect(try await server.messages().isEmpty)

            let allowed = Self.client(port: await server.port, credentials: credentials, allowsInsecureAuthentication: true)
            try await allowed.send(try Self.email())
            #expect(try await server.messages().map(\.authenticated) == [true])
        }
    }

    @Test("a recipient the server refuses: a clear error naming it, and nothing delivered")
    func refusedRecipient() async throws {
        try await SMTPTestServer.run(.init(rejectedRecipients: ["nobody@example.com"])) { server in
            let error = try await #require(throws: SMTPError.self) {
                try await Self.client(port: await server.port).send(try Self.email(to: ["alice@example.com", "nobody@example.com"]))
            }
            #expect(error.kind == .rejected)
            #expect(error.stage == .recipient("nobody@example.com"))
            #expect(error.replyCode == 550)
            #expect(error.description == "the server refused RCPT TO <nobody@example.com>: 550 5.1.1 no such user")
            #expect(try await server.messages().isEmpty)
        }
    }

    @Test("a server that never answers: a timeout")
    func silentServer() async throws {
        let group = MultiThreadedEventLoopGroup.singleton
        let listener = try await ServerBootstrap(group: group)
            .childChannelInitializer { channel in channel.eventLoop.makeSucceededVoidFuture() }
            .bind(host: "127.0.0.1", port: 0)
            .get()
        defer { listener.close(promise: nil) }
        let port = try #require(listener.localAddress?.port)
        let start = ContinuousClock.now
        let error = try await #require(throws: SMTPError.self) {
            try await Self.client(port: port, commandTimeout: .milliseconds(300)).send(try Self.email())
        }
        #expect(error.kind == .timeout)
        #expect(error.stage == .greeting)
        #expect(error.description == "timed out after 0.3 seconds waiting for the greeting")
        #expect(ContinuousClock.now - start < .seconds(5))
    }

    @Test("connection refused: a clear error")
    func connectionRefused() async throws {
        // A port that was just free: bind, note it, close.
        let listener = try await ServerBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .bind(host: "127.0.0.1", port: 0).get()
        let port = try #require(listener.localAddress?.port)
        try await listener.close()
        let error = try await #require(throws: SMTPError.self) {
            try await Self.client(port: port).send(try Self.email())
        }
        #expect(error.kind == .connectionFailed)
        #expect(error.stage == .connect)
        #expect(error.description == "cannot connect to 127.0.0.1:\(port): connection refused")
        #expect(error.isTransient)
    }

    @Test("an unreadable trust root file: a TLS error before connecting")
    func missingTrustRoots() async throws {
        let tls = SMTPClient.TLS(trustRoots: .pemFile("/nonexistent/ca.pem"))
        let error = try await #require(throws: SMTPError.self) {
            try await Self.client(port: 1, security: .startTLS(required: true), tls: tls).send(try Self.email())
        }
        #expect(error.kind == .tlsFailed)
        #expect(error.stage == .connect)
    }
}
