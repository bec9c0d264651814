import Foundation

/// Accounts. Usernames are unique regardless of case (`Username.key`).
public protocol UserRepository: Sendable {
    /// Inserts an account; throws `ParleyError(.usernameTaken, …)` when the key exists.
    func create(username: Username, passwordHash: String, now: Date) async throws -> User
    /// Finds an account and its hash by the case-insensitive key.
    func credentials(usernameKey: String) async throws -> UserCredentials?
}

/// Sessions, keyed by the SHA-256 of their token.
public protocol SessionRepository: Sendable {
    /// Stores a new session.
    func create(tokenHash: String, userID: Int64, expiresAt: Date) async throws
    /// The session when it exists and has not expired at `now`.
    func find(tokenHash: String, now: Date) async throws -> Session?
    /// Moves the expiry of a session (sliding expiry).
    func extend(tokenHash: String, until expiresAt: Date) async throws
    /// Removes one session; removing a missing one is not an error.
    func delete(tokenHash: String) async throws
    /// Removes every session that expired before `now`; returns how many.
    func deleteExpired(now: Date) async throws -> Int
}

/// The public board.
public protocol PostRepository: Sendable {
    /// Stores a post and returns it with its id.
    func create(author: String, userID: Int64?, draft: PostDraft, now: Date) async throws -> Post
    /// Posts newest first; with `before`, only those with a smaller id.
    func list(limit: Int, before: Int64?) async throws -> [Post]
}

/// Everything the backend stores, opened and migrated.
public protocol Storage: Sendable {
    /// Accounts.
    var users: any UserRepository { get }
    /// Sessions.
    var sessions: any SessionRepository { get }
    /// Posts.
    var posts: any PostRepository { get }
    /// Closes connections; the storage is unusable afterwards.
    func close() async throws
}
