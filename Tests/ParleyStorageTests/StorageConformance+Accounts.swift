import Foundation
import ParleyCore
import Testing

extension StorageConformance {
    /// The parts of `UserRepository` and `SessionRepository` of issue 5: email, profile, reset.
    static let accounts: [ConformanceCheck] = [
        ConformanceCheck(name: "accounts: email is stored, found and unique", run: Self.emailIsUnique),
        ConformanceCheck(name: "accounts: taken reports name and email", run: Self.takenReportsBoth),
        ConformanceCheck(name: "accounts: profile defaults and edits", run: Self.profileDefaultsAndEdits),
        ConformanceCheck(name: "accounts: a reset changes the hash and revokes every session", run: Self.resetRevokesSessions),
        ConformanceCheck(name: "accounts: a session checked before a reset is not opened after it", run: Self.staleVersionRefused),
    ]

    static func emailIsUnique(_ storage: any Storage) async throws {
        let alice = try await storage.users.create(
            username: try Username("Alice"), email: "alice@example.com", passwordHash: "h", now: Self.now
        )
        let found = try #require(try await storage.users.credentials(email: "alice@example.com"))
        #expect(found.user == alice)
        #expect(found.credentialVersion == 0)
        #expect(try await storage.users.credentials(email: "bob@example.com") == nil)

        let clash = await #expect(throws: ParleyError.self) {
            try await storage.users.create(username: try Username("Bob"), email: "alice@example.com", passwordHash: "h", now: Self.now)
        }
        #expect(clash?.code == .emailTaken)
        #expect(try await storage.users.credentials(usernameKey: "bob") == nil)
        // Accounts without an email do not clash with each other.
        try await Self.register("Carol", in: storage)
        try await Self.register("Dave", in: storage)
    }

    static func takenReportsBoth(_ storage: any Storage) async throws {
        _ = try await storage.users.create(username: try Username("Erin"), email: "erin@example.com", passwordHash: "h", now: Self.now)
        let both = try await storage.users.taken(usernameKey: "erin", email: "erin@example.com")
        #expect(both.username && both.email)
        let neither = try await storage.users.taken(usernameKey: "frank", email: "frank@example.com")
        #expect(!neither.username && !neither.email)
        let nameOnly = try await storage.users.taken(usernameKey: "erin", email: nil)
        #expect(nameOnly.username && !nameOnly.email)
    }

    static func profileDefaultsAndEdits(_ storage: any Storage) async throws {
        let user = try await storage.users.create(
            username: try Username("Zoë"), email: "zoe@example.com", passwordHash: "h", now: Self.now
        )
        let fresh = try #require(try await storage.users.profile(userID: user.id))
        #expect(fresh == Profile(username: "Zoë", nickname: "Zoë", description: "", email: "zoe@example.com", createdAt: user.createdAt))

        let draft = try ProfileDraft(nickname: "  Zo 🦊 ", description: "Line one\nline two — ünïcode")
        let edited = try #require(try await storage.users.updateProfile(userID: user.id, draft: draft))
        #expect(edited.nickname == "Zo 🦊")
        #expect(edited.description == "Line one\nline two — ünïcode")
        #expect(try await storage.users.profile(userID: user.id) == edited)
        #expect(try await storage.users.profile(userID: user.id + 1000) == nil)
        #expect(try await storage.users.updateProfile(userID: user.id + 1000, draft: draft) == nil)
    }

    static func resetRevokesSessions(_ storage: any Storage) async throws {
        let user = try await storage.users.create(username: try Username("Grace"), email: "grace@example.com", passwordHash: "old", now: Self.now)
        let expiresAt = Self.now.addingTimeInterval(3600)
        try await storage.sessions.create(tokenHash: "phone", userID: user.id, credentialVersion: 0, expiresAt: expiresAt)
        try await storage.sessions.create(tokenHash: "laptop", userID: user.id, credentialVersion: 0, expiresAt: expiresAt)
        #expect(try await storage.sessions.find(tokenHash: "phone", now: Self.now) != nil)

        #expect(try await storage.users.resetPassword(email: "grace@example.com", passwordHash: "new") == user.id)
        #expect(try await storage.users.resetPassword(email: "nobody@example.com", passwordHash: "new") == nil)
        let after = try #require(try await storage.users.credentials(usernameKey: "grace"))
        #expect(after.passwordHash == "new")
        #expect(after.credentialVersion == 1)
        // Revoked by the reset itself, before any row is deleted.
        #expect(try await storage.sessions.find(tokenHash: "phone", now: Self.now) == nil)
        #expect(try await storage.sessions.find(tokenHash: "laptop", now: Self.now) == nil)

        try await storage.sessions.create(tokenHash: "new", userID: user.id, credentialVersion: 1, expiresAt: expiresAt)
        try await storage.sessions.deleteAll(userID: user.id)
        #expect(try await storage.sessions.find(tokenHash: "new", now: Self.now) == nil)
    }

    static func staleVersionRefused(_ storage: any Storage) async throws {
        let user = try await storage.users.create(username: try Username("Heidi"), email: "heidi@example.com", passwordHash: "old", now: Self.now)
        _ = try await storage.users.resetPassword(email: "heidi@example.com", passwordHash: "new")
        let refused = await #expect(throws: ParleyError.self) {
            try await storage.sessions.create(
                tokenHash: "stale", userID: user.id, credentialVersion: 0, expiresAt: Self.now.addingTimeInterval(3600)
            )
        }
        #expect(refused?.code == .invalidCredentials)
        #expect(try await storage.sessions.find(tokenHash: "stale", now: Self.now) == nil)
    }
}
