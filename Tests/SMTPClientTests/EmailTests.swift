import Foundation
import NIOCore
import Testing

@testable import SMTPClient

@Suite("Email")
struct EmailTests {
    static let fixedDate = Date(timeIntervalSince1970: 1_751_371_200)  // Tue, 01 Jul 2025 12:00:00 UTC

    @Test("a known message renders to exact bytes")
    func exactRendering() throws {
        let email = try Email(
            from: Email.Address("noreply@parley.test", displayName: "Parley"),
            to: ["alice@example.com", Email.Address("bob@example.com", displayName: "Bob O'Neil, Jr.")],
            subject: "Your Parley code",
            body: "Bonjour Zoë, votre code = 123456.\nIt expires in 3 minutes.\n",
            date: Self.fixedDate,
            messageID: "0f8e2c1a@parley.test"
        )
        let expected =
            "Date: Tue, 01 Jul 2025 12:00:00 +0000\r\n"
            + "From: Parley <noreply@parley.test>\r\n"
            + "To: alice@example.com, \"Bob O'Neil, Jr.\" <bob@example.com>\r\n"
            + "Subject: Your Parley code\r\n"
            + "Message-ID: <0f8e2c1a@parley.test>\r\n"
            + "MIME-Version: 1.0\r\n"
            + "Content-Type: text/plain; charset=utf-8\r\n"
            + "Content-Transfer-Encoding: quoted-printable\r\n"
            + "\r\n"
            + "Bonjour Zo=C3=AB, votre code =3D 123456.\r\n"
            + "It expires in 3 minutes.\r\n"
        #expect(email.rendered() == expected)
    }

    @Test("a UTF-8 subject becomes an RFC 2047 encoded-word")
    func encodedSubject() throws {
        let subject = "Votre code: 123456 — ünïcødé 🎉"
        let email = try Self.email(subject: subject)
        let header = try #require(Self.header("Subject", in: email.rendered()))
        #expect(header == "Subject: =?UTF-8?B?Vm90cmUgY29kZTogMTIzNDU2IOKAlCDDvG7Dr2PDuGTDqSDwn46J?=")
        #expect(Self.decodeEncodedWords(header) == subject)
    }

    @Test("a long UTF-8 subject is folded into encoded-words, whole characters each, lines within 76")
    func foldedSubject() throws {
        let subject = String(repeating: "Vérification 🎉👩‍👩‍👧 ", count: 8) + "fin"
        let email = try Self.email(subject: subject)
        let header = try #require(Self.header("Subject", in: email.rendered()))
        let lines = header.components(separatedBy: "\r\n")
        #expect(lines.count > 3)
        #expect(lines.allSatisfy { $0.utf8.count <= 76 })
        #expect(lines.dropFirst().allSatisfy { $0.hasPrefix(" =?UTF-8?B?") })
        #expect(Self.decodeEncodedWords(header) == subject)
    }

    @Test("a long ASCII subject is folded at spaces and unfolds to itself")
    func foldedASCIISubject() throws {
        let subject = (1...30).map { "word\($0)" }.joined(separator: " ")
        let header = try #require(Self.header("Subject", in: try Self.email(subject: subject).rendered()))
        #expect(header.contains("\r\n "))
        #expect(header.components(separatedBy: "\r\n").allSatisfy { $0.utf8.count <= 76 })
        #expect(header.replacingOccurrences(of: "\r\n", with: "") == "Subject: " + subject)
    }

    @Test("ASCII that looks like an encoded-word is encoded")
    func lookalikeSubject() throws {
        let header = try #require(Self.header("Subject", in: try Self.email(subject: "=?UTF-8?B?eA==?=").rendered()))
        #expect(header.hasPrefix("Subject: =?UTF-8?B?"))
        #expect(Self.decodeEncodedWords(header) == "=?UTF-8?B?eA==?=")
    }

