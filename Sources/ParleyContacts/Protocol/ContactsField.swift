/// A fixed-width text field of the contacts protocol (seed 003).
///
/// Every text field is UTF-8 followed by NUL bytes up to its width, with at least one NUL,
/// so at most `width − 1` bytes of text fit.
public enum ContactsField: String, Sendable, Hashable, CaseIterable, CustomStringConvertible {
    /// The owner of a contact list (peer Update and Delete).
    case userName = "UserName"
    /// The name of a contact.
    case contactName = "ContactName"
    /// The name in a connection's greeting: a user, a replica, or a replica's answer.
    case connectName = "Name"
    /// A contact's phone number.
    case phoneNumber = "PhoneNumber"

    /// The field's width on the wire, in bytes.
    public var width: Int {
        switch self {
        case .userName, .contactName, .connectName: 256
        case .phoneNumber: 20
        }
    }

    /// The most bytes of UTF-8 text that fit: the width less one NUL.
    public var maximumByteCount: Int { self.width - 1 }

    /// The field's name as the protocol tables spell it.
    public var description: String { self.rawValue }

    /// The field's name for people, as in "the contact name is too long".
    public var spokenName: String {
        switch self {
        case .userName: "user name"
        case .contactName: "contact name"
        case .connectName: "name"
        case .phoneNumber: "phone number"
        }
    }
}

/// A text field that cannot be written or was read invalid.
///
/// A writer raises it instead of cutting text; a reader raises it for a field that breaks the
/// rules of `protocols/contacts.md` (no NUL, not UTF-8, an empty name, a bad phone number).
public enum ContactsFieldError: Error, Hashable, Sendable, CustomStringConvertible {
    /// The text takes `byteCount` bytes of UTF-8, more than the field's
    /// ``ContactsField/maximumByteCount``.
    case tooLong(ContactsField, byteCount: Int)
    /// The text contains U+0000, which would end the field early.
    case containsNUL(ContactsField)
    /// The field's bytes hold no NUL (read side: the text fills the whole width).
    case notTerminated(ContactsField)
    /// The bytes before the first NUL are not valid UTF-8.
    case invalidUTF8(ContactsField)
    /// The field is empty; names and phone numbers must not be.
    case empty(ContactsField)
    /// A phone number with a character other than digits, a leading `+`, spaces, `-`, `(`, `)`,
    /// or without any digit.
    case invalidPhoneNumber

    /// The field concerned.
    public var field: ContactsField {
        switch self {
        case .tooLong(let field, _), .containsNUL(let field), .notTerminated(let field),
            .invalidUTF8(let field), .empty(let field):
            field
        case .invalidPhoneNumber:
            .phoneNumber
        }
    }

    /// A message for people; for text that does not fit it says how many bytes fit.
    public var description: String {
        switch self {
        case .tooLong(let field, let byteCount):
            "the \(field.spokenName) is \(byteCount) bytes long in UTF-8, but at most \(field.maximumByteCount) bytes fit"
        case .containsNUL(let field):
            "the \(field.spokenName) contains a NUL character"
        case .notTerminated(let field):
            "\(field) fills all \(field.width) bytes with no NUL byte after the text"
        case .invalidUTF8(let field):
            "\(field) is not valid UTF-8"
        case .empty(let field):
            "the \(field.spokenName) is empty"
        case .invalidPhoneNumber:
            "a phone number holds digits and may start with +; spaces, -, ( and ) are allowed"
        }
    }
}
