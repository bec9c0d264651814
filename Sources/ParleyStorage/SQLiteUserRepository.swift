import Foundation
import ParleyCore

/// Accounts in the `users` table of a SQLite database.
struct SQLiteUserRepository: UserRepository {
    /// Every statement this repository runs.
    enum SQL {
        static let insert = """
            INSERT INTO users (username, username_key, email, nickname, password_hash, created_at)
            SELECT ?1, ?2, ?3, ?1, ?4, ?5 WHERE \(SQLiteFence.condition(6))
            RETURNING id
            """
        static let credentialsByKey = """
            SELECT id, username, password_hash, created_at, credential_version
            FROM users
            WHERE username_key = ?1
            """
        static let credentialsByEmail = """
            SELECT id, username, password_hash, created_at, credential_version
            FROM users
            WHERE email = ?1
            """
        static let taken = """
            SELECT EXISTS (SELECT 1 FROM users WHERE username_key = ?1) AS username,
                   EXISTS (SELECT 1 FROM users WHERE email = ?2) AS email
            """
        static let profile = """
            SELECT username, nickname, description, email, created_at
            FROM users
            WHERE id = ?1
            """
        static let updateProfile = """
            UPDATE users SET nickname = ?2, description = ?3
            WHERE id = ?1 AND \(SQLiteFence.condition(4))
            RETURNING username, nickname, description, email, created_at
            """
        static let resetPassword = """
            UPDATE users SET password_hash = ?2, credential_version = credential_version + 1
            WHERE email = ?1 AND \(SQLiteFence.condition(3))
            RETURNING id
            """
    }

    /// The open, migrated database.
    let connection: SQLiteHandle
    /// The epoch writes carry.
    let fence: WriteFence

    func create(username: Username, email: String?, passwordHash: String, now: Date) async throws -> User {
        let createdAt = UnixMilliseconds.from(now)
        let epoch = try self.fence.epochForWrite()
        let rows: [SQLiteRow]
        do {
            rows = try await self.connection.query(
                SQL.insert,
                [
                    .text(username.value), .text(username.key), email.map { .text($0) } ?? .null, .text(passwordHash),
                    .integer(createdAt), SQLiteFence.bind(epoch),
                ]
            )
        } catch let error as SQLiteError where error.isUniqueViolation {
            // The database decides, so two racing registrations cannot both win. SQLite names
            // the column that clashed in its message.
            if error.message.contains("users.email") {
                throw ParleyError(.emailTaken, "That email address already belongs to an account.")
            }
            throw ParleyError(.usernameTaken, "That username is already taken.")
        }
        guard let row = rows.first else {
            throw WriteFence.superseded
        }
        return User(id: try row.int64("id"), username: username.value, createdAt: UnixMilliseconds.date(createdAt))
    }

    func credentials(usernameKey: String) async throws -> UserCredentials? {
        try Self.credentials(in: try await self.connection.query(SQL.credentialsByKey, [.text(usernameKey)]))
    }

    func credentials(email: String) async throws -> UserCredentials? {
        try Self.credentials(in: try await self.connection.query(SQL.credentialsByEmail, [.text(email)]))
    }

    private static func credentials(in rows: [SQLiteRow]) throws -> UserCredentials? {
        guard let row = rows.first else { return nil }
        let user = User(
            id: try row.int64("id"),
            username: try row.text("username"),
            createdAt: UnixMilliseconds.date(try row.int64("created_at"))
        )
        return UserCredentials(
            user: user, passwordHash: try row.text("password_hash"), credentialVersion: try row.int64("credential_version")
        )
    }

    func taken(usernameKey: String, email: String?) async throws -> (username: Bool, email: Bool) {
        let rows = try await self.connection.query(SQL.taken, [.text(usernameKey), email.map { .text($0) } ?? .null])
        guard let row = rows.first else { throw UnexpectedRowError(column: "username", found: nil) }
        return (try row.int64("username") != 0, try row.int64("email") != 0)
    }

    func profile(userID: Int64) async throws -> Profile? {
        try Self.profile(in: try await self.connection.query(SQL.profile, [.integer(userID)]))
    }

    func updateProfile(userID: Int64, draft: ProfileDraft) async throws -> Profile? {
        let epoch = try self.fence.epochForWrite()
        let rows = try await self.connection.query(
            SQL.updateProfile,
            [.integer(userID), .text(draft.nickname), .text(draft.description), SQLiteFence.bind(epoch)]
        )
        if rows.isEmpty { try await SQLiteFence.verify(epoch, on: self.connection) }
        return try Self.profile(in: rows)
    }

    private static func profile(in rows: [SQLiteRow]) throws -> Profile? {
        guard let row = rows.first else { return nil }
        let email: String? = if case .null? = row.column("email") { nil } else { try row.text("email") }
        return Profile(
            username: try row.text("username"),
            nickname: try row.text("nickname"),
            description: try row.text("description"),
            email: email,
            createdAt: UnixMilliseconds.date(try row.int64("created_at"))
        )
    }

    func resetPassword(email: String, passwordHash: String) async throws -> Int64? {
        let epoch = try self.fence.epochForWrite()
        let rows = try await self.connection.query(SQL.resetPassword, [.text(email), .text(passwordHash), SQLiteFence.bind(epoch)])
        if rows.isEmpty { try await SQLiteFence.verify(epoch, on: self.connection) }
        return try rows.first?.int64("id")
    }
}
