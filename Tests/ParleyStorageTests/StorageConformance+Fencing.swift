import Foundation
import ParleyCore
import Testing

extension StorageConformance {
    /// Issue 4: the leadership epoch fences writes; request ids make a retried post apply once.
    static let fencing: [ConformanceCheck] = [
        ConformanceCheck(name: "fencing: a claim succeeds unless a higher epoch is recorded", run: Self.claims),
        ConformanceCheck(name: "fencing: a leader paused while another took over cannot write", run: Self.staleLeaderCannotWrite),
        ConformanceCheck(name: "fencing: a follower refuses writes before the database", run: Self.followerRefuses),
        ConformanceCheck(name: "posts: a retried request id returns the stored post", run: Self.requestIDAppliesOnce),
    ]

    static func claims(_ storage: any Storage) async throws {
        #expect(storage.fence.current == .unfenced)
        #expect(try await storage.claimLeadership(epoch: 5))
        #expect(storage.fence.current == .leading(epoch: 5))
        #expect(try await storage.claimLeadership(epoch: 5))  // the same leadership again
        #expect(try await !storage.claimLeadership(epoch: 3))
        #expect(storage.fence.current == .following(leader: nil))
        #expect(try await storage.claimLeadership(epoch: 9))
        try await Self.post("written in epoch 9", in: storage)
    }

    static func staleLeaderCannotWrite(_ storage: any Storage) async throws {
        #expect(try await storage.claimLeadership(epoch: 5))
        let user = try await storage.users.create(username: try Username("Old"), email: "old@example.com", passwordHash: "h", now: Self.now)
        // Another backend takes over with epoch 7; this one still believes it leads in epoch 5.
        #expect(try await storage.claimLeadership(epoch: 7))
        storage.fence.set(.leading(epoch: 5))

        let notLeader = ParleyError.Code.notLeader
        // Refused by the database itself (the fence in memory still says epoch 5).
        let post = await #expect(throws: ParleyError.self) { try await Self.post("stale", in: storage) }
        #expect(post == WriteFence.superseded)
        let register = await #expect(throws: ParleyError.self) {
            try await storage.users.create(username: try Username("Stale"), passwordHash: "h", now: Self.now)
        }
        #expect(register?.code == notLeader)
        let session = await #expect(throws: ParleyError.self) {
            try await storage.sessions.create(tokenHash: "t", userID: user.id, credentialVersion: 0, expiresAt: Self.now.addingTimeInterval(60))
        }
        #expect(session?.code == notLeader)
        let reset = await #expect(throws: ParleyError.self) { try await storage.users.resetPassword(email: "old@example.com", passwordHash: "x") }
        #expect(reset == WriteFence.superseded)
        let profile = await #expect(throws: ParleyError.self) {
            try await storage.users.updateProfile(userID: user.id, draft: try ProfileDraft(nickname: "n", description: ""))
        }
        #expect(profile?.code == notLeader)

        // Nothing of it was stored.
        #expect(try await storage.posts.list(limit: 10, before: nil).isEmpty)
        #expect(try await storage.users.credentials(usernameKey: "stale") == nil)
        #expect(try await storage.users.credentials(usernameKey: "old")?.passwordHash == "h")
        // The new leader writes.
        storage.fence.set(.leading(epoch: 7))
        try await Self.post("fresh", in: storage)
    }

    static func followerRefuses(_ storage: any Storage) async throws {
        storage.fence.set(.following(leader: "10.0.0.2:1234"))
        let error = await #expect(throws: ParleyError.self) { try await Self.post("no", in: storage) }
        #expect(error == ParleyError(.notLeader, "This backend does not lead; the leader is 10.0.0.2:1234."))
    }

    static func requestIDAppliesOnce(_ storage: any Storage) async throws {
        let draft = try PostDraft(title: "once", body: "only once")
        let first = try await storage.posts.create(author: "a", userID: nil, draft: draft, now: Self.now, requestID: "req-1")
        let again = try await storage.posts.create(author: "a", userID: nil, draft: draft, now: Self.now, requestID: "req-1")
        #expect(again == first)
        let other = try await storage.posts.create(author: "a", userID: nil, draft: draft, now: Self.now, requestID: "req-2")
        #expect(other.id != first.id)
        #expect(try await storage.posts.list(limit: 10, before: nil).count == 2)
    }
}
