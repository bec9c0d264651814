import Foundation
import JSONRPC
import ParleyBackend
import ParleyCore
import ParleyStorage
import Synchronization
import Testing

/// The backend keeps the board's newest pages encoded (`Board.List` without a cursor): what a
/// reader gets must be what a fresh read of the database gives, except for posts written past
/// this backend, which show within the maximum age.
@Suite struct NewestPagesTests {
    static func titles(_ page: JSONRPCRawResult) throws -> [String] {
        try JSONDecoder().decode(BackendAPI.PostPage.self, from: Data(page.json.readableBytesView)).posts.map(\.title)
    }

    static func object(_ page: JSONRPCRawResult) throws -> NSDictionary? {
        try JSONSerialization.jsonObject(with: Data(page.json.readableBytesView)) as? NSDictionary
    }

    static func post(_ title: String) throws -> PostDraft { try PostDraft(title: title, body: "body of \(title)") }

    @Test func everyPostIsInTheNextNewestPage() async throws {
        let storage = try await SQLiteStorage.open(path: ":memory:")
        let accounts = AccountService(users: storage.users, sessions: storage.sessions, bcryptCost: 4)
        let board = BoardService(posts: storage.posts, accounts: accounts, newestPageMaximumAge: .seconds(3600))
        #expect(try Self.titles(await board.listEncoded(.init(limit: 2, before: nil))) == [])
        for title in ["one", "two", "three"] {
            _ = try await board.post(.init(token: nil, title: title, body: "x"))
            #expect(try Self.titles(await board.listEncoded(.init(limit: 2, before: nil))).first == title)
        }
        // Each page size is kept apart; the same bytes as the page read from the database.
        #expect(try Self.titles(await board.listEncoded(.init(limit: 1, before: nil))) == ["three"])
        let kept = try await board.listEncoded(.init(limit: 2, before: nil))
        let fresh = try JSONRPCRawResult(encoding: await board.list(.init(limit: 2, before: nil)))
        #expect(try Self.object(kept) == Self.object(fresh))
        #expect(try Self.titles(await board.listEncoded(.init(limit: 2, before: 2))) == ["one"])
        // The page the JSON-RPC server answers with at once is the kept one, and only that.
        #expect(try board.keptNewestPage(.init(limit: 2, before: nil)).flatMap(Self.object) == Self.object(kept))
        #expect(board.keptNewestPage(.init(limit: 2, before: 2)) == nil)
        #expect(board.keptNewestPage(.init(limit: 3, before: nil)) == nil)
        // A refused post (bad input) changes nothing, and the pages stay right.
        await #expect(throws: ParleyError.self) { try await board.post(.init(token: nil, title: "", body: "x")) }
        #expect(try Self.titles(await board.listEncoded(.init(limit: 2, before: nil))) == ["three", "two"])
        try await storage.close()
    }

    /// A page read while a post is being written may miss it: it is answered, not kept.
    @Test func aPageReadDuringAPostIsNotKept() async throws {
        let storage = try await SQLiteStorage.open(path: ":memory:")
        let gated = GatedPosts(storage.posts)
        let accounts = AccountService(users: storage.users, sessions: storage.sessions, bcryptCost: 4)
        let board = BoardService(posts: gated, accounts: accounts, newestPageMaximumAge: .seconds(3600))
        _ = try await board.post(.init(token: nil, title: "old", body: "x"))

        let (reading, stalled) = AsyncStream<Void>.makeStream()
        gated.stallNextList(reading: stalled)
        let slowRead = Task { try await board.listEncoded(.init(limit: 10, before: nil)) }
        for await _ in reading { break }  // the read has begun and waits
        // The read happened before the post: it answers without it…
        let listed = try await storage.posts.list(limit: 10, before: nil)
        _ = try await board.post(.init(token: nil, title: "new", body: "x"))
        gated.release(with: listed)
        #expect(try Self.titles(await slowRead.value) == ["old"])
        #expect(board.keptNewestPage(.init(limit: 10, before: nil)) == nil)  // not kept
        // …and the next reader gets the post.
        #expect(try Self.titles(await board.listEncoded(.init(limit: 10, before: nil))) == ["new", "old"])
        try await storage.close()
    }

