import Foundation
import ParleyCore
import PostgresNIO

/// Sessions in the `sessions` table of a PostgreSQL database.
struct PostgresSessionRepository: SessionRepository {
    /// Every statement this repository runs; values are bound parameters.
    enum SQL {
        /// Inserts nothing when the account is gone or its password was reset since it was checked.
        static func insert(tokenHash: String, userID: Int64, credentialVersion: Int64, expiresAt: Int64, epoch: Int64?) -> PostgresQuery {
            """
            INSERT INTO sessions (token_hash, user_id, credential_version, expires_at)
            SELECT \(tokenHash), id, credential_version, \(expiresAt) FROM users
            WHERE id = \(userID) AND credential_version = \(credentialVersion) AND \(fence: epoch)
            RETURNING token_hash
            """
        }

        static func find(tokenHash: String, now: Int64) -> PostgresQuery {
            """
            SELECT sessions.token_hash, sessions.user_id, users.username, sessions.expires_at
            FROM sessions
            JOIN users ON users.id = sessions.user_id AND users.credential_version = sessions.credential_version
            WHERE sessions.token_hash = \(tokenHash) AND sessions.expires_at > \(now)
            """
        }

        static func extend(tokenHash: String, expiresAt: Int64) -> PostgresQuery {
            "UPDATE sessions SET expires_at = \(expiresAt) WHERE token_hash = \(tokenHash)"
        }

        static func delete(tokenHash: String) -> PostgresQuery {
            "DELETE FROM sessions WHERE token_hash = \(tokenHash)"
        }

        static func deleteAll(userID: Int64) -> PostgresQuery {
            "DELETE FROM sessions WHERE user_id = \(userID)"
        }

        /// Counts in the same statement, so concurrent deletes are not counted.
        static func deleteExpired(now: Int64) -> PostgresQuery {
            """
            WITH deleted AS (DELETE FROM sessions WHERE expires_at <= \(now) RETURNING 1)
            SELECT count(*) FROM deleted
            """
        }
    }

    /// The open, migrated database.
    let database: PostgresDatabase
    /// The epoch writes carry.
    let fence: WriteFence

    func create(tokenHash: String, userID: Int64, credentialVersion: Int64, expiresAt: Date) async throws {
        let epoch = try self.fence.epochForWrite()
        let rows = try await self.database.query(
            SQL.insert(
                tokenHash: tokenHash, userID: userID, credentialVersion: credentialVersion,
                expiresAt: UnixMilliseconds.from(expiresAt), epoch: epoch
            )
        )
        if rows.isEmpty {
            try await PostgresFence.verify(epoch, on: self.database)
            throw SessionRefused.error
        }
    }

    func find(tokenHash: String, now: Date) async throws -> Session? {
        let rows = try await self.database.query(SQL.find(tokenHash: tokenHash, now: UnixMilliseconds.from(now)))
        guard let row = rows.first else { return nil }
        let (hash, userID, username, expiresAt) = try row.decode((String, Int64, String, Int64).self)
        return Session(tokenHash: hash, userID: userID, username: username, expiresAt: UnixMilliseconds.date(expiresAt))
    }

    func extend(tokenHash: String, until expiresAt: Date) async throws {
        _ = try await self.database.query(
            SQL.extend(tokenHash: tokenHash, expiresAt: UnixMilliseconds.from(expiresAt))
        )
    }

    func delete(tokenHash: String) async throws {
        _ = try await self.database.query(SQL.delete(tokenHash: tokenHash))
    }

    func deleteAll(userID: Int64) async throws {
        _ = try await self.database.query(SQL.deleteAll(userID: userID))
    }

    func deleteExpired(now: Date) async throws -> Int {
        let rows = try await self.database.query(SQL.deleteExpired(now: UnixMilliseconds.from(now)))
        guard let row = rows.first else {
            throw PostgresUnexpectedResultError(expected: "the number of deleted sessions")
        }
        return Int(try row.decode(Int64.self))
    }
}
