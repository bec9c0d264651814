import Foundation
import ParleyCore

/// The contract of `ParleyCore.Storage`, written once and run against every backend
/// (`StorageFactory.all`). Each check gets a fresh, empty storage.
enum StorageConformance {
    /// Every check of the suite.
    static let all: [ConformanceCheck] = Self.users + Self.accounts + Self.sessions + Self.posts + Self.fencing + Self.chat

    /// A fixed instant with a sub-millisecond part: 2025-06-15T15:06:40.123756Z.
    static let now = Date(timeIntervalSince1970: 1_750_000_000.123756)

    /// `now` in whole milliseconds since 1970, as every backend must store it: truncated, not rounded.
    static let nowInMilliseconds: Int64 = 1_750_000_000_123

    /// A date in whole milliseconds since 1970 (rounded, to absorb floating-point noise),
    /// so checks do not depend on how a backend builds its `Date` values.
    static func milliseconds(_ date: Date) -> Int64 {
        Int64((date.timeIntervalSince1970 * 1000).rounded())
    }

    /// The error a duplicate username must give, word for word.
    static let usernameTaken = ParleyError(.usernameTaken, "That username is already taken.")

    /// Registers `name` with a hash derived from it.
    @discardableResult
    static func register(_ name: String, in storage: any Storage, now: Date = Self.now) async throws -> User {
        try await storage.users.create(username: try Username(name), passwordHash: "hash-of-\(name)", now: now)
    }

    /// Writes a post as a guest.
    @discardableResult
    static func post(_ title: String, body: String = "body", in storage: any Storage, now: Date = Self.now) async throws -> Post {
        try await storage.posts.create(author: guestAuthor, userID: nil, draft: try PostDraft(title: title, body: body), now: now)
    }
}
