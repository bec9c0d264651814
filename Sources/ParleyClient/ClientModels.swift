import Foundation
import ParleyCore

/// The answer to `GET /api/v1/posts`: posts newest first and the cursor of the next page.
public struct PostPage: Sendable, Equatable, Codable {
    /// The posts, newest first.
    public var posts: [Post]
    /// Pass as `before` to get the next (older) page; nil on the last page.
    public var next: Int64?

    /// Creates the page.
    public init(posts: [Post], next: Int64?) {
        self.posts = posts
        self.next = next
    }

    private enum CodingKeys: String, CodingKey {
        case posts, next
    }

    /// Decodes the page; the cursor may be a JSON number or a string of digits.
    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        self.posts = try container.decode([Post].self, forKey: .posts)
        if let number = try? container.decodeIfPresent(Int64.self, forKey: .next) {
            self.next = number
        } else if let text = try container.decodeIfPresent(String.self, forKey: .next) {
            guard let number = Int64(text) else {
                throw DecodingError.dataCorruptedError(forKey: .next, in: container, debugDescription: "not a cursor: \(text)")
            }
            self.next = number
        } else {
            self.next = nil
        }
    }
}

/// The body of `POST /api/v1/posts`.
struct NewPostBody: Encodable {
    var title: String
    var body: String
}

/// The answer to `GET /api/v1/me`.
struct MeResponse: Decodable {
    var username: String
}

/// The body of `POST /api/v1/verification-codes`.
struct CodeRequestBody: Encodable {
    var email: String
    var purpose: String
}

/// The answer to `POST /api/v1/verification-codes`: where the code went and for how long.
public struct SentCode: Sendable, Equatable, Decodable {
    /// The address, normalised.
    public var email: String
    /// `register` or `reset`.
    public var purpose: String
    /// How long the code is valid.
    public var validForSeconds: Int64
    /// How long until a new code may be asked for.
    public var resendAfterSeconds: Int64
}

/// The body of `PUT /api/v1/me/profile`.
struct ProfileEditBody: Encodable {
    var nickname: String
    var description: String
}

/// Where to chat, from `POST /api/v1/chat/ticket`.
public struct ChatTicketInfo: Sendable, Equatable, Decodable {
    /// The chat server's host.
    public var host: String
    /// Its TCP port (framed protocol).
    public var port: Int
    /// Its WebSocket URL.
    public var wsURL: String
    /// The ticket: send it in `authenticate`.
    public var token: String
    /// The chat server's name.
    public var serverName: String
}
