#if canImport(FoundationEssentials)
import FoundationEssentials
#endif
import Foundation
import ParleyCore

/// An email address checked and normalised before it is used as a key or as a recipient.
///
/// The rule, applied by ``init(_:)``:
/// 1. Leading and trailing white space (including line breaks) is removed.
/// 2. The text is put in Unicode NFC, so that the same address typed on two keyboards is one address.
/// 3. It must then be `local@domain` in ASCII: a dot-atom local part (letters, digits and
///    ``!#$%&'*+-/=?^_`{|}~``, dots between them; at most 64 bytes), and a domain name of at least two
///    labels of letters, digits and inner hyphens (each at most 63 bytes; at most 253 in all); at most
///    254 bytes altogether. Quoted local parts, IP-literal domains and non-ASCII addresses are refused
///    with a clear message: the mail path (``SMTPClient``) speaks no SMTPUTF8, so such an address could
///    not receive its code anyway.
/// 4. The domain is lowercased (domain names are case-insensitive).
/// 5. The local part is kept as typed for delivery (``mailbox``), but the whole address is lowercased
///    for identity (``normalized``): RFC 5321 lets a server tell `Alice@` from `alice@`, but no real
///    provider does, and treating them as two addresses would let anyone double the per-address
///    limits (and, later, register one mailbox twice). Dots and `+tags` are left alone: their meaning
///    depends on the provider.
///
/// So `" Alice@Example.COM "` has ``normalized`` `alice@example.com` (the same address as
/// `"alice@example.com"`) and ``mailbox`` `Alice@example.com`.
public struct EmailAddress: Sendable, Hashable, CustomStringConvertible {
    /// The address in lowercase: the identity used for keys, limits and comparisons.
    public let normalized: String
    /// The address to deliver to: the local part as typed, the domain in lowercase.
    public let mailbox: String

    /// Checks and normalises `text`.
    ///
    /// - Throws: `ParleyError(.invalidInput, …)` saying what is wrong with the address.
    public init(_ text: String) throws {
        let trimmed = text.trimmingCharacters(in: .whitespacesAndNewlines).precomposedStringWithCanonicalMapping
        guard !trimmed.isEmpty else {
            throw Self.invalid("The email address is empty.")
        }
        guard trimmed.unicodeScalars.allSatisfy({ $0.isASCII }) else {
            throw Self.invalid("The email address \"\(Self.excerpt(trimmed))\" contains characters other than ASCII letters, digits and punctuation; such addresses are not supported.")
        }
        guard trimmed.utf8.count <= 254 else {
            throw Self.invalid("The email address is too long (at most 254 characters).")
        }
        guard let at = trimmed.lastIndex(of: "@") else {
            throw Self.invalid("\"\(Self.excerpt(trimmed))\" is not an email address: it has no @.")
        }
        let local = String(trimmed[..<at])
        let domain = String(trimmed[trimmed.index(after: at)...]).lowercased()
        try Self.checkLocalPart(local, address: trimmed)
        try Self.checkDomain(domain, address: trimmed)
        self.mailbox = "\(local)@\(domain)"
        self.normalized = self.mailbox.lowercased()
    }

    /// The normalised address.
    public var description: String { self.normalized }

    // MARK: - Checks

    private static let atextSymbols = Set("!#$%&'*+-/=?^_`{|}~".utf8)

    private static func checkLocalPart(_ local: String, address: String) throws {
        guard !local.isEmpty else {
            throw Self.invalid("\"\(Self.excerpt(address))\" is not an email address: nothing comes before the @.")
        }
        guard local.utf8.count <= 64 else {
            throw Self.invalid("The part before the @ is too long (at most 64 characters).")
        }
        for byte in local.utf8 {
            let isAtext = (UInt8(ascii: "a")...UInt8(ascii: "z")).contains(byte | 0x20) || (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(byte)
                || Self.atextSymbols.contains(byte)
            guard isAtext || byte == UInt8(ascii: ".") else {
                throw Self.invalid("The email address \"\(Self.excerpt(address))\" contains \(Self.show(byte)) before the @, which is not allowed.")
            }
        }
        guard !local.hasPrefix("."), !local.hasSuffix("."), !local.contains("..") else {
            throw Self.invalid("The part before the @ in \"\(Self.excerpt(address))\" may not start or end with a dot or have two dots in a row.")
        }
    }

    private static func checkDomain(_ domain: String, address: String) throws {
        guard !domain.isEmpty else {
            throw Self.invalid("\"\(Self.excerpt(address))\" is not an email address: nothing comes after the @.")
        }
        guard domain.utf8.count <= 253 else {
            throw Self.invalid("The domain of the email address is too long.")
        }
        let labels = domain.split(separator: ".", omittingEmptySubsequences: false)
        guard labels.count >= 2 else {
            throw Self.invalid("The domain \"\(Self.excerpt(domain))\" needs a dot, as in example.com.")
        }
        for label in labels {
            guard !label.isEmpty, label.utf8.count <= 63 else {
                throw Self.invalid("The domain \"\(Self.excerpt(domain))\" is not a valid domain name.")
            }
            for byte in label.utf8 {
                let valid = (UInt8(ascii: "a")...UInt8(ascii: "z")).contains(byte) || (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(byte) || byte == UInt8(ascii: "-")
                guard valid else {
                    throw Self.invalid("The domain \"\(Self.excerpt(domain))\" contains \(Self.show(byte)), which is not allowed in a domain name.")
                }
            }
            guard !label.hasPrefix("-"), !label.hasSuffix("-") else {
                throw Self.invalid("The domain \"\(Self.excerpt(domain))\" has a part that starts or ends with a hyphen.")
            }
        }
    }

    private static func invalid(_ message: String) -> ParleyError {
        ParleyError(.invalidInput, message)
    }

    private static func show(_ byte: UInt8) -> String {
        byte < 0x21 || byte == 0x7F ? "a space or a control character" : "'\(Character(Unicode.Scalar(byte)))'"
    }

    /// The start of the text for a message, control characters shown as `?`.
    private static func excerpt(_ text: String) -> String {
        let shown = String(text.unicodeScalars.prefix(80).map { $0.value < 0x20 || $0.value == 0x7F ? "?" : Character($0) })
        return text.unicodeScalars.count > 80 ? shown + "…" : shown
    }
}
