import NIOCore
import NIOEmbedded
import NIOTestUtils
import Testing

@testable import SMTPClient

@Suite("SMTPReplyDecoder")
struct SMTPReplyDecoderTests {
    @Test("single and multi-line replies, split at every byte")
    func verifier() throws {
        try ByteToMessageDecoderVerifier.verifyDecoder(
            stringInputOutputPairs: [
                ("220 smtp.test ESMTP ready\r\n", [SMTPReply(code: 220, "smtp.test ESMTP ready")]),
                (
                    "250-smtp.test\r\n250-SIZE 33554432\r\n250-STARTTLS\r\n250 AUTH PLAIN LOGIN\r\n",
                    [SMTPReply(code: 250, lines: ["smtp.test", "SIZE 33554432", "STARTTLS", "AUTH PLAIN LOGIN"])]
                ),
                ("354\r\n", [SMTPReply(code: 354, lines: [""])]),
                ("250 OK\n", [SMTPReply(code: 250, "OK")]),
                (
                    "550 5.1.1 no such user\r\n221 bye\r\n",
                    [SMTPReply(code: 550, "5.1.1 no such user"), SMTPReply(code: 221, "bye")]
                ),
            ],
            decoderFactory: { SMTPReplyDecoder() }
        )
    }

    @Test("a reply fed one byte at a time comes out once, when its last line ends")
    func byteByByte() throws {
        var decoder = SMTPReplyDecoder()
        let input = Array("250-first\r\n250-second ünï\r\n250 last\r\n".utf8)
        var replies: [SMTPReply] = []
        var buffer = ByteBuffer()
        for (index, byte) in input.enumerated() {
            buffer.writeInteger(byte)
            if let reply = try decoder.nextReply(from: &buffer) {
                #expect(index == input.count - 1)
                replies.append(reply)
            }
        }
        #expect(replies == [SMTPReply(code: 250, lines: ["first", "second ünï", "last"])])
        #expect(buffer.readableBytes == 0)
    }

    @Test("through a channel pipeline")
    func embeddedChannel() throws {
        let channel = EmbeddedChannel(handler: ByteToMessageHandler(SMTPReplyDecoder()))
        try channel.writeInbound(ByteBuffer(string: "250-a\r\n25"))
        #expect(try channel.readInbound(as: SMTPReply.self) == nil)
        try channel.writeInbound(ByteBuffer(string: "0 b\r\n"))
        #expect(try channel.readInbound(as: SMTPReply.self) == SMTPReply(code: 250, lines: ["a", "b"]))
        #expect(try channel.finish().isClean)
    }

    @Test("an over-long line is refused before it ends")
    func lineTooLong() throws {
        var decoder = SMTPReplyDecoder(maximumLineLength: 16)
        var buffer = ByteBuffer(string: "250 " + String(repeating: "x", count: 12) + "\r\n")
        #expect(try decoder.nextReply(from: &buffer) == SMTPReply(code: 250, String(repeating: "x", count: 12)))

        var unterminated = ByteBuffer(string: "250 " + String(repeating: "x", count: 13))
        #expect(try decoder.nextReply(from: &unterminated) == nil)  // 17 bytes: may still be 16 + CR
        unterminated.writeString("x")
        #expect(throws: SMTPReplyFormatError.lineTooLong(limit: 16)) {
            try decoder.nextReply(from: &unterminated)
        }

        var fresh = SMTPReplyDecoder(maximumLineLength: 16)
        var terminated = ByteBuffer(string: "250 " + String(repeating: "x", count: 13) + "\r\n")
        #expect(throws: SMTPReplyFormatError.lineTooLong(limit: 16)) {
            try fresh.nextReply(from: &terminated)
        }
    }

    @Test("too many continuation lines are refused")
    func tooManyLines() throws {
        var decoder = SMTPReplyDecoder(maximumLineCount: 3)
        var buffer = ByteBuffer(string: "250-a\r\n250-b\r\n250-c\r\n250 d\r\n")
        #expect(throws: SMTPReplyFormatError.tooManyLines(limit: 3)) {
            try decoder.nextReply(from: &buffer)
        }
    }

    @Test("malformed lines are refused", arguments: ["hello\r\n", "25\r\n", "2500 x\r\n", "650 x\r\n", "250_x\r\n", "\r\n"])
    func malformed(_ input: String) throws {
        var decoder = SMTPReplyDecoder()
        var buffer = ByteBuffer(string: input)
        #expect(throws: SMTPReplyFormatError.self) {
            try decoder.nextReply(from: &buffer)
        }
    }

    @Test("a continuation line with another code is refused")
    func inconsistentCode() throws {
        var decoder = SMTPReplyDecoder()
        var buffer = ByteBuffer(string: "250-a\r\n251 b\r\n")
        #expect(throws: SMTPReplyFormatError.inconsistentCode(expected: 250, found: 251)) {
            try decoder.nextReply(from: &buffer)
        }
    }

    @Test("the stream ending inside a reply is an error")
    func truncated() throws {
        let channel = EmbeddedChannel(handler: ByteToMessageHandler(SMTPReplyDecoder()))
        try channel.writeInbound(ByteBuffer(string: "250-a\r\n250 b"))
        #expect(throws: SMTPReplyFormatError.truncatedReply(bufferedBytes: 5)) {
            _ = try channel.finish()
        }
    }

    @Test("reply text and classes")
    func replyDescription() {
        let reply = SMTPReply(code: 550, lines: ["5.1.1 no such user", "see https://example.com"])
        #expect(reply.description == "550 5.1.1 no such user see https://example.com")
        #expect(reply.isPermanentFailure && !reply.isTransientFailure)
        #expect(SMTPReply(code: 354, lines: [""]).description == "354")
    }
}
