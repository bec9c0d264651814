import Foundation

/// Accounts. Usernames are unique regardless of case (`Username.key`).
public protocol UserRepository: Sendable {
    /// Inserts an account (its nickname is the username); throws `ParleyError(.usernameTaken, …)`
    /// when the key exists and `ParleyError(.emailTaken, …)` when the email (normalised) does.
    func create(username: Username, email: String?, passwordHash: String, now: Date) async throws -> User
    /// Finds an account and its hash by the case-insensitive key.
    func credentials(usernameKey: String) async throws -> UserCredentials?
    /// Finds an account and its hash by its normalised email address.
    func credentials(email: String) async throws -> UserCredentials?
    /// Whether the username key and the email address are in use.
    func taken(usernameKey: String, email: String?) async throws -> (username: Bool, email: Bool)
    /// The profile of an account.
    func profile(userID: Int64) async throws -> Profile?
    /// Replaces nickname and description; `nil` when the account does not exist.
    func updateProfile(userID: Int64, draft: ProfileDraft) async throws -> Profile?
    /// Sets a new password hash for the account with this email and moves its credential version
    /// on, which revokes all its sessions in the same statement; the account id, or `nil` when no
    /// account has this email.
    func resetPassword(email: String, passwordHash: String) async throws -> Int64?
}

extension PostRepository {
    /// Stores a post without a request id.
    public func create(author: String, userID: Int64?, draft: PostDraft, now: Date) async throws -> Post {
        try await self.create(author: author, userID: userID, draft: draft, now: now, requestID: nil)
    }
}

extension UserRepository {
    /// Inserts an account without an email address.
    public func create(username: Username, passwordHash: String, now: Date) async throws -> User {
        try await self.create(username: username, email: nil, passwordHash: passwordHash, now: now)
    }
}

/// Sessions, keyed by the SHA-256 of their token.
public protocol SessionRepository: Sendable {
    /// Stores a new session for the account, provided its credential version is still
    /// `credentialVersion` (the password was not reset since it was checked); throws
    /// `ParleyError(.invalidCredentials, …)` otherwise, or when there is no such account.
    func create(tokenHash: String, userID: Int64, credentialVersion: Int64, expiresAt: Date) async throws
    /// The session when it exists and has not expired at `now`.
    func find(tokenHash: String, now: Date) async throws -> Session?
    /// Moves the expiry of a session (sliding expiry).
    func extend(tokenHash: String, until expiresAt: Date) async throws
    /// Removes one session; removing a missing one is not an error.
    func delete(tokenHash: String) async throws
    /// Removes every session of an account.
    func deleteAll(userID: Int64) async throws
    /// Removes every session that expired before `now`; returns how many.
    func deleteExpired(now: Date) async throws -> Int
}

/// The public board.
public protocol PostRepository: Sendable {
    /// Stores a post and returns it with its id. A `requestID` already stored returns the post
    /// stored with it instead: a retried write is applied once.
    func create(author: String, userID: Int64?, draft: PostDraft, now: Date, requestID: String?) async throws -> Post
    /// Stores a post by the user of a session, in one statement: only while the session whose
    /// token hashes to `sessionTokenHash` is valid at `now` (it exists, has not expired, and its
    /// password was not reset since). Returns the post and the session as found, or `nil`, having
    /// stored nothing, when the session is not valid. A `requestID` already stored returns the post
    /// stored with it (while the session is valid).
    func create(sessionTokenHash: String, draft: PostDraft, now: Date, requestID: String?) async throws -> (post: Post, session: Session)?
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
    /// Friends, requests and conversations.
    var chat: any ChatRepository { get }
    /// The epoch writes carry; every repository of this storage reads it.
    var fence: WriteFence { get }
    /// Records `epoch` as the leadership epoch of the database, unless a higher one is recorded:
    /// `false` then (another backend took over since). From now on writes must carry `epoch`.
    func claimLeadership(epoch: Int64) async throws -> Bool
    /// Closes connections; the storage is unusable afterwards.
    func close() async throws
}
