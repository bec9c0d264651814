import Foundation

/// The JSON-RPC contract between gateway and backend: method names and their parameters.
///
/// Every parameter and result is a JSON object, so a Go client can call the backend with
/// `client.Call("Board.List", BoardListParams{…}, &reply)`.
public enum BackendAPI {
    /// `Account.Register`: `RegisterParams` → `User`.
    public static let register = "Account.Register"
    /// `Account.Login`: `LoginParams` → `LoginResult`.
    public static let login = "Account.Login"
    /// `Account.Session`: `TokenParams` → `SessionInfo` (error `unauthenticated` when unknown or expired).
    public static let session = "Account.Session"
    /// `Account.Logout`: `TokenParams` → `Empty`.
    public static let logout = "Account.Logout"
    /// `Board.Post`: `PostParams` → `Post`.
    public static let post = "Board.Post"
    /// `Board.List`: `ListParams` → `PostPage`.
    public static let list = "Board.List"

    /// Username and password, for registering and for logging in.
    public struct Credentials: Codable, Sendable {
        /// The username as typed.
        public var username: String
        /// The password as typed.
        public var password: String
        /// Creates the pair.
        public init(username: String, password: String) {
            self.username = username
            self.password = password
        }
    }

    /// A new session.
    public struct LoginResult: Codable, Sendable {
        /// The bearer token; shown once, stored only hashed.
        public var token: String
        /// The username as registered.
        public var username: String
        /// When the session expires unless used.
        @ISO8601Date public var expiresAt: Date
        /// Creates the result.
        public init(token: String, username: String, expiresAt: Date) {
            self.token = token
            self.username = username
            self.expiresAt = expiresAt
        }
    }

    /// A session token.
    public struct TokenParams: Codable, Sendable {
        /// The bearer token.
        public var token: String
        /// Creates the parameters.
        public init(token: String) { self.token = token }
    }

    /// Who a session belongs to.
    public struct SessionInfo: Codable, Sendable {
        /// The account id.
        public var userID: Int64
        /// The username.
        public var username: String
        /// When the session expires unless used.
        @ISO8601Date public var expiresAt: Date
        /// Creates the value.
        public init(userID: Int64, username: String, expiresAt: Date) {
            self.userID = userID
            self.username = username
            self.expiresAt = expiresAt
        }
    }

    /// A new post. The author comes from the session token, never from a field:
    /// without a token the post is written as "Guest".
    public struct PostParams: Codable, Sendable {
        /// The session token, if the writer is logged in.
        public var token: String?
        /// The title.
        public var title: String
        /// The body.
        public var body: String
        /// Creates the parameters.
        public init(token: String?, title: String, body: String) {
            self.token = token
            self.title = title
            self.body = body
        }
    }

    /// A page request: newest first, optionally only posts older than `before`.
    public struct ListParams: Codable, Sendable {
        /// Page size, 1–100.
        public var limit: Int
        /// The cursor from the previous page.
        public var before: Int64?
        /// Creates the parameters.
        public init(limit: Int, before: Int64?) {
            self.limit = limit
            self.before = before
        }
    }

    /// A page of posts and the cursor of the next one (`null` on the last page).
    ///
    /// The gateway serves this JSON verbatim as the body of `GET /api/v1/posts`.
    public struct PostPage: Codable, Sendable {
        /// The posts, newest first.
        public var posts: [Post]
        /// Pass as `before` to get the next page.
        public var next: String?
        /// Creates the page.
        public init(posts: [Post], next: String?) {
            self.posts = posts
            self.next = next
        }

        enum CodingKeys: CodingKey { case posts, next }

        /// Writes `"next": null` on the last page instead of leaving the key out.
        public func encode(to encoder: any Encoder) throws {
            var container = encoder.container(keyedBy: CodingKeys.self)
            try container.encode(self.posts, forKey: .posts)
            try container.encode(self.next, forKey: .next)
        }
    }

    /// An empty result.
    public struct Empty: Codable, Sendable {
        /// Creates it.
        public init() {}
    }
}
