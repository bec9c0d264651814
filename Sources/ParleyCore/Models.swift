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

    /// Creates the pair.
    public init(user: User, passwordHash: String) {
        self.user = user
        self.passwordHash = passwordHash
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
