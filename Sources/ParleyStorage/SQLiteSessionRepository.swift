import Foundation
import ParleyCore

/// Sessions in the `sessions` table of a SQLite database.
struct SQLiteSessionRepository: SessionRepository {
    /// Every statement this repository runs.
    enum SQL {
        /// Inserts nothing when the account is gone or its password was reset since it was checked.
        static let insert = """
            INSERT INTO sessions (token_hash, user_id, credential_version, expires_at)
            SELECT ?1, id, credential_version, ?3 FROM users
            WHERE id = ?2 AND credential_version = ?4 AND \(SQLiteFence.condition(5))
            RETURNING token_hash
            """
        static let find = """
            SELECT sessions.token_hash, sessions.user_id, users.username, sessions.expires_at
            FROM sessions
            JOIN users ON users.id = sessions.user_id AND users.credential_version = sessions.credential_version
            WHERE sessions.token_hash = ?1 AND sessions.expires_at > ?2
            """
        static let extend = """
            UPDATE sessions SET expires_at = ?2 WHERE token_hash = ?1
            """
        static let delete = """
            DELETE FROM sessions WHERE token_hash = ?1
            """
        static let deleteAll = """
            DELETE FROM sessions WHERE user_id = ?1
            """
        static let deleteExpired = """
            DELETE FROM sessions WHERE expires_at <= ?1 RETURNING token_hash
            """
    }

    /// The open, migrated database.
    let connection: SQLiteHandle
    /// The epoch writes carry.
    let fence: WriteFence

    func create(tokenHash: String, userID: Int64, credentialVersion: Int64, expiresAt: Date) async throws {
        let epoch = try self.fence.epochForWrite()
        let rows = try await self.connection.query(
            SQL.insert,
            [
                .text(tokenHash), .integer(userID), .integer(UnixMilliseconds.from(expiresAt)),
                .integer(credentialVersion), SQLiteFence.bind(epoch),
            ]
        )
        if rows.isEmpty {
            try await SQLiteFence.verify(epoch, on: self.connection)
            throw SessionRefused.error
        }
    }

    func find(tokenHash: String, now: Date) async throws -> Session? {
        let rows = try await self.connection.query(
            SQL.find,
            [.text(tokenHash), .integer(UnixMilliseconds.from(now))]
        )
        guard let row = rows.first else { return nil }
        return Session(
            tokenHash: try row.text("token_hash"),
            userID: try row.int64("user_id"),
            username: try row.text("username"),
            expiresAt: UnixMilliseconds.date(try row.int64("expires_at"))
        )
    }

    func extend(tokenHash: String, until expiresAt: Date) async throws {
        _ = try await self.connection.query(
            SQL.extend,
            [.text(tokenHash), .integer(UnixMilliseconds.from(expiresAt))]
        )
    }

    func delete(tokenHash: String) async throws {
        _ = try await self.connection.query(SQL.delete, [.text(tokenHash)])
    }

    func deleteAll(userID: Int64) async throws {
        _ = try await self.connection.query(SQL.deleteAll, [.integer(userID)])
    }

    func deleteExpired(now: Date) async throws -> Int {
        // RETURNING counts the rows of this statement alone; `changes()` would race with
        // other statements on the shared connection.
        let rows = try await self.connection.query(
            SQL.deleteExpired,
            [.integer(UnixMilliseconds.from(now))]
        )
        return rows.count
    }
}
