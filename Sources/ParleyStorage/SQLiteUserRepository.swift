import Foundation
import ParleyCore
import SQLiteNIO

/// Accounts in the `users` table of a SQLite database.
struct SQLiteUserRepository: UserRepository {
    /// Every statement this repository runs.
    enum SQL {
        static let insert = """
            INSERT INTO users (username, username_key, password_hash, created_at)
            VALUES (?1, ?2, ?3, ?4)
            RETURNING id
            """
        static let credentials = """
            SELECT id, username, password_hash, created_at
            FROM users
            WHERE username_key = ?1
            """
    }

    /// The open, migrated database.
    let connection: SQLiteConnection

    func create(username: Username, passwordHash: String, now: Date) async throws -> User {
        let createdAt = UnixMilliseconds.from(now)
        let rows: [SQLiteRow]
        do {
            rows = try await self.connection.query(
                SQL.insert,
                [.text(username.value), .text(username.key), .text(passwordHash), .integer(SQLiteInt64(createdAt))]
            )
        } catch let error as SQLiteError where error.reason == .constraintUniqueFailed {
            // The only UNIQUE constraint on `users` is `username_key`: the database decides,
            // so two racing registrations cannot both win.
            throw ParleyError(.usernameTaken, "That username is already taken.")
        }
        guard let row = rows.first else {
            throw UnexpectedRowError(column: "id", found: nil)
        }
        return User(id: try row.int64("id"), username: username.value, createdAt: UnixMilliseconds.date(createdAt))
    }

    func credentials(usernameKey: String) async throws -> UserCredentials? {
        let rows = try await self.connection.query(SQL.credentials, [.text(usernameKey)])
        guard let row = rows.first else { return nil }
        let user = User(
            id: try row.int64("id"),
            username: try row.text("username"),
            createdAt: UnixMilliseconds.date(try row.int64("created_at"))
        )
        return UserCredentials(user: user, passwordHash: try row.text("password_hash"))
    }
}
