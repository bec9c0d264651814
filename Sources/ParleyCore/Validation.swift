import Foundation

/// The limits every role enforces, in one place.
public enum Limits {
    /// Longest username, in characters.
    public static let usernameLength = 1...32
    /// Allowed password length, in characters.
    public static let passwordLength = 8...128
    /// Longest post title, in characters.
    public static let titleLength = 1...200
    /// Longest post body, in characters.
    public static let bodyLength = 1...10_000
    /// Most UTF-8 bytes in a title (a character may take many bytes).
    public static let titleBytes = 800
    /// Most UTF-8 bytes in a body.
    public static let bodyBytes = 40_000
    /// Largest HTTP request body the gateway reads.
    public static let requestBodyBytes = 64 * 1024
    /// Largest JSON-RPC message either side accepts.
    public static let rpcMessageBytes = 1024 * 1024
    /// Largest page of posts a client may ask for.
    public static let pageSize = 1...100
    /// Characters in a nickname.
    public static let nicknameLength = 1...50
    /// Characters in a profile description.
    public static let descriptionLength = 0...1_000
    /// UTF-8 bytes in a profile description.
    public static let descriptionBytes = 4_000
    /// The page size when the client does not say.
    public static let defaultPageSize = 20
}

/// A valid username: NFC-normalised, 1–32 letters (any script), digits, `_`, `-` or `.`.
public struct Username: Sendable, Hashable, Codable, CustomStringConvertible {
    /// The name as the user wrote it, NFC-normalised.
    public let value: String

    /// Validates and normalises `raw`, or throws `invalidInput` saying what is wrong.
    public init(_ raw: String) throws(ParleyError) {
        let name = raw.precomposedStringWithCanonicalMapping
        guard Limits.usernameLength.contains(name.count) else {
            throw ParleyError(.invalidInput, "A username has 1 to 32 characters.")
        }
        let allowed = name.unicodeScalars.allSatisfy { scalar in
            scalar.properties.isAlphabetic || scalar.properties.numericType == .decimal
                || scalar == "_" || scalar == "-" || scalar == "."
                || scalar.properties.generalCategory == .nonspacingMark
                || scalar.properties.generalCategory == .spacingMark
        }
        guard allowed else {
            throw ParleyError(.invalidInput, "A username may hold only letters, digits, '_', '-' and '.'.")
        }
        self.value = name
    }

    /// The key that makes usernames unique regardless of case.
    public var key: String { Username.key(self.value) }

    /// The case-insensitive key of any string, for lookups of names that may not be valid.
    public static func key(_ raw: String) -> String {
        raw.precomposedStringWithCanonicalMapping.lowercased()
    }

    public var description: String { self.value }

    public init(from decoder: any Decoder) throws {
        let raw = try decoder.singleValueContainer().decode(String.self)
        do { try self.init(raw) } catch {
            throw DecodingError.dataCorrupted(.init(codingPath: decoder.codingPath, debugDescription: error.message))
        }
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        try container.encode(self.value)
    }
}

/// Password rules; the password itself is never stored, logged or returned.
public enum PasswordRule {
    /// Throws `invalidInput` unless the password has 8–128 characters.
    public static func validate(_ password: String) throws(ParleyError) {
        guard Limits.passwordLength.contains(password.count) else {
            throw ParleyError(.invalidInput, "A password has 8 to 128 characters.")
        }
    }
}

/// The text of a new post, trimmed and checked.
public struct PostDraft: Sendable, Equatable {
    /// The title, 1–200 characters.
    public let title: String
    /// The body, 1–10,000 characters.
    public let body: String

