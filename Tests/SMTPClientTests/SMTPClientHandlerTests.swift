import Logging
import NIOCore
import NIOEmbedded
import NIOSSL
import Testing

@testable import SMTPClient

/// The handler on an `EmbeddedChannel`: the exact bytes of a conversation, and the failures a real
/// server rarely produces.
@Suite("SMTPClientHandler")
struct SMTPClientHandlerTests {
    /// A channel running one conversation, and its outcome once known.
    final class Conversation {
        let channel = EmbeddedChannel()
        private(set) var outcome: Result<Void, any Error>?

        init(security: SMTPClient.Configuration.Security = .none, recipients: [String] = ["alice@example.com"]) throws {
            let promise = self.channel.eventLoop.makePromise(of: Void.self)
            let startTLS = security == .none ? nil : SMTPClientHandler.TLSSetup(
                context: try NIOSSLContext(configuration: .makeClientConfiguration()), serverName: "smtp.test"
            )
            let handler = SMTPClientHandler(
                settings: .init(
                    security: security, credentials: nil, allowsInsecureAuthentication: false, heloName: "client.test",
                    sender: "noreply@parley.test", recipients: recipients
                ),
                message: SMTPDataEncoder.encode("Subject: x\r\n\r\n.hi\r\n".utf8),
                startTLS: startTLS,
                commandTimeout: .seconds(30),
                result: promise,
                logger: Logger(label: "test")
            )
            promise.futureResult.assumeIsolated().whenComplete { self.outcome = $0 }
            try self.channel.pipeline.syncOperations.addHandler(handler)
            try self.channel.connect(to: SocketAddress(ipAddress: "127.0.0.1", port: 25)).wait()
        }

        /// Delivers `reply` from the server and returns what the client wrote in answer.
        func serverSays(_ reply: String) throws -> String {
            try self.channel.writeInbound(ByteBuffer(string: reply))
            var written = ""
            while let buffer = try self.channel.readOutbound(as: ByteBuffer.self) {
                written += String(buffer: buffer)
            }
            return written
        }

        var error: SMTPError? {
            guard case .failure(let error) = self.outcome else { return nil }
            return error as? SMTPError
        }
    }

    @Test("the exact bytes of a conversation, the message dot-stuffed, QUIT after success")
    func transcript() throws {
        let conversation = try Conversation(recipients: ["a@x.y", "b@x.y"])
        #expect(try conversation.serverSays("220 smtp.test ESMTP\r\n") == "EHLO client.test\r\n")
        #expect(try conversation.serverSays("250-smtp.test\r\n250 8BITMIME\r\n") == "MAIL FROM:<noreply@parley.test>\r\n")
        #expect(try conversation.serverSays("250 ok\r\n") == "RCPT TO:<a@x.y>\r\n")
        #expect(try conversation.serverSays("250 ok\r\n") == "RCPT TO:<b@x.y>\r\n")
        #expect(try conversation.serverSays("250 ok\r\n") == "DATA\r\n")
        #expect(try conversation.serverSays("354 go ahead\r\n") == "Subject: x\r\n\r\n..hi\r\n.\r\n")
        #expect(conversation.outcome == nil)
        #expect(try conversation.serverSays("250 2.0.0 queued\r\n") == "QUIT\r\n")
        #expect(conversation.outcome.map { (try? $0.get()) != nil } == true)
        _ = try conversation.serverSays("221 bye\r\n")
        #expect(!conversation.channel.isActive)
    }

    @Test("replies split across reads, and a multi-line reply in one read")
    func splitReplies() throws {
        let conversation = try Conversation()
        #expect(try conversation.serverSays("22") == "")
        #expect(try conversation.serverSays("0 hi\r") == "")
        #expect(try conversation.serverSays("\n") == "EHLO client.test\r\n")
        #expect(try conversation.serverSays("250-smtp.test\r\n250-SIZE 1000\r\n250 ok\r\n") == "MAIL FROM:<noreply@parley.test>\r\n")
    }

    @Test("plain-text bytes after the 220 to STARTTLS fail the send (command injection)")
    func startTLSInjection() throws {
        let conversation = try Conversation(security: .startTLS(required: true))
        _ = try conversation.serverSays("220 hi\r\n")
        #expect(try conversation.serverSays("250-smtp.test\r\n250 STARTTLS\r\n") == "STARTTLS\r\n")
        _ = try conversation.serverSays("220 go ahead\r\n250-smtp.test\r\n250 AUTH PLAIN\r\n")
        let error = try #require(conversation.error)
        #expect(error.kind == .tlsFailed)
        #expect(error.stage == .startTLS)
        #expect(error.description.contains("in plain text after agreeing to STARTTLS"))
        #expect(!conversation.channel.isActive)
    }

    @Test("a malformed reply fails the send")
    func malformedReply() throws {
        let conversation = try Conversation()
        _ = try conversation.serverSays("HTTP/1.1 400 Bad Request\r\n")
        let error = try #require(conversation.error)
        #expect(error.kind == .invalidReply)
        #expect(error.stage == .greeting)
        #expect(error.description.hasPrefix("the server sent an invalid reply: malformed reply line \"HTTP/1.1 400 Bad Request\""))
    }

    @Test("the server closing the connection mid-way")
    func closedMidway() throws {
        let conversation = try Conversation()
        _ = try conversation.serverSays("220 hi\r\n")
        _ = try conversation.serverSays("250 smtp.test\r\n")
        _ = try conversation.serverSays("250 ok\r\n")
        _ = try conversation.serverSays("250 ok\r\n")
        conversation.channel.pipeline.fireChannelInactive()
        let error = try #require(conversation.error)
        #expect(error.kind == .connectionFailed)
        #expect(error.description == "the server closed the connection before sending the reply to DATA")
    }

    @Test("no reply within the command timeout")
    func timeout() throws {
        let conversation = try Conversation()
        _ = try conversation.serverSays("220 hi\r\n")
        conversation.channel.embeddedEventLoop.advanceTime(by: .seconds(29))
        #expect(conversation.outcome == nil)
        conversation.channel.embeddedEventLoop.advanceTime(by: .seconds(1))
        let error = try #require(conversation.error)
        #expect(error.kind == .timeout)
        #expect(error.description == "timed out after 30.0 seconds waiting for the reply to EHLO")
        #expect(!conversation.channel.isActive)
    }
}
