import Foundation
import ParleyCore
import SQLiteNIO

/// The public board in the `posts` table of a SQLite database.
struct SQLitePostRepository: PostRepository {
    /// Every statement this repository runs.
    enum SQL {
        static let insert = """
            INSERT INTO posts (author, user_id, title, body, created_at)
            VALUES (?1, ?2, ?3, ?4, ?5)
            RETURNING id
            """
        static let list = """
            SELECT id, author, title, body, created_at
            FROM posts
            WHERE id < ?2
            ORDER BY id DESC
            LIMIT ?1
            """
    }

    /// The open, migrated database.
    let connection: SQLiteConnection

    func create(author: String, userID: Int64?, draft: PostDraft, now: Date) async throws -> Post {
        let createdAt = UnixMilliseconds.from(now)
        let rows = try await self.connection.query(
            SQL.insert,
            [
                .text(author),
                userID.map { .integer(SQLiteInt64($0)) } ?? .null,
                .text(draft.title),
                .text(draft.body),
                .integer(SQLiteInt64(createdAt)),
            ]
        )
        guard let row = rows.first else {
            throw UnexpectedRowError(column: "id", found: nil)
        }
        return Post(
            id: try row.int64("id"),
            author: author,
            title: draft.title,
            body: draft.body,
            createdAt: UnixMilliseconds.date(createdAt)
        )
    }

    func list(limit: Int, before: Int64?) async throws -> [Post] {
        // A negative LIMIT means "no limit" to SQLite; the contract is "at most `limit`".
        guard limit > 0 else { return [] }
        let rows = try await self.connection.query(
            SQL.list,
            [.integer(SQLiteInt64(limit)), .integer(SQLiteInt64(before ?? .max))]
        )
        return try rows.map { row in
            Post(
                id: try row.int64("id"),
                author: try row.text("author"),
                title: try row.text("title"),
                body: try row.text("body"),
                createdAt: UnixMilliseconds.date(try row.int64("created_at"))
            )
        }
    }
}