    /// Trims surrounding white space and checks both lengths.
    public init(title: String, body: String) throws(ParleyError) {
        let title = title.trimmingWhitespace()
        let body = body.trimmingWhitespace()
        guard !title.isEmpty else { throw ParleyError(.invalidInput, "A post needs a title.") }
        // Control characters (NUL above all, which PostgreSQL cannot store) have no place in
        // a post; a body keeps its line breaks and tabs.
        guard !title.unicodeScalars.contains(where: { $0.properties.generalCategory == .control }) else {
            throw ParleyError(.invalidInput, "A title cannot hold control characters or line breaks.")
        }
        guard !body.unicodeScalars.contains(where: { $0.properties.generalCategory == .control && !"\n\r\t".unicodeScalars.contains($0) }) else {
            throw ParleyError(.invalidInput, "A body cannot hold control characters other than line breaks and tabs.")
        }
        guard !body.isEmpty else { throw ParleyError(.invalidInput, "A post needs a body.") }
        guard title.count <= Limits.titleLength.upperBound else {
            throw ParleyError(.tooLarge, "A title has at most 200 characters.")
        }
        guard body.count <= Limits.bodyLength.upperBound else {
            throw ParleyError(.tooLarge, "A body has at most 10,000 characters.")
        }
        // Characters can be long (an accent stack, an emoji sequence): bytes are bounded too,
        // so that a page of posts always fits a JSON-RPC message.
        guard title.utf8.count <= Limits.titleBytes, body.utf8.count <= Limits.bodyBytes else {
            throw ParleyError(.tooLarge, "A post is too long: at most 800 bytes of title and 40,000 of body in UTF-8.")
        }
        self.title = title
        self.body = body
    }
}

/// A profile as its owner edits it: nickname and description, trimmed and checked.
public struct ProfileDraft: Sendable, Equatable {
    /// The name shown to others, 1–50 characters on one line.
    public let nickname: String
    /// A few words, at most 1,000 characters; line breaks allowed.
    public let description: String

    /// Trims surrounding white space, normalises to NFC and checks both fields.
    public init(nickname: String, description: String) throws(ParleyError) {
        let nickname = nickname.trimmingCharacters(in: .whitespacesAndNewlines).precomposedStringWithCanonicalMapping
        let description = description.trimmingCharacters(in: .whitespacesAndNewlines).precomposedStringWithCanonicalMapping
        guard Limits.nicknameLength.contains(nickname.count) else {
            throw ParleyError(.invalidInput, "A nickname has 1 to 50 characters.")
        }
        guard !nickname.unicodeScalars.contains(where: { $0.properties.generalCategory == .control }) else {
            throw ParleyError(.invalidInput, "A nickname cannot hold control characters or line breaks.")
        }
        guard !description.unicodeScalars.contains(where: { $0.properties.generalCategory == .control && !"\n\r\t".unicodeScalars.contains($0) }) else {
            throw ParleyError(.invalidInput, "A description cannot hold control characters other than line breaks and tabs.")
        }
        guard description.count <= Limits.descriptionLength.upperBound, description.utf8.count <= Limits.descriptionBytes else {
            throw ParleyError(.tooLarge, "A description has at most 1,000 characters.")
        }
        self.nickname = nickname
        self.description = description
    }
}

extension StringProtocol {
    /// Without the white space at either end: the set of Foundation's `.whitespacesAndNewlines`
    /// (Unicode's White_Space, that is spaces, tabs and line breaks, plus U+200B ZERO WIDTH SPACE),
    /// without its bridge through NSString (which was 2% of a post's CPU).
    public func trimmingWhitespace() -> String {
        func isSpace(_ scalar: Unicode.Scalar) -> Bool {
            scalar.properties.isWhitespace || scalar == "\u{200B}"
        }
        let scalars = self.unicodeScalars
        guard let first = scalars.firstIndex(where: { !isSpace($0) }), let last = scalars.lastIndex(where: { !isSpace($0) }) else {
            return ""
        }
        // The bytes between, copied at once rather than scalar by scalar.
        return String(decoding: self.utf8[first..<scalars.index(after: last)], as: UTF8.self)
    }
}
