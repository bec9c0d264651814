import Foundation
import ParleyCore
import PostgresNIO

/// The public board in the `posts` table of a PostgreSQL database.
struct PostgresPostRepository: PostRepository {
    /// Every statement this repository runs; values are bound parameters.
    enum SQL {
        /// The UNIQUE index on `request_id` (migration 3).
        static let requestIDConstraint = "posts_request_id_unique"

        /// Inserts nothing when the fence refuses (another backend leads since).
        static func insert(
            author: String, userID: Int64?, title: String, body: String, createdAt: Int64, requestID: String?, epoch: Int64?
        ) -> PostgresQuery {
            """
            INSERT INTO posts (author, user_id, title, body, created_at, request_id)
            SELECT \(author), \(userID), \(title), \(body), \(createdAt), \(requestID) WHERE \(fence: epoch)
            RETURNING id
            """
        }

        /// The author is the user of a valid session (as `PostgresSessionRepository.SQL.find`);
        /// inserts nothing without one, or when the fence refuses.
        static func insertBySession(
            tokenHash: String, title: String, body: String, createdAt: Int64, requestID: String?, epoch: Int64?
        ) -> PostgresQuery {
            """
            INSERT INTO posts (author, user_id, title, body, created_at, request_id)
            SELECT users.username, users.id, \(title), \(body), \(createdAt), \(requestID)
            FROM sessions
            JOIN users ON users.id = sessions.user_id AND users.credential_version = sessions.credential_version
            WHERE sessions.token_hash = \(tokenHash) AND sessions.expires_at > \(createdAt) AND \(fence: epoch)
            RETURNING id, author, user_id, (SELECT expires_at FROM sessions WHERE token_hash = \(tokenHash))
            """
        }

        static func byRequestID(_ requestID: String) -> PostgresQuery {
            "SELECT id, author, title, body, created_at FROM posts WHERE request_id = \(requestID)"
        }

        static func list(limit: Int, before: Int64) -> PostgresQuery {
            """
            SELECT id, author, title, body, created_at
            FROM posts
            WHERE id < \(before)
            ORDER BY id DESC
            LIMIT \(Int64(limit))
            """
        }
    }

    /// The open, migrated database.
    let database: PostgresDatabase
    /// The epoch writes carry.
    let fence: WriteFence

    func create(author: String, userID: Int64?, draft: PostDraft, now: Date, requestID: String?) async throws -> Post {
        let createdAt = UnixMilliseconds.from(now)
        let epoch = try self.fence.epochForWrite()
        let rows: [PostgresRow]
        do {
            rows = try await self.database.query(
                SQL.insert(
                    author: author, userID: userID, title: draft.title, body: draft.body, createdAt: createdAt,
                    requestID: requestID, epoch: epoch
                )
            )
        } catch where PostgresFailure.isUniqueViolation(error, constraint: SQL.requestIDConstraint) {
            return try await self.stored(requestID: requestID, else: error)
        }
        guard let row = rows.first else {
            throw WriteFence.superseded
        }
        return Post(
            id: try row.decode(Int64.self),
            author: author,
            title: draft.title,
            body: draft.body,
            createdAt: UnixMilliseconds.date(createdAt)
        )
    }

    func create(sessionTokenHash: String, draft: PostDraft, now: Date, requestID: String?) async throws -> (post: Post, session: Session)? {
        let createdAt = UnixMilliseconds.from(now)
        let epoch = try self.fence.epochForWrite()
        let rows: [PostgresRow]
        do {
            rows = try await self.database.query(
                SQL.insertBySession(
                    tokenHash: sessionTokenHash, title: draft.title, body: draft.body, createdAt: createdAt,
                    requestID: requestID, epoch: epoch
                )
            )
        } catch where PostgresFailure.isUniqueViolation(error, constraint: SQL.requestIDConstraint) {
            let sessions = PostgresSessionRepository(database: self.database, fence: self.fence)
            guard let session = try await sessions.find(tokenHash: sessionTokenHash, now: now) else { return nil }
            return (try await self.stored(requestID: requestID, else: error), session)
        }
        guard let row = rows.first else {
            try await PostgresFence.verify(epoch, on: self.database)
            return nil
        }
        let (id, author, userID, expiresAt) = try row.decode((Int64, String, Int64, Int64).self)
        let post = Post(id: id, author: author, title: draft.title, body: draft.body, createdAt: UnixMilliseconds.date(createdAt))
        return (post, Session(tokenHash: sessionTokenHash, userID: userID, username: author, expiresAt: UnixMilliseconds.date(expiresAt)))
    }

    /// The post stored with `requestID`, or `error` when there is none.
    private func stored(requestID: String?, else error: some Error) async throws -> Post {
        guard let row = try await self.database.query(SQL.byRequestID(requestID ?? "")).first else { throw error }
        return try Self.post(row)
    }

    func list(limit: Int, before: Int64?) async throws -> [Post] {
        // PostgreSQL rejects a negative LIMIT; the contract is "at most `limit`".
        guard limit > 0 else { return [] }
        let rows = try await self.database.query(SQL.list(limit: limit, before: before ?? .max))
        return try rows.map(Self.post)
    }

    private static func post(_ row: PostgresRow) throws -> Post {
        let (id, author, title, body, createdAt) = try row.decode((Int64, String, String, String, Int64).self)
        return Post(id: id, author: author, title: title, body: body, createdAt: UnixMilliseconds.date(createdAt))
    }
}
