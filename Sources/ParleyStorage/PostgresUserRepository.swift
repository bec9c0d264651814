import Foundation
import ParleyCore
import PostgresNIO

/// Accounts in the `users` table of a PostgreSQL database.
struct PostgresUserRepository: UserRepository {
    /// Every statement this repository runs; values are bound parameters.
    enum SQL {
        /// The UNIQUE constraint on `username_key` (migration 1).
        static let usernameKeyConstraint = "users_username_key_unique"
        /// The UNIQUE index on `email` (migration 2).
        static let emailConstraint = "users_email_unique"

        static func insert(
            username: String, key: String, email: String?, passwordHash: String, createdAt: Int64, epoch: Int64?
        ) -> PostgresQuery {
            """
            INSERT INTO users (username, username_key, email, nickname, password_hash, created_at)
            SELECT \(username), \(key), \(email), \(username), \(passwordHash), \(createdAt) WHERE \(fence: epoch)
            RETURNING id
            """
        }

        static func credentials(usernameKey: String) -> PostgresQuery {
            """
            SELECT id, username, password_hash, created_at, credential_version
            FROM users
            WHERE username_key = \(usernameKey)
            """
        }

        static func credentials(email: String) -> PostgresQuery {
            """
            SELECT id, username, password_hash, created_at, credential_version
            FROM users
            WHERE email = \(email)
            """
        }

        static func taken(usernameKey: String, email: String?) -> PostgresQuery {
            """
            SELECT EXISTS (SELECT 1 FROM users WHERE username_key = \(usernameKey)),
                   EXISTS (SELECT 1 FROM users WHERE email = \(email))
            """
        }

        static func profile(userID: Int64) -> PostgresQuery {
            "SELECT username, nickname, description, email, created_at FROM users WHERE id = \(userID)"
        }

        static func updateProfile(userID: Int64, nickname: String, description: String, epoch: Int64?) -> PostgresQuery {
            """
            UPDATE users SET nickname = \(nickname), description = \(description)
            WHERE id = \(userID) AND \(fence: epoch)
            RETURNING username, nickname, description, email, created_at
            """
        }

        static func resetPassword(email: String, passwordHash: String, epoch: Int64?) -> PostgresQuery {
            """
            UPDATE users SET password_hash = \(passwordHash), credential_version = credential_version + 1
            WHERE email = \(email) AND \(fence: epoch)
            RETURNING id
            """
        }
    }

    /// The open, migrated database.
    let database: PostgresDatabase
    /// The epoch writes carry.
    let fence: WriteFence

    func create(username: Username, email: String?, passwordHash: String, now: Date) async throws -> User {
        let createdAt = UnixMilliseconds.from(now)
        let epoch = try self.fence.epochForWrite()
        let rows: [PostgresRow]
        do {
            rows = try await self.database.query(
                SQL.insert(
                    username: username.value, key: username.key, email: email, passwordHash: passwordHash, createdAt: createdAt,
                    epoch: epoch
                )
            )
        } catch where PostgresFailure.isUniqueViolation(error, constraint: SQL.usernameKeyConstraint) {
            // The database decides, so two racing registrations cannot both win.
            throw ParleyError(.usernameTaken, "That username is already taken.")
        } catch where PostgresFailure.isUniqueViolation(error, constraint: SQL.emailConstraint) {
            throw ParleyError(.emailTaken, "That email address already belongs to an account.")
        }
        guard let row = rows.first else {
            throw WriteFence.superseded
        }
        return User(id: try row.decode(Int64.self), username: username.value, createdAt: UnixMilliseconds.date(createdAt))
    }

    func credentials(usernameKey: String) async throws -> UserCredentials? {
        try Self.credentials(in: try await self.database.query(SQL.credentials(usernameKey: usernameKey)))
    }

    func credentials(email: String) async throws -> UserCredentials? {
        try Self.credentials(in: try await self.database.query(SQL.credentials(email: email)))
    }

    private static func credentials(in rows: [PostgresRow]) throws -> UserCredentials? {
        guard let row = rows.first else { return nil }
        let (id, username, passwordHash, createdAt, version) = try row.decode((Int64, String, String, Int64, Int64).self)
        let user = User(id: id, username: username, createdAt: UnixMilliseconds.date(createdAt))
        return UserCredentials(user: user, passwordHash: passwordHash, credentialVersion: version)
    }

    func taken(usernameKey: String, email: String?) async throws -> (username: Bool, email: Bool) {
        let rows = try await self.database.query(SQL.taken(usernameKey: usernameKey, email: email))
        guard let row = rows.first else { throw PostgresUnexpectedResultError(expected: "the answer of EXISTS") }
        let (username, email) = try row.decode((Bool, Bool).self)
        return (username, email)
    }

    func profile(userID: Int64) async throws -> Profile? {
        try Self.profile(in: try await self.database.query(SQL.profile(userID: userID)))
    }

    func updateProfile(userID: Int64, draft: ProfileDraft) async throws -> Profile? {
        let epoch = try self.fence.epochForWrite()
        let rows = try await self.database.query(
            SQL.updateProfile(userID: userID, nickname: draft.nickname, description: draft.description, epoch: epoch)
        )
        if rows.isEmpty { try await PostgresFence.verify(epoch, on: self.database) }
        return try Self.profile(in: rows)
    }

    private static func profile(in rows: [PostgresRow]) throws -> Profile? {
        guard let row = rows.first else { return nil }
        let (username, nickname, description, email, createdAt) = try row.decode((String, String, String, String?, Int64).self)
        return Profile(
            username: username, nickname: nickname, description: description, email: email,
            createdAt: UnixMilliseconds.date(createdAt)
        )
    }

    func resetPassword(email: String, passwordHash: String) async throws -> Int64? {
        let epoch = try self.fence.epochForWrite()
        let rows = try await self.database.query(SQL.resetPassword(email: email, passwordHash: passwordHash, epoch: epoch))
        if rows.isEmpty { try await PostgresFence.verify(epoch, on: self.database) }
        return try rows.first?.decode(Int64.self)
    }
}

/// A statement returned fewer rows than it always does (such as an INSERT … RETURNING without its row).
struct PostgresUnexpectedResultError: Error, CustomStringConvertible {
    /// What was missing.
    let expected: String

    var description: String { "the database did not return \(self.expected)" }
}
