import Foundation

/// The author name shown for posts written without a session.
public let guestAuthor = "Guest"

/// A registered account, without its password hash.
public struct User: Sendable, Equatable, Codable {
    /// Database id.
    public var id: Int64
    /// The username as registered.
    public var username: String
    /// When the account was created.
    @ISO8601Date public var createdAt: Date

    /// Creates a user value.
    public init(id: Int64, username: String, createdAt: Date) {
        self.id = id
        self.username = username
        self.createdAt = createdAt
    }
}

/// A user together with the password hash, for checking a login. Never leaves the backend.
public struct UserCredentials: Sendable, Equatable {
    /// The account.
    public var user: User
    /// The KDF hash of the password.
    public var passwordHash: String
    /// Grows by one each time the password is reset; a session is valid only while it holds the
    /// version it was opened with, so a reset revokes every session at once.
    public var credentialVersion: Int64

    /// Creates the pair.
    public init(user: User, passwordHash: String, credentialVersion: Int64 = 0) {
        self.user = user
        self.passwordHash = passwordHash
        self.credentialVersion = credentialVersion
    }
}

/// What an account shows of itself: the public name and the words its owner chose.
public struct Profile: Sendable, Equatable, Codable {
    /// The username as registered.
    public var username: String
    /// The name shown to others; the username until changed.
    public var nickname: String
    /// A few words about the user; may be empty.
    public var description: String
    /// The verified email address (normalised), if the account has one. Shown to its owner only.
    public var email: String?
    /// When the account was created.
    @ISO8601Date public var createdAt: Date

    /// Creates a profile value.
    public init(username: String, nickname: String, description: String, email: String?, createdAt: Date) {
        self.username = username
        self.nickname = nickname
        self.description = description
        self.email = email
        self.createdAt = createdAt
    }

    enum CodingKeys: CodingKey { case username, nickname, description, email, createdAt }

    /// Writes `"email": null` rather than leaving the key out.
    public func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(self.username, forKey: .username)
        try container.encode(self.nickname, forKey: .nickname)
        try container.encode(self.description, forKey: .description)
        try container.encode(self.email, forKey: .email)
        try container.encode(self._createdAt, forKey: .createdAt)
    }
}

/// A logged-in session as stored: the token itself is never stored, only its hash.
public struct Session: Sendable, Equatable, Codable {
    /// SHA-256 of the token, hex.
    public var tokenHash: String
    /// The account it belongs to.
    public var userID: Int64
    /// The username, joined in for convenience.
    public var username: String
    /// When it stops being valid unless used again.
    @ISO8601Date public var expiresAt: Date

    /// Creates a session value.
    public init(tokenHash: String, userID: Int64, username: String, expiresAt: Date) {
        self.tokenHash = tokenHash
        self.userID = userID
        self.username = username
        self.expiresAt = expiresAt
    }
}

/// A post on the public board.
public struct Post: Sendable, Equatable, Codable {
    /// Database id; higher is newer.
    public var id: Int64
    /// The author's username, or "Guest".
    public var author: String
    /// The title.
    public var title: String
    /// The body.
    public var body: String
    /// When it was written.
    @ISO8601Date public var createdAt: Date

    /// Creates a post value.
    public init(id: Int64, author: String, title: String, body: String, createdAt: Date) {
        self.id = id
        self.author = author
        self.title = title
        self.body = body
        self.createdAt = createdAt
    }
}
