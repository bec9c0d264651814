import Foundation
import ParleyCore
import PostgresNIO

/// The public board in the `posts` table of a PostgreSQL database.
struct PostgresPostRepository: PostRepository {
    /// Every statement this repository runs; values are bound parameters.
    enum SQL {
        static func insert(author: String, userID: Int64?, title: String, body: String, createdAt: Int64) -> PostgresQuery {
            """
            INSERT INTO posts (author, user_id, title, body, created_at)
            VALUES (\(author), \(userID), \(title), \(body), \(createdAt))
            RETURNING id
            """
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

    func create(author: String, userID: Int64?, draft: PostDraft, now: Date) async throws -> Post {
        let createdAt = UnixMilliseconds.from(now)
        let rows = try await self.database.query(
            SQL.insert(author: author, userID: userID, title: draft.title, body: draft.body, createdAt: createdAt)
        )
        guard let row = rows.first else {
            throw PostgresUnexpectedResultError(expected: "the id of the new post")
        }
        return Post(
            id: try row.decode(Int64.self),
            author: author,
            title: draft.title,
            body: draft.body,
            createdAt: UnixMilliseconds.date(createdAt)
        )
    }

    func list(limit: Int, before: Int64?) async throws -> [Post] {
        // PostgreSQL rejects a negative LIMIT; the contract is "at most `limit`".
        guard limit > 0 else { return [] }
        let rows = try await self.database.query(SQL.list(limit: limit, before: before ?? .max))
        return try rows.map { row in
            let (id, author, title, body, createdAt) = try row.decode((Int64, String, String, String, Int64).self)
            return Post(id: id, author: author, title: title, body: body, createdAt: UnixMilliseconds.date(createdAt))
        }
    }
}
