/// Validated text of one protocol field: UTF-8, no NUL, not empty, short enough for its field.
///
/// Compared and hashed by its bytes, never by Unicode equivalence: two spellings of "é"
/// (precomposed or combining) are two names, as they are on the wire and on every replica.
public struct ContactsText: Hashable, Comparable, Sendable, CustomStringConvertible {
    /// The UTF-8 bytes, without padding.
    public let bytes: [UInt8]

    /// The text as a Swift string.
    public var string: String { String(decoding: self.bytes, as: UTF8.self) }

    /// The text.
    public var description: String { self.string }

    /// Validates `string` for `field`.
    ///
    /// - Throws: ``ContactsFieldError/tooLong(_:byteCount:)`` when its UTF-8 does not fit (the
    ///   text is never cut), or another ``ContactsFieldError`` when it breaks the field's rules.
    public init(_ string: String, field: ContactsField) throws(ContactsFieldError) {
        let bytes = Array(string.utf8)
        if bytes.contains(0) {
            throw .containsNUL(field)
        }
        if bytes.count > field.maximumByteCount {
            throw .tooLong(field, byteCount: bytes.count)
        }
        try Self.checkContent(bytes, field: field)
        self.bytes = bytes
    }

    /// Validates the bytes read from a field (before its first NUL).
    init(validating bytes: [UInt8], field: ContactsField) throws(ContactsFieldError) {
        if bytes.count > field.maximumByteCount {
            throw .notTerminated(field)
        }
        if bytes.contains(0) {
            throw .containsNUL(field)
        }
        guard String(validating: bytes, as: UTF8.self) != nil else {
            throw .invalidUTF8(field)
        }
        try Self.checkContent(bytes, field: field)
        self.bytes = bytes
    }

    /// Bytes already known to be valid (read back from this replica's own database).
    init(trusted bytes: [UInt8]) {
        self.bytes = bytes
    }

    /// Byte order, the order of ListAll and of the merge rule's phone comparison.
    public static func < (lhs: ContactsText, rhs: ContactsText) -> Bool {
        lhs.bytes.lexicographicallyPrecedes(rhs.bytes)
    }

    /// Non-empty; a phone number holds digits, may start with `+`, and may contain spaces,
    /// `-`, `(` and `)`.
    private static func checkContent(_ bytes: [UInt8], field: ContactsField) throws(ContactsFieldError) {
        guard !bytes.isEmpty else {
            throw .empty(field)
        }
        guard field == .phoneNumber else {
            return
        }
        let body = bytes.first == UInt8(ascii: "+") ? bytes.dropFirst() : bytes[...]
        var digits = 0
        for byte in body {
            switch byte {
            case UInt8(ascii: "0")...UInt8(ascii: "9"):
                digits += 1
            case UInt8(ascii: " "), UInt8(ascii: "-"), UInt8(ascii: "("), UInt8(ascii: ")"):
                continue
            default:
                throw .invalidPhoneNumber
            }
        }
        guard digits > 0 else {
            throw .invalidPhoneNumber
        }
    }
}
