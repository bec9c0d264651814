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
    /// `Account.Check`: `CheckParams` → `Availability`.
    public static let check = "Account.Check"
    /// `Account.ResetPassword`: `ResetParams` → `Empty`.
    public static let resetPassword = "Account.ResetPassword"
    /// `Account.Profile`: `TokenParams` → `Profile`.
    public static let profile = "Account.Profile"
    /// `Account.UpdateProfile`: `ProfileParams` → `Profile`.
    public static let updateProfile = "Account.UpdateProfile"
    /// `Account.Session`: `TokenParams` → `SessionInfo` (error `unauthenticated` when unknown or expired).
    public static let session = "Account.Session"
    /// `Account.Logout`: `TokenParams` → `Empty`.
    public static let logout = "Account.Logout"
    /// `Board.Post`: `PostParams` → `Post`.
    public static let post = "Board.Post"
    /// `Board.List`: `ListParams` → `PostPage`.
    public static let list = "Board.List"

    /// `Chat.User`: `ChatParams` (`userID`) → `ChatUser` (error `not_found`).
    public static let chatUser = "Chat.User"
    /// `Chat.Search`: `ChatParams` (`userID`, `query`, `limit`) → `[ChatUserMatch]`.
    public static let chatSearch = "Chat.Search"
    /// `Chat.Request`: `ChatParams` (`userID`, `otherUserID`, `message`, `alias`) → `FriendRequest`.
    public static let chatRequest = "Chat.Request"
    /// `Chat.Requests`: `ChatParams` (`userID`) → `FriendRequestLists`.
    public static let chatRequests = "Chat.Requests"
    /// `Chat.Accept`: `ChatParams` (`userID`, `friendRequestID`, `alias`) → `AcceptedFriendRequest`.
    public static let chatAccept = "Chat.Accept"
    /// `Chat.Decline`: `ChatParams` (`userID`, `friendRequestID`) → `FriendRequest`.
    public static let chatDecline = "Chat.Decline"
    /// `Chat.Friends`: `ChatParams` (`userID`) → `[Friendship]`.
    public static let chatFriends = "Chat.Friends"
    /// `Chat.Send`: `ChatParams` (`userID`, `otherUserID`, `clientMessageID`, `text`) → `TextReceipt`.
    public static let chatSend = "Chat.Send"
    /// `Chat.Texts`: `ChatParams` (`userID`, `conversationID`, `afterSeq`, `limit`) → `ChatPage`.
    public static let chatTexts = "Chat.Texts"
    /// `Chat.MarkRead`: `ChatParams` (`userID`, `conversationID`, `seq`) → `Empty`.
    public static let chatMarkRead = "Chat.MarkRead"

    /// The ZooKeeper znode under which backends elect their leader; each candidate's znode holds
    /// its JSON-RPC address, `HOST:PORT`.
    public static let electionPath = "/parley/backend/election"

    /// A new account. With email verification on (the default of every role), `email` and the
    /// `code` that was mailed to it are required; the backend checks the code with the verifier.
    public struct RegisterParams: Codable, Sendable {
        /// The username as typed.
        public var username: String
        /// The password as typed.
        public var password: String
        /// The email address as typed.
        public var email: String?
        /// The verification code mailed to `email` for registering.
        public var code: String?
        /// Creates the parameters.
        public init(username: String, password: String, email: String? = nil, code: String? = nil) {
            self.username = username
            self.password = password
            self.email = email
            self.code = code
        }
    }

    /// A login: a username or an email address, and the password.
    public struct LoginParams: Codable, Sendable {
        /// The username or the email address, as typed.
        public var username: String
        /// The password as typed.
        public var password: String
        /// The end user's network address as the gateway saw it, for the per-address limit of failed logins.
        public var clientAddress: String?
        /// Creates the parameters.
        public init(username: String, password: String, clientAddress: String? = nil) {
            self.username = username
            self.password = password
            self.clientAddress = clientAddress
        }
    }

    /// A username and an email address to look up before registering.
    public struct CheckParams: Codable, Sendable {
        /// The username as typed.
        public var username: String?
        /// The email address as typed.
        public var email: String?
        /// The end user's network address as the gateway saw it: questions about email addresses
        /// are limited per client address.
        public var clientAddress: String?
        /// Creates the parameters.
        public init(username: String?, email: String?, clientAddress: String? = nil) {
            self.username = username
            self.email = email
            self.clientAddress = clientAddress
        }
    }

    /// Whether a username and an email address can be used for a new account.
    public struct Availability: Codable, Sendable, Equatable {
        /// `available`, `taken` or `invalid` (breaks the rules; `message` says how); `null` when not asked.
        public var username: String?
        /// `available`, `taken` or `invalid`; `null` when not asked.
        public var email: String?
        /// What is wrong, for a person; `null` when both are available.
        public var message: String?
        /// Creates the value.
        public init(username: String?, email: String?, message: String?) {
            self.username = username
            self.email = email
            self.message = message
        }

        enum CodingKeys: CodingKey { case username, email, message }

        /// Writes `null` rather than leaving a key out.
        public func encode(to encoder: any Encoder) throws {
            var container = encoder.container(keyedBy: CodingKeys.self)
            try container.encode(self.username, forKey: .username)
            try container.encode(self.email, forKey: .email)
            try container.encode(self.message, forKey: .message)
        }
    }

    /// A new password, proved by the code mailed to the account's address for a reset.
    public struct ResetParams: Codable, Sendable {
        /// The account's email address as typed.
        public var email: String
        /// The verification code mailed to it for a reset.
        public var code: String
        /// The new password.
        public var password: String
        /// Creates the parameters.
        public init(email: String, code: String, password: String) {
            self.email = email
            self.code = code
            self.password = password
        }
    }

    /// A profile edit by the session's owner.
    public struct ProfileParams: Codable, Sendable {
        /// The session token of the owner.
        public var token: String
        /// The new nickname.
        public var nickname: String
        /// The new description.
        public var description: String
        /// Creates the parameters.
        public init(token: String, nickname: String, description: String) {
            self.token = token
            self.nickname = nickname
            self.description = description
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
        /// A unique id of this write, kept with the post: the backend applies a retried request once.
        public var requestID: String?
        /// Creates the parameters.
        public init(token: String?, title: String, body: String, requestID: String? = nil) {
            self.token = token
            self.title = title
            self.body = body
            self.requestID = requestID
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

    /// A call of a `Chat.*` method, made by a chat server for the user its ticket named.
    ///
    /// `userID` is who acts: the chat server takes it from the ticket it checked, never from a
    /// client's message (the JSON-RPC port is internal: only gateways and chat servers reach it).
    /// Each method reads the fields its documentation names; the others stay `null`.
    public struct ChatParams: Codable, Sendable, Equatable {
        /// Who acts.
        public var userID: Int64
        /// The other user: a request's target, a text's receiver.
        public var otherUserID: Int64?
        /// A search's username prefix.
        public var query: String?
        /// A page size.
        public var limit: Int?
        /// A friend request's words.
        public var message: String?
        /// The caller's name for the other user.
        public var alias: String?
        /// A friend request.
        public var friendRequestID: Int64?
        /// A conversation.
        public var conversationID: Int64?
        /// Sync after this sequence number.
        public var afterSeq: Int64?
        /// A read mark.
        public var seq: Int64?
        /// A text's client message id.
        public var clientMessageID: String?
        /// A text.
        public var text: String?
        /// Creates the parameters.
        public init(
            userID: Int64, otherUserID: Int64? = nil, query: String? = nil, limit: Int? = nil, message: String? = nil,
            alias: String? = nil, friendRequestID: Int64? = nil, conversationID: Int64? = nil, afterSeq: Int64? = nil,
            seq: Int64? = nil, clientMessageID: String? = nil, text: String? = nil
        ) {
            self.userID = userID
            self.otherUserID = otherUserID
            self.query = query
            self.limit = limit
            self.message = message
            self.alias = alias
            self.friendRequestID = friendRequestID
            self.conversationID = conversationID
            self.afterSeq = afterSeq
            self.seq = seq
            self.clientMessageID = clientMessageID
            self.text = text
        }
    }

    /// An empty result.
    public struct Empty: Codable, Sendable {
        /// Creates it.
        public init() {}
    }
}