    /// Posts written past this service (a second backend on the same database, or this
    /// backend's leadership lost and won back) show once the fence changes or the page ages.
    @Test func postsWrittenElsewhereShowAfterAFenceChangeOrTheMaximumAge() async throws {
        let storage = try await SQLiteStorage.open(path: ":memory:")
        let accounts = AccountService(users: storage.users, sessions: storage.sessions, bcryptCost: 4)
        let fence = WriteFence(.leading(epoch: 1))
        let board = BoardService(posts: storage.posts, accounts: accounts, fence: fence, newestPageMaximumAge: .milliseconds(300))
        #expect(try Self.titles(await board.listEncoded(.init(limit: 5, before: nil))) == [])

        _ = try await storage.posts.create(author: "Guest", userID: nil, draft: Self.post("elsewhere"), now: Date(), requestID: nil)
        #expect(try Self.titles(await board.listEncoded(.init(limit: 5, before: nil))) == [])  // kept
        #expect(board.keptNewestPage(.init(limit: 5, before: nil)) != nil)
        fence.set(.following(leader: "b2"))
        #expect(board.keptNewestPage(.init(limit: 5, before: nil)) == nil)
        // A page read while following (as a read that passed the leader check just before the
        // lead was lost is) is not kept: a follower gives none at once.
        _ = try await board.listEncoded(.init(limit: 5, before: nil))
        #expect(board.keptNewestPage(.init(limit: 5, before: nil)) == nil)
        fence.set(.leading(epoch: 2))
        #expect(board.keptNewestPage(.init(limit: 5, before: nil)) == nil)
        #expect(try Self.titles(await board.listEncoded(.init(limit: 5, before: nil))) == ["elsewhere"])

        _ = try await storage.posts.create(author: "Guest", userID: nil, draft: Self.post("later"), now: Date(), requestID: nil)
        #expect(try Self.titles(await board.listEncoded(.init(limit: 5, before: nil))) == ["elsewhere"])  // kept
        try await Task.sleep(for: .milliseconds(400))
        #expect(try Self.titles(await board.listEncoded(.init(limit: 5, before: nil))) == ["later", "elsewhere"])
        try await storage.close()
    }
}

/// Posts whose next `list` waits until the test releases it with the rows to answer.
final class GatedPosts: PostRepository {
    private struct Gate {
        var reading: AsyncStream<Void>.Continuation?
        var waiting: CheckedContinuation<[Post], Never>?
    }

    private let posts: any PostRepository
    private let gate = Mutex(Gate())

    init(_ posts: any PostRepository) {
        self.posts = posts
    }

    /// The next `list` tells `reading` when it has begun, then waits for ``release(with:)``.
    func stallNextList(reading: AsyncStream<Void>.Continuation) {
        self.gate.withLock { $0.reading = reading }
    }

    func release(with rows: [Post]) {
        self.gate.withLock { gate in
            defer { gate.waiting = nil }
            return gate.waiting
        }?.resume(returning: rows)
    }

    func create(author: String, userID: Int64?, draft: PostDraft, now: Date, requestID: String?) async throws -> Post {
        try await self.posts.create(author: author, userID: userID, draft: draft, now: now, requestID: requestID)
    }

    func create(sessionTokenHash: String, draft: PostDraft, now: Date, requestID: String?) async throws -> (post: Post, session: Session)? {
        try await self.posts.create(sessionTokenHash: sessionTokenHash, draft: draft, now: now, requestID: requestID)
    }

    func list(limit: Int, before: Int64?) async throws -> [Post] {
        guard let reading = self.gate.withLock({ gate in defer { gate.reading = nil }; return gate.reading }) else {
            return try await self.posts.list(limit: limit, before: before)
        }
        return await withCheckedContinuation { continuation in
            self.gate.withLock { $0.waiting = continuation }
            reading.yield()
            reading.finish()
        }
    }
}
