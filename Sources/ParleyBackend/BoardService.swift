import Foundation
import JSONRPC
import ParleyCore

/// The public board: the rules of the `Board` JSON-RPC service.
public struct BoardService: Sendable {
    let posts: any PostRepository
    let accounts: AccountService
    let now: @Sendable () -> Date
    let fence: WriteFence
    let newest: NewestPages

    /// Creates the service; `accounts` resolves the author from a session token; `fence` is the
    /// storage's (it tells when the newest pages this backend keeps may be out of date).
    /// `newestPageMaximumAge` bounds how long a kept page may miss posts written by anything
    /// else than this service.
    public init(
        posts: any PostRepository, accounts: AccountService, fence: WriteFence = WriteFence(),
        newestPageMaximumAge: Duration = .seconds(1), now: @escaping @Sendable () -> Date = { Date() }
    ) {
        self.posts = posts
        self.accounts = accounts
        self.now = now
        self.fence = fence
        self.newest = NewestPages(maximumAge: newestPageMaximumAge)
    }

    /// Writes a post as the session's user, or as "Guest" without a token.
    /// A token that is no longer valid is an error, not a silent Guest post.
    public func post(_ params: BackendAPI.PostParams) async throws -> Post {
        let draft = try PostDraft(title: params.title, body: params.body)
        let now = self.now()
        // Whatever the outcome (a write that timed out may still commit), after it the kept
        // newest pages are out of date.
        defer { self.newest.invalidate() }
        guard let token = params.token else {
            return try await self.posts.create(author: guestAuthor, userID: nil, draft: draft, now: now, requestID: params.requestID)
        }
        // The session is checked by the statement that stores the post: one database round trip.
        let tokenHash = AccountService.hash(token: token)
        guard let (post, session) = try await self.posts.create(sessionTokenHash: tokenHash, draft: draft, now: now, requestID: params.requestID)
        else { throw AccountService.notLoggedIn }
        // The post is stored: a failed expiry update must not answer otherwise (a client would
        // post it again); the session slides on its next use instead.
        _ = try? await self.accounts.slide(session, now: now)
        return post
    }

    /// The kept newest page ``listEncoded(_:)`` would answer with, if there is one: it costs no
    /// wait, so the JSON-RPC server answers with it on the event loop. None while this backend
    /// follows another (pages are kept under a fence state, never a follower's).
    public func keptNewestPage(_ params: BackendAPI.ListParams) -> JSONRPCRawResult? {
        guard params.before == nil else { return nil }
        return self.newest.page(limit: params.limit, fence: self.fence.current, now: .now).page
    }

    /// ``list(_:)`` encoded as the JSON-RPC result (`Board.List`); the newest pages (no cursor)
    /// are kept encoded until the next post.
    public func listEncoded(_ params: BackendAPI.ListParams) async throws -> JSONRPCRawResult {
        guard params.before == nil else { return try JSONRPCRawResult(encoding: await self.list(params)) }
        let fence = self.fence.current
        let readAt = ContinuousClock.now
        let (kept, generation) = self.newest.page(limit: params.limit, fence: fence, now: readAt)
        if let kept { return kept }
        let page = try JSONRPCRawResult(encoding: await self.list(params))
        self.newest.store(page, limit: params.limit, fence: fence, generation: generation, readAt: readAt)
        return page
    }

    /// Bytes of posts a page may carry, leaving room for the envelope in a 1 MiB message.
    static let pageBudget = Limits.rpcMessageBytes - 16 * 1024

    /// A page of posts, newest first; fewer than `limit` when they are long.
    public func list(_ params: BackendAPI.ListParams) async throws -> BackendAPI.PostPage {
        guard Limits.pageSize.contains(params.limit) else {
            throw ParleyError(.invalidInput, "limit must be between 1 and 100.")
        }
        // One extra row tells whether there is a next page.
        var posts = try await self.posts.list(limit: params.limit + 1, before: params.before)
        var more = posts.count > params.limit
        if more { posts.removeLast() }
        // A page must fit one JSON-RPC message (1 MiB): stop early when long posts would not,
        // counting each post at its worst-case JSON size (every byte escaped to two).
        var budget = Self.pageBudget
        if let cut = posts.firstIndex(where: { post in
            budget -= 2 * (post.title.utf8.count + post.body.utf8.count + post.author.utf8.count) + 128
            return budget < 0
        }), cut > 0 {
            posts.removeSubrange(cut...)
            more = true
        }
        return .init(posts: posts, next: more ? posts.last.map { String($0.id) } : nil)
    }
}
