import Foundation
import ParleyCore

/// The public board: the rules of the `Board` JSON-RPC service.
public struct BoardService: Sendable {
    let posts: any PostRepository
    let accounts: AccountService
    let now: @Sendable () -> Date

    /// Creates the service; `accounts` resolves the author from a session token.
    public init(posts: any PostRepository, accounts: AccountService, now: @escaping @Sendable () -> Date = { Date() }) {
        self.posts = posts
        self.accounts = accounts
        self.now = now
    }

    /// Writes a post as the session's user, or as "Guest" without a token.
    /// A token that is no longer valid is an error, not a silent Guest post.
    public func post(_ params: BackendAPI.PostParams) async throws -> Post {
        let draft = try PostDraft(title: params.title, body: params.body)
        var author = guestAuthor
        var userID: Int64?
        if let token = params.token {
            let session = try await self.accounts.session(.init(token: token))
            author = session.username
            userID = session.userID
        }
        return try await self.posts.create(author: author, userID: userID, draft: draft, now: self.now())
    }

    /// A page of posts, newest first.
    public func list(_ params: BackendAPI.ListParams) async throws -> BackendAPI.PostPage {
        guard Limits.pageSize.contains(params.limit) else {
            throw ParleyError(.invalidInput, "limit must be between 1 and 100.")
        }
        // One extra row tells whether there is a next page.
        var posts = try await self.posts.list(limit: params.limit + 1, before: params.before)
        var next: String?
        if posts.count > params.limit {
            posts.removeLast()
            next = posts.last.map { String($0.id) }
        }
        return .init(posts: posts, next: next)
    }
}
