import Foundation
import Logging
import ParleyCore
import ParleyTestSupport
import SMTPClient
import Testing

@testable import ParleyVerifier

/// ``SMTPMailer`` against a real SMTP server (aiosmtpd, started by ``SMTPTestServer``).
@Suite("SMTPMailer against aiosmtpd", .enabled(if: SMTPTestServer.isEnabled))
struct SMTPMailerTests {
    static func codes(port: Int, store: MemoryCodeStore = MemoryCodeStore()) -> VerificationCodes {
        let client = SMTPClient(
            configuration: .init(
                host: "127.0.0.1", port: port, security: .none, heloName: "verifier.parley.test",
                connectTimeout: .seconds(5), commandTimeout: .seconds(10), logger: VerifierTesting.quietLogger
            )
        )
        return VerificationCodes(
            store: store, mailer: SMTPMailer(client: client),
            configuration: .init(sender: Email.Address("no-reply@parley.test", displayName: "Parley Ünïcode")),
            logger: VerifierTesting.quietLogger
        )
    }

    @Test("The code arrives: decoded subject, code and validity in the body; it checks")
    func delivered() async throws {
        try await SMTPTestServer.run { server in
            let codes = Self.codes(port: await server.port)
            _ = try await codes.issue(email: " Erin@Example.ORG ", purpose: .reset, clientAddress: "127.0.0.1")
            let messages = try await server.messages()
            #expect(messages.count == 1)
            let message = try #require(messages.first)
            #expect(message.rcptTos == ["Erin@example.org"])
            #expect(message.mailFrom == "no-reply@parley.test")
            #expect(message.defects.isEmpty)
            let code = try #require(VerifierTesting.code(inSubject: message.subject))
            let body = try #require(message.body)
            #expect(body.contains("\n    \(code)\n"))
            #expect(body.contains("valid for 3 minutes"))
            #expect(message.from.contains("Parley Ünïcode"))
            try await codes.check(email: "erin@example.org", purpose: .reset, code: code)
        }
    }

    @Test("A recipient refused for good is invalid input, and nothing blocks")
    func refusedRecipient() async throws {
        try await SMTPTestServer.run(.init(rejectedRecipients: ["nobody@example.org"])) { server in
            let store = MemoryCodeStore()
            let codes = Self.codes(port: await server.port, store: store)
            let error = try await VerifierTesting.parleyError {
                _ = try await codes.issue(email: "nobody@example.org", purpose: .register, clientAddress: nil)
            }
            #expect(error == ParleyError(.invalidInput, "The mail server refused the address nobody@example.org; check it and try again."))
            #expect(await store.storedCount == 1)  // the hourly count only
            #expect(try await server.messages().isEmpty)
        }
    }

    @Test("A server that is down: try again, and the next request is not blocked")
    func serverDown() async throws {
        let port = try await SMTPTestServer.run { server in await server.port }  // now stopped
        let store = MemoryCodeStore()
        let codes = Self.codes(port: port, store: store)
        let error = try await VerifierTesting.parleyError {
            _ = try await codes.issue(email: "frank@example.org", purpose: .register, clientAddress: nil)
        }
        #expect(error == ParleyError(.unavailable, "The code could not be sent to frank@example.org just now; please try again in a moment."))
        let again = try await VerifierTesting.parleyError {
            _ = try await codes.issue(email: "frank@example.org", purpose: .register, clientAddress: nil)
        }
        #expect(again.code == .unavailable)
        #expect(again.message.contains("could not be sent"))  // not a cooldown
    }
}
