import Foundation
import ParleyCore
import Testing

extension StorageConformance {
    /// The `SessionRepository` contract.
    static let sessions: [ConformanceCheck] = [
        ConformanceCheck(name: "sessions: find joins the username", run: Self.findJoinsUsername),
        ConformanceCheck(name: "sessions: find only before expiry", run: Self.findOnlyBeforeExpiry),
        ConformanceCheck(name: "sessions: extend moves the expiry", run: Self.extendMovesExpiry),
        ConformanceCheck(name: "sessions: delete is idempotent", run: Self.deleteIsIdempotent),
        ConformanceCheck(name: "sessions: deleteExpired counts", run: Self.deleteExpiredCounts),
        ConformanceCheck(name: "sessions: database errors are thrown", run: Self.sessionErrorsAreThrown),
    ]

    static func findJoinsUsername(_ storage: any Storage) async throws {
        let user = try await Self.register("Carol", in: storage)
        let expiresAt = Self.now.addingTimeInterval(3600)
        try await storage.sessions.create(tokenHash: "hash-1", userID: user.id, credentialVersion: 0, expiresAt: expiresAt)

        let session = try #require(try await storage.sessions.find(tokenHash: "hash-1", now: Self.now))
        #expect(session.tokenHash == "hash-1")
        #expect(session.userID == user.id)
        #expect(session.username == "Carol")
        #expect(Self.milliseconds(session.expiresAt) == 1_750_003_600_123)
        #expect(try await storage.sessions.find(tokenHash: "hash-2", now: Self.now) == nil)
    }

    static func findOnlyBeforeExpiry(_ storage: any Storage) async throws {
        let user = try await Self.register("Dave", in: storage)
        let expiresAt = Date(timeIntervalSince1970: 1_750_000_100)
        try await storage.sessions.create(tokenHash: "t", userID: user.id, credentialVersion: 0, expiresAt: expiresAt)

        #expect(try await storage.sessions.find(tokenHash: "t", now: expiresAt.addingTimeInterval(-0.001)) != nil)
        #expect(try await storage.sessions.find(tokenHash: "t", now: expiresAt) == nil)
        #expect(try await storage.sessions.find(tokenHash: "t", now: expiresAt.addingTimeInterval(1)) == nil)
    }

    static func extendMovesExpiry(_ storage: any Storage) async throws {
        let user = try await Self.register("Erin", in: storage)
        let first = Date(timeIntervalSince1970: 1_750_000_100)
        let later = Date(timeIntervalSince1970: 1_750_000_900.5)
        try await storage.sessions.create(tokenHash: "t", userID: user.id, credentialVersion: 0, expiresAt: first)
        try await storage.sessions.extend(tokenHash: "t", until: later)

        let session = try #require(try await storage.sessions.find(tokenHash: "t", now: first.addingTimeInterval(1)))
        #expect(Self.milliseconds(session.expiresAt) == 1_750_000_900_500)
        #expect(try await storage.sessions.find(tokenHash: "t", now: later) == nil)

        // Extending a session that does not exist changes nothing and is not an error.
        try await storage.sessions.extend(tokenHash: "missing", until: later)
        #expect(try await storage.sessions.find(tokenHash: "missing", now: first) == nil)
    }

    static func deleteIsIdempotent(_ storage: any Storage) async throws {
        let user = try await Self.register("Frank", in: storage)
        let expiresAt = Self.now.addingTimeInterval(3600)
        try await storage.sessions.create(tokenHash: "a", userID: user.id, credentialVersion: 0, expiresAt: expiresAt)
        try await storage.sessions.create(tokenHash: "b", userID: user.id, credentialVersion: 0, expiresAt: expiresAt)

        try await storage.sessions.delete(tokenHash: "a")
        try await storage.sessions.delete(tokenHash: "a")
        try await storage.sessions.delete(tokenHash: "never-existed")

        #expect(try await storage.sessions.find(tokenHash: "a", now: Self.now) == nil)
        #expect(try await storage.sessions.find(tokenHash: "b", now: Self.now) != nil)
    }

    static func deleteExpiredCounts(_ storage: any Storage) async throws {
        let user = try await Self.register("Grace", in: storage)
        let now = Date(timeIntervalSince1970: 1_750_000_000)
        try await storage.sessions.create(tokenHash: "old", userID: user.id, credentialVersion: 0, expiresAt: now.addingTimeInterval(-60))
        try await storage.sessions.create(tokenHash: "exact", userID: user.id, credentialVersion: 0, expiresAt: now)
        try await storage.sessions.create(tokenHash: "live", userID: user.id, credentialVersion: 0, expiresAt: now.addingTimeInterval(60))

        #expect(try await storage.sessions.deleteExpired(now: now) == 2)
        #expect(try await storage.sessions.deleteExpired(now: now) == 0)
        #expect(try await storage.sessions.find(tokenHash: "live", now: now) != nil)
        #expect(try await storage.sessions.deleteExpired(now: now.addingTimeInterval(120)) == 1)
        #expect(try await storage.sessions.find(tokenHash: "live", now: now) == nil)
    }

    static func sessionErrorsAreThrown(_ storage: any Storage) async throws {
        let user = try await Self.register("Heidi", in: storage)
        let expiresAt = Self.now.addingTimeInterval(3600)

        // A session for an account that does not exist is refused.
        let missingUser = await #expect(throws: ParleyError.self) {
            try await storage.sessions.create(tokenHash: "x", userID: user.id + 1000, credentialVersion: 0, expiresAt: expiresAt)
        }
        #expect(missingUser?.code == .invalidCredentials)
        #expect(try await storage.sessions.find(tokenHash: "x", now: Self.now) == nil)

        // A second session with the same token hash breaks the primary key.
        try await storage.sessions.create(tokenHash: "y", userID: user.id, credentialVersion: 0, expiresAt: expiresAt)
        let duplicate = await #expect(throws: (any Error).self) {
            try await storage.sessions.create(tokenHash: "y", userID: user.id, credentialVersion: 0, expiresAt: expiresAt)
        }
        #expect((duplicate as? ParleyError)?.code != .usernameTaken)
    }
}
