import Foundation
import ParleyCore
import PostgresNIO

/// Accounts in the `users` table of a PostgreSQL database.
struct PostgresUserRepository: UserRepository {
    /// Every statement this repository runs; values are bound parameters.
    enum SQL {
        /// The UNIQUE constraint on `username_key` (migration 1).
        static let usernameKeyConstraint = "users_username_key_unique"

        static func insert(username: String, key: String, passwordHash: String, createdAt: Int64) -> PostgresQuery {
            """
            INSERT INTO users (username, username_key, password_hash, created_at)
            VALUES (\(username), \(key), \(passwordHash), \(createdAt))
            RETURNING id
            """
        }

        static func credentials(usernameKey: String) -> PostgresQuery {
            """
            SELECT id, username, password_hash, created_at
            FROM users
            WHERE username_key = \(usernameKey)
            """
        }
    }

    /// The open, migrated database.
    let database: PostgresDatabase

    func create(username: Username, passwordHash: String, now: Date) async throws -> User {
        let createdAt = UnixMilliseconds.from(now)
        let rows: [PostgresRow]
        do {
            rows = try await self.database.query(
                SQL.insert(username: username.value, key: username.key, passwordHash: passwordHash, createdAt: createdAt)
            )
        } catch where PostgresFailure.isUniqueViolation(error, constraint: SQL.usernameKeyConstraint) {
            // The database decides, so two racing registrations cannot both win.
            throw ParleyError(.usernameTaken, "That username is already taken.")
        }
        guard let row = rows.first else {
            throw PostgresUnexpectedResultError(expected: "the id of the new user")
        }
        return User(id: try row.decode(Int64.self), username: username.value, createdAt: UnixMilliseconds.date(createdAt))
    }

    func credentials(usernameKey: String) async throws -> UserCredentials? {
        let rows = try await self.database.query(SQL.credentials(usernameKey: usernameKey))
        guard let row = rows.first else { return nil }
        let (id, username, passwordHash, createdAt) = try row.decode((Int64, String, String, Int64).self)
        let user = User(id: id, username: username, createdAt: UnixMilliseconds.date(createdAt))
        return UserCredentials(user: user, passwordHash: passwordHash)
    }
}

/// A statement returned fewer rows than it always does (such as an INSERT … RETURNING without its row).
struct PostgresUnexpectedResultError: Error, CustomStringConvertible {
    /// What was missing.
    let expected: String

    var description: String { "the database did not return \(self.expected)" }
}