    @Test("a non-ASCII display name is encoded")
    func encodedDisplayName() throws {
        let email = try Email(
            from: Email.Address("noreply@parley.test", displayName: "Équipe Parley"),
            to: ["alice@example.com"], subject: "x", body: "x", date: Self.fixedDate, messageID: "a@b"
        )
        let header = try #require(Self.header("From", in: email.rendered()))
        #expect(header == "From: =?UTF-8?B?w4lxdWlwZSBQYXJsZXk=?= <noreply@parley.test>")
    }

    /// A header field with text that tries to add a header (or an SMTP command).
    struct Injection: Sendable, CustomTestStringConvertible {
        var field: String
        var from = Email.Address("a@b.c")
        var to: Email.Address = "d@e.f"
        var subject = "s"
        var messageID: String?

        var testDescription: String { self.field }

        func make() throws -> Email {
            try Email(from: self.from, to: [self.to], subject: self.subject, body: "b", messageID: self.messageID)
        }
    }

    @Test(
        "a line break in any header field is refused",
        arguments: [
            Injection(field: "Subject", subject: "Hello\r\nBcc: victim@example.com"),
            Injection(field: "Subject", subject: "Hello\nBcc: victim@example.com"),
            Injection(field: "Subject", subject: "Hello\rX"),
            Injection(field: "From display name", from: Email.Address("a@b.c", displayName: "Evil\r\nBcc: x@y.z")),
            Injection(field: "To display name", to: Email.Address("d@e.f", displayName: "Evil\nBcc: x@y.z")),
            Injection(field: "To", to: "d@e.f\r\nBcc: x@y.z"),
            Injection(field: "From", from: "a@b.c>\r\nRCPT TO:<x@y.z"),
            Injection(field: "Message-ID", messageID: "x@y\r\nBcc: z@w"),
        ]
    )
    func headerInjection(_ injection: Injection) throws {
        let error = try #require(throws: EmailError.self) { try injection.make() }
        #expect(error.field == injection.field)
        #expect(error.description.hasPrefix("invalid \(injection.field):"))
    }

    @Test("invalid addresses and an empty recipient list are refused")
    func invalidAddresses() throws {
        #expect(throws: EmailError.self) { try Email(from: "no-at-sign", to: ["d@e.f"], subject: "s", body: "b") }
        #expect(throws: EmailError.self) { try Email(from: "a@b.c", to: ["a b@c.d"], subject: "s", body: "b") }
        #expect(throws: EmailError.self) { try Email(from: "a@b.c", to: ["zoë@example.com"], subject: "s", body: "b") }
        #expect(throws: EmailError.self) { try Email(from: "a@b.c", to: ["<x@y.z>"], subject: "s", body: "b") }
        #expect(throws: EmailError.self) { try Email(from: "a@b.c", to: [], subject: "s", body: "b") }
        #expect(throws: EmailError.self) { try Self.email(subject: "bell \u{7}") }
    }

    @Test("quoted-printable keeps lines within 76 and encodes what must be encoded")
    func quotedPrintable() {
        let long = String(repeating: "é", count: 40) + " " + String(repeating: "a", count: 100)
        let encoded = MIMEEncoder.quotedPrintable("tab\tend \n" + long + "\r\nlast=1 \r")
        let lines = encoded.components(separatedBy: "\r\n")
        #expect(lines.first == "tab\tend=20")
        #expect(lines.allSatisfy { $0.utf8.count <= 76 })
        #expect(lines.contains("last=3D1=20"))
        #expect(encoded.hasSuffix("\r\n"))
        #expect(Self.decodeQuotedPrintable(encoded) == "tab\tend \r\n" + long + "\r\nlast=1 \r\n")
    }

    @Test("base64 bodies have 76-character lines")
    func base64Body() throws {
        let body = String(repeating: "Vérification du code. ", count: 20) + "\n"
        let email = try Email(
            from: "a@b.c", to: ["d@e.f"], subject: "s", body: body, date: Self.fixedDate, messageID: "a@b",
            transferEncoding: .base64
        )
        let rendered = email.rendered()
        #expect(rendered.contains("Content-Transfer-Encoding: base64\r\n"))
        let encodedBody = try #require(rendered.components(separatedBy: "\r\n\r\n").last)
        let lines = encodedBody.components(separatedBy: "\r\n").filter { !$0.isEmpty }
        #expect(lines.dropLast().allSatisfy { $0.count == 76 })
        let decoded = try #require(Data(base64Encoded: lines.joined()))
        #expect(String(decoding: decoded, as: UTF8.self) == body.replacingOccurrences(of: "\n", with: "\r\n"))
    }

