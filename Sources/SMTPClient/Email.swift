#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

/// A plain-text email: sender, recipients, subject and a UTF-8 body.
///
/// Every field is checked when the value is created, so an `Email` can always be rendered: a line
/// break (or another control character) in a header field throws ``EmailError`` rather than
/// letting the text add headers of its own. ``rendered()`` gives the RFC 5322 message, which the
/// ``SMTPClient`` sends and which can be written as an `.eml` file as it is.
public struct Email: Hashable, Sendable {
    /// An email address with an optional display name, such as `Parley <noreply@example.com>`.
    public struct Address: Hashable, Sendable, ExpressibleByStringLiteral, CustomStringConvertible {
        /// The address itself (`local@domain`), as used in the envelope.
        public var address: String
        /// The name shown with it, if any; any Unicode text without line breaks.
        public var displayName: String?

        /// Creates an address; it is checked when the ``Email`` is created.
        public init(_ address: String, displayName: String? = nil) {
            self.address = address
            self.displayName = displayName
        }

        /// Creates an address without a display name.
        public init(stringLiteral value: String) {
            self.init(value)
        }

        /// The address as in a header, before any encoding: `Name <local@domain>` or `local@domain`.
        public var description: String {
            guard let name = self.displayName, !name.isEmpty else {
                return self.address
            }
            return "\(name) <\(self.address)>"
        }
    }

    /// How the body is encoded; both keep every line of the message within 76 characters.
    public enum TransferEncoding: Hashable, Sendable {
        /// Readable where the text is ASCII; other bytes as `=XX`. Best for mostly-ASCII text.
        case quotedPrintable
        /// Base64, 76 characters a line.
        case base64
    }

    /// The sender, in the `From` header and in MAIL FROM.
    public let from: Address
    /// The recipients, in the `To` header and each in a RCPT TO; at least one.
    public let to: [Address]
    /// The subject, any Unicode text without line breaks.
    public let subject: String
    /// The body text; line breaks may be LF, CR or CRLF.
    public let body: String
    /// When the message was written, for the `Date` header.
    public let date: Date
    /// The message's unique id, without angle brackets, such as `1b2c…@example.com`.
    public let messageID: String
    /// How the body is encoded.
    public let transferEncoding: TransferEncoding

    /// Creates an email, checking every field.
    ///
    /// - Parameters:
    ///   - from: The sender.
    ///   - to: The recipients; at least one.
    ///   - subject: The subject; encoded as RFC 2047 encoded-words when it is not plain ASCII.
    ///   - body: The text; sent as `text/plain; charset=utf-8`.
    ///   - date: When the message was written; now by default.
    ///   - messageID: The `Message-ID` without angle brackets; by default a random UUID at the
    ///     sender's domain.
    ///   - transferEncoding: How the body is encoded; quoted-printable by default.
    /// - Throws: ``EmailError`` when an address is not a plain `local@domain`, when a header field
    ///   contains a line break or another control character, or when there is no recipient.
    public init(
        from: Address,
        to: [Address],
        subject: String,
        body: String,
        date: Date = Date(),
        messageID: String? = nil,
        transferEncoding: TransferEncoding = .quotedPrintable
    ) throws {
        try Self.check(from, field: "From")
        guard !to.isEmpty else {
            throw EmailError(field: "To", reason: "there must be at least one recipient")
        }
        for address in to {
            try Self.check(address, field: "To")
        }
        try Self.checkText(subject, field: "Subject")
        let domain = from.address.split(separator: "@").last.map(String.init) ?? "localhost"
        let id = messageID ?? "\(UUID().uuidString.lowercased())@\(domain)"
        try Self.checkMessageID(id)

        self.from = from
        self.to = to
        self.subject = subject
        self.body = body
        self.date = date
        self.messageID = id
        self.transferEncoding = transferEncoding
    }

    // MARK: - Checks

    /// Characters an unquoted local part or a domain may not contain.
    private static let forbiddenInAddress = Set("<>()[]\\,;:\" ".utf8)

    private static func check(_ address: Address, field: String) throws {
        let text = address.address
        let parts = text.split(separator: "@", omittingEmptySubsequences: false)
        guard parts.count == 2, !parts[0].isEmpty, !parts[1].isEmpty else {
            throw EmailError(field: field, reason: "\"\(Self.excerpt(text))\" is not an address of the form local@domain")
        }
        for byte in text.utf8 {
            if byte == 0x0D || byte == 0x0A {
                throw EmailError(field: field, reason: "the address contains a line break (CR or LF)")
            }
            guard (0x21...0x7E).contains(byte) else {
                throw EmailError(
                    field: field,
                    reason: "the address \"\(Self.excerpt(text))\" contains a space, a control character or a non-ASCII character (SMTPUTF8 is not supported)"
                )
            }
            guard !Self.forbiddenInAddress.contains(byte) else {
                throw EmailError(field: field, reason: "the address \"\(Self.excerpt(text))\" contains '\(Character(Unicode.Scalar(byte)))'")
            }
        }
        guard parts[0].utf8.count <= 64, text.utf8.count <= 254 else {
            throw EmailError(field: field, reason: "the address is too long")
        }
        if let name = address.displayName {
            try Self.checkText(name, field: "\(field) display name")
        }
    }

    /// Free text for a header: anything but line breaks and other control characters (tab allowed).
    private static func checkText(_ text: String, field: String) throws {
        for scalar in text.unicodeScalars {
            if scalar == "\r" || scalar == "\n" || scalar == "\u{2028}" || scalar == "\u{2029}" || scalar == "\u{85}" {
                throw EmailError(field: field, reason: "it contains a line break (CR or LF)")
            }
            if (scalar.value < 0x20 && scalar != "\t") || (0x7F...0x9F).contains(scalar.value) {
                throw EmailError(field: field, reason: "it contains a control character (U+\(String(scalar.value, radix: 16, uppercase: true)))")
            }
        }
    }

    private static func checkMessageID(_ id: String) throws {
        let parts = id.split(separator: "@", omittingEmptySubsequences: false)
        let valid =
            parts.count == 2 && !parts[0].isEmpty && !parts[1].isEmpty && id.utf8.count <= 250
            && id.utf8.allSatisfy { (0x21...0x7E).contains($0) && $0 != UInt8(ascii: "<") && $0 != UInt8(ascii: ">") }
        guard valid else {
            throw EmailError(
                field: "Message-ID",
                reason: "\"\(Self.excerpt(id))\" is not of the form left@right in printable ASCII without spaces or angle brackets"
            )
        }
    }

    /// The start of a value for an error message, with control characters shown as `?`.
    private static func excerpt(_ text: String) -> String {
        String(text.unicodeScalars.prefix(60).map { $0.value < 0x20 || $0.value == 0x7F ? "?" : Character($0) })
    }
}
