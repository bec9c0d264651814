import ParleyCore

/// Writes posts by sessions for ``SQLitePostRepository``, many in one statement: each post's
/// author is the user of its session, checked in the statement that stores it.
struct SQLiteSessionPosts: Sendable {
    /// A post by a session, waiting to be written.
    struct Post: Sendable {
        var tokenHash: String
        var draft: PostDraft
        var createdAt: Int64
        var requestID: String?
    }

    /// A post as stored, and the session that wrote it as found.
    typealias Written = (post: ParleyCore.Post, session: Session)

    /// Posts by sessions, `count` of them: each row of `batch` is five parameters (token
    /// hash, title, body, created at, request id), then the epoch. Each post's author is the
    /// user of its session while that is valid (as `SQLiteSessionRepository.SQL.find`); posts
    /// without one, or all when the fence refuses, are not inserted. One post, the most common
    /// case, has a statement of its own without the `batch` table: SQLite prepared and ran it in
    /// 60–64 µs against 94–102 (measured once, through Python's sqlite3 with no statement cache).
    static func insert(count: Int) -> String {
        guard count > 1 else {
            return """
                INSERT INTO posts (author, user_id, title, body, created_at, request_id)
                SELECT users.username, users.id, ?2, ?3, ?4, ?5
                FROM sessions
                JOIN users ON users.id = sessions.user_id AND users.credential_version = sessions.credential_version
                WHERE sessions.token_hash = ?1 AND sessions.expires_at > ?4 AND \(SQLiteFence.condition(6))
                RETURNING id, author, user_id, request_id, (SELECT expires_at FROM sessions WHERE token_hash = ?1) AS expires_at
                """
        }
        return """
            WITH batch(token_hash, title, body, created_at, request_id) AS (VALUES \(sqliteParameterRows(count, columns: 5)))
            INSERT INTO posts (author, user_id, title, body, created_at, request_id)
            SELECT users.username, users.id, batch.title, batch.body, batch.created_at, batch.request_id
            FROM batch
            JOIN sessions ON sessions.token_hash = batch.token_hash AND sessions.expires_at > batch.created_at
            JOIN users ON users.id = sessions.user_id AND users.credential_version = sessions.credential_version
            WHERE \(SQLiteFence.condition(count * 5 + 1))
            RETURNING id, author, user_id, request_id, (
                SELECT sessions.expires_at FROM batch JOIN sessions ON sessions.token_hash = batch.token_hash
                WHERE batch.request_id IS posts.request_id
            ) AS expires_at
            """
    }

    /// The open, migrated database.
    let connection: SQLiteHandle
    /// The epoch writes carry.
    let fence: WriteFence

    /// Writes a batch in one statement, one transaction; a batch is one post or several with
    /// request ids. When the statement fails (a retried request id in it, say), and for the posts
    /// it did not insert (no valid session), each post is written alone, for its own answer.
    func write(_ batch: [Post]) async -> [Result<Written?, any Error>] {
        let written = batch.count > 1 ? await self.writeTogether(batch).mapValues { Optional($0) } : [:]
        return await eachResult(of: batch, written: written, key: \.requestID, alone: self.write)
    }

    /// The posts of `batch` written in one statement, by request id: those with a valid session;
    /// none when the request ids repeat (rows are told apart by them) or the statement fails.
    func writeTogether(_ batch: [Post]) async -> [String: Written] {
        // `try?` over the epoch too: unfenced, it is `nil`, which is no reason to skip the batch.
        guard Set(batch.compactMap(\.requestID)).count == batch.count,
            let rows = try? await self.insert(batch, epoch: self.fence.epochForWrite())
        else { return [:] }
        return Dictionary(rows.map { ($0.requestID, $0.written) }, uniquingKeysWith: { first, _ in first })
    }

    /// Writes one post; `nil` when its session is not valid.
    func write(_ post: Post) async throws -> Written? {
        let epoch = try self.fence.epochForWrite()
        do {
            guard let row = try await self.insert([post], epoch: epoch).first else {
                try await SQLiteFence.verify(epoch, on: self.connection)
                return nil
            }
            return row.written
        } catch let error as SQLiteError where SQLitePostRepository.isRetry(error) {
            let sessions = SQLiteSessionRepository(connection: self.connection, fence: self.fence)
            guard let session = try await sessions.find(tokenHash: post.tokenHash, now: UnixMilliseconds.date(post.createdAt)) else {
                return nil
            }
            return (try await SQLitePostRepository.stored(requestID: post.requestID, on: self.connection, else: error), session)
        }
    }

    /// Runs ``insert(count:)`` with the posts of `batch` (their request ids distinct) and the
    /// epoch writes carry; the posts it inserted, by request id (`""` for none).
    private func insert(_ batch: [Post], epoch: Int64?) async throws -> [(requestID: String, written: Written)] {
        var binds: [SQLiteValue] = []
        binds.reserveCapacity(batch.count * 5 + 1)
        for post in batch {
            binds += [
                .text(post.tokenHash), .text(post.draft.title), .text(post.draft.body), .integer(post.createdAt),
                post.requestID.map { .text($0) } ?? .null,
            ]
        }
        binds.append(SQLiteFence.bind(epoch))
        let rows = try await self.connection.query(Self.insert(count: batch.count), binds)
        let posts = Dictionary(batch.map { ($0.requestID ?? "", $0) }, uniquingKeysWith: { first, _ in first })
        return try rows.compactMap { row in
            let requestID = row.column("request_id")?.string ?? ""
            guard let post = posts[requestID] else { return nil }
            let author = try row.text("author")
            let stored = ParleyCore.Post(
                id: try row.int64("id"), author: author, title: post.draft.title, body: post.draft.body,
                createdAt: UnixMilliseconds.date(post.createdAt)
            )
            let session = Session(
                tokenHash: post.tokenHash, userID: try row.int64("user_id"), username: author,
                expiresAt: UnixMilliseconds.date(try row.int64("expires_at"))
            )
            return (requestID, (stored, session))
        }
    }
}