    @Test("every rendered line is CRLF-terminated and short")
    func lineEndings() throws {
        let email = try Self.email(subject: "Votre code: 123456 — ünïcødé 🎉", body: "a\nb\rc\r\nd")
        let rendered = Array(email.rendered().utf8)
        for (index, byte) in rendered.enumerated() where byte == UInt8(ascii: "\n") {
            #expect(index > 0 && rendered[index - 1] == UInt8(ascii: "\r"))
        }
        #expect(email.rendered().hasSuffix("d\r\n"))
        #expect(email.rendered().components(separatedBy: "\r\n").allSatisfy { $0.utf8.count <= 76 })
    }

    @Test(
        "RFC 5322 dates in UTC",
        arguments: [
            (0.0, "Thu, 01 Jan 1970 00:00:00 +0000"),
            (1_751_371_200.0, "Tue, 01 Jul 2025 12:00:00 +0000"),
            (1_709_251_199.9, "Thu, 29 Feb 2024 23:59:59 +0000"),
            (-1.0, "Wed, 31 Dec 1969 23:59:59 +0000"),
        ]
    )
    func dates(seconds: Double, expected: String) {
        #expect(RFC5322Date.format(Date(timeIntervalSince1970: seconds)) == expected)
    }

    @Test("a generated Message-ID is unique and at the sender's domain")
    func generatedMessageID() throws {
        let first = try Self.email(subject: "s", messageID: nil)
        let second = try Self.email(subject: "s", messageID: nil)
        #expect(first.messageID != second.messageID)
        #expect(first.messageID.hasSuffix("@parley.test"))
        #expect(first.rendered().contains("Message-ID: <\(first.messageID)>\r\n"))
    }

    // MARK: - Helpers

    static func email(subject: String, body: String = "x", messageID: String? = "id@parley.test") throws -> Email {
        try Email(
            from: "noreply@parley.test", to: ["alice@example.com"], subject: subject, body: body,
            date: Self.fixedDate, messageID: messageID
        )
    }

    /// The header `name`, with its folded continuation lines.
    static func header(_ name: String, in message: String) -> String? {
        let lines = message.components(separatedBy: "\r\n")
        guard let start = lines.firstIndex(where: { $0.hasPrefix("\(name): ") }) else {
            return nil
        }
        var header = [lines[start]]
        for line in lines[(start + 1)...] {
            guard line.hasPrefix(" ") || line.hasPrefix("\t") else { break }
            header.append(line)
        }
        return header.joined(separator: "\r\n")
    }

    /// Decodes a header made only of `=?UTF-8?B?…?=` words (RFC 2047: whitespace between them is dropped).
    static func decodeEncodedWords(_ header: String) -> String? {
        guard let colon = header.firstIndex(of: ":") else { return nil }
        var bytes: [UInt8] = []
        for word in header[header.index(after: colon)...].split(whereSeparator: \.isWhitespace) {
            guard word.hasPrefix("=?UTF-8?B?"), word.hasSuffix("?="),
                let data = Data(base64Encoded: String(word.dropFirst(10).dropLast(2)))
            else { return nil }
            bytes += data
        }
        return String(bytes: bytes, encoding: .utf8)
    }

    static func decodeQuotedPrintable(_ text: String) -> String {
        var bytes: [UInt8] = []
        let input = Array(text.replacingOccurrences(of: "=\r\n", with: "").utf8)
        var index = 0
        while index < input.count {
            if input[index] == UInt8(ascii: "="), index + 2 < input.count,
                let value = UInt8(String(decoding: input[(index + 1)...(index + 2)], as: UTF8.self), radix: 16)
            {
                bytes.append(value)
                index += 3
            } else {
                bytes.append(input[index])
                index += 1
            }
        }
        return String(decoding: bytes, as: UTF8.self)
    }
}
