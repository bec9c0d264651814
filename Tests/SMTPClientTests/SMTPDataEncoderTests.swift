import NIOCore
import Testing

@testable import SMTPClient

@Suite("SMTPDataEncoder")
struct SMTPDataEncoderTests {
    @Test(
        "dot-stuffing, CRLF normalisation and the terminator",
        arguments: [
            ("Hello\r\n", "Hello\r\n.\r\n"),
            (".hidden\r\n", "..hidden\r\n.\r\n"),
            ("a\r\n.\r\nb\r\n", "a\r\n..\r\nb\r\n.\r\n"),
            ("a\n..b\nc", "a\r\n...b\r\nc\r\n.\r\n"),
            ("bare\rcr\r\r\nx", "bare\r\ncr\r\n\r\nx\r\n.\r\n"),
            ("no dot. in.middle\n", "no dot. in.middle\r\n.\r\n"),
            ("", ".\r\n"),
            (".", "..\r\n.\r\n"),
        ]
    )
    func encode(input: String, expected: String) {
        #expect(String(buffer: SMTPDataEncoder.encode(input.utf8)) == expected)
    }

    @Test("a rendered message with a body line starting with a dot is stuffed on the wire")
    func renderedMessage() throws {
        let email = try Email(
            from: "a@b.c", to: ["d@e.f"], subject: "s", body: "first\n.\n.second\n", date: EmailTests.fixedDate,
            messageID: "a@b"
        )
        let wire = String(buffer: SMTPDataEncoder.encode(email.rendered().utf8))
        #expect(wire.hasSuffix("\r\n\r\nfirst\r\n..\r\n..second\r\n.\r\n"))
    }
}
