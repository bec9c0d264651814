import Foundation
import ParleyCore

/// The public board in the `posts` table of a SQLite database.
struct SQLitePostRepository: PostRepository {
    /// Every statement this repository runs.
    enum SQL {
        /// Inserts nothing when the fence refuses (another backend leads since).
        static let insert = """
            INSERT INTO posts (author, user_id, title, body, created_at, request_id)
            SELECT ?1, ?2, ?3, ?4, ?5, ?6 WHERE \(SQLiteFence.condition(7))
            RETURNING id
            """
        static let byRequestID = """
            SELECT id, author, title, body, created_at FROM posts WHERE request_id = ?1
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
    let connection: SQLiteHandle
    /// The epoch writes carry.
    let fence: WriteFence

    func create(author: String, userID: Int64?, draft: PostDraft, now: Date, requestID: String?) async throws -> Post {
        let createdAt = UnixMilliseconds.from(now)
        let epoch = try self.fence.epochForWrite()
        let rows: [SQLiteRow]
        do {
            rows = try await self.connection.query(
                SQL.insert,
                [
                    .text(author),
                    userID.map { .integer($0) } ?? .null,
                    .text(draft.title),
                    .text(draft.body),
                    .integer(createdAt),
                    requestID.map { .text($0) } ?? .null,
                    SQLiteFence.bind(epoch),
                ]
            )
        } catch let error as SQLiteError where Self.isRetry(error) {
            return try await Self.stored(requestID: requestID, on: self.connection, else: error)
        }
        guard let row = rows.first else {
            throw WriteFence.superseded
        }
        return Post(
            id: try row.int64("id"),
            author: author,
            title: draft.title,
            body: draft.body,
            createdAt: UnixMilliseconds.date(createdAt)
        )
    }

    /// Posts by sessions with a request id, written together (one statement, one commit) when
    /// they come at the same time.
    let sessionPosts: GroupCommit<SQLiteSessionPosts.Post, SQLiteSessionPosts.Written?>
    /// Writes them.
    let sessionPostWriter: SQLiteSessionPosts

    init(connection: SQLiteHandle, fence: WriteFence) {
        self.connection = connection
        self.fence = fence
        let writer = SQLiteSessionPosts(connection: connection, fence: fence)
        self.sessionPostWriter = writer
        self.sessionPosts = GroupCommit(maximumBatch: 64) { batch in await writer.write(batch) }
    }

    func create(sessionTokenHash: String, draft: PostDraft, now: Date, requestID: String?) async throws -> (post: Post, session: Session)? {
        let post = SQLiteSessionPosts.Post(tokenHash: sessionTokenHash, draft: draft, createdAt: UnixMilliseconds.from(now), requestID: requestID)
        // Without a request id, a post's row cannot be told apart in the answer to a batch.
        guard requestID != nil else {
            return try await self.sessionPostWriter.write(post)
        }
        return try await self.sessionPosts.submit(post)
    }

    /// Whether an insert failed because its request id is stored: a retry of a post.
    static func isRetry(_ error: SQLiteError) -> Bool {
        error.isUniqueViolation && error.message.contains("posts.request_id")
    }

    /// The post stored with `requestID`, or `error` when there is none.
    static func stored(requestID: String?, on connection: SQLiteHandle, else error: some Error) async throws -> Post {
        let rows = try await connection.query(SQL.byRequestID, [.text(requestID ?? "")])
        guard let post = try rows.first.map(Self.post) else { throw error }
        return post
    }

    func list(limit: Int, before: Int64?) async throws -> [Post] {
        // A negative LIMIT means "no limit" to SQLite; the contract is "at most `limit`".
        guard limit > 0 else { return [] }
        let rows = try await self.connection.query(
            SQL.list,
            [.integer(Int64(limit)), .integer(before ?? .max)]
        )
        return try rows.map(Self.post)
    }

    private static func post(_ row: SQLiteRow) throws -> Post {
        Post(
            id: try row.int64("id"),
            author: try row.text("author"),
            title: try row.text("title"),
            body: try row.text("body"),
            createdAt: UnixMilliseconds.date(try row.int64("created_at"))
        )
    }
}
