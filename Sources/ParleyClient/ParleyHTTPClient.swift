import AsyncHTTPClient
import Foundation
import ParleyCore

/// A client of the gateway's JSON API (`/api/v1`), one method per endpoint.
///
/// Every method throws `ParleyError`: the error the gateway sent, `.unavailable` when the
/// gateway cannot be reached or does not answer within `timeout`, `.tooLarge` when an
/// answer is over `maxResponseBytes`. Passwords and tokens are sent, never logged.
public struct ParleyHTTPClient: Sendable {
    /// The largest response body accepted: 1 MiB.
    public static let maxResponseBytes = 1024 * 1024
    /// The time a request has, from connecting to the last byte of the answer.
    public static let defaultTimeout: Duration = .seconds(10)

    /// The gateway's base URL, normalized (`http://127.0.0.1:8080`).
    public let gateway: String
    /// The time each request has to complete.
    public let timeout: Duration
    /// The HTTP client requests go through.
    let httpClient: HTTPClient

    /// A client of the gateway at `gateway` (`http://host:port`, optionally with a path prefix).
    ///
    /// - Parameters:
    ///   - gateway: The base URL; throws `.invalidInput` unless it is http(s) with a host.
    ///   - httpClient: The HTTP client to use; by default `ParleyHTTPClient.sharedHTTPClient`.
    ///   - timeout: The time each request has to complete; 10 s by default.
    public init(
        gateway: String,
        httpClient: HTTPClient = ParleyHTTPClient.sharedHTTPClient,
        timeout: Duration = ParleyHTTPClient.defaultTimeout
    ) throws(ParleyError) {
        self.gateway = try GatewayAddress.normalize(gateway)
        self.httpClient = httpClient
        self.timeout = timeout
    }

    /// `POST /api/v1/verification-codes`: mails a code for `purpose` (`register` or `reset`) to `email`.
    public func sendCode(email: String, purpose: String) async throws -> SentCode {
        try await self.send(.POST, "/verification-codes", body: CodeRequestBody(email: email, purpose: purpose), expecting: SentCode.self)
    }

    /// `POST /api/v1/accounts`: registers an account and returns it; `email` and the `code` mailed
    /// to it are needed when the gateway verifies addresses.
    public func register(username: String, password: String, email: String? = nil, code: String? = nil) async throws -> User {
        let body = BackendAPI.RegisterParams(username: username, password: password, email: email, code: code)
        return try await self.send(.POST, "/accounts", body: body, expecting: User.self)
    }

    /// `POST /api/v1/password-resets`: sets a new password with the code mailed for a reset.
    public func resetPassword(email: String, code: String, password: String) async throws {
        let body = BackendAPI.ResetParams(email: email, code: code, password: password)
        _ = try await self.exchange(.POST, "/password-resets", body: body, token: nil)
    }

    /// `POST /api/v1/sessions`: logs in with a username or an email address and returns the new session's token.
    public func login(username: String, password: String) async throws -> BackendAPI.LoginResult {
        let body = BackendAPI.LoginParams(username: username, password: password)
        return try await self.send(.POST, "/sessions", body: body, expecting: BackendAPI.LoginResult.self)
    }

    /// `GET /api/v1/me/profile`: the profile of the session's user.
    public func profile(token: String) async throws -> Profile {
        try await self.send(.GET, "/me/profile", token: token, expecting: Profile.self)
    }

    /// `PUT /api/v1/me/profile`: changes nickname and description.
    public func updateProfile(token: String, nickname: String, description: String) async throws -> Profile {
        let body = ProfileEditBody(nickname: nickname, description: description)
        return try await self.send(.PUT, "/me/profile", body: body, token: token, expecting: Profile.self)
    }

    /// `DELETE /api/v1/sessions/current`: ends the session of `token` on the gateway.
    public func logout(token: String) async throws {
        _ = try await self.exchange(.DELETE, "/sessions/current", body: nil, token: token)
    }

    /// `GET /api/v1/me`: the username the session of `token` belongs to.
    public func me(token: String) async throws -> String {
        try await self.send(.GET, "/me", token: token, expecting: MeResponse.self).username
    }

    /// `GET /api/v1/posts`: a page of posts, newest first.
    ///
    /// - Parameters:
    ///   - limit: Page size (the gateway accepts 1–100); nil for the gateway's default.
    ///   - before: The `next` cursor of the previous page; nil for the newest posts.
    public func posts(limit: Int? = nil, before: Int64? = nil) async throws -> PostPage {
        var query: [String] = []
        if let limit { query.append("limit=\(limit)") }
        if let before { query.append("before=\(before)") }
        let path = query.isEmpty ? "/posts" : "/posts?" + query.joined(separator: "&")
        return try await self.send(.GET, path, expecting: PostPage.self)
    }

    /// `POST /api/v1/posts`: writes a post, as the session's user when `token` is given,
    /// else as "Guest".
    public func createPost(title: String, body: String, token: String?) async throws -> Post {
        let newPost = NewPostBody(title: title, body: body)
        return try await self.send(.POST, "/posts", body: newPost, token: token, expecting: Post.self)
    }

    /// `POST /api/v1/chat/ticket`: the chat server to connect to and the ticket to show it.
    public func chatTicket(token: String) async throws -> ChatTicketInfo {
        try await self.send(.POST, "/chat/ticket", token: token, expecting: ChatTicketInfo.self)
    }
}
