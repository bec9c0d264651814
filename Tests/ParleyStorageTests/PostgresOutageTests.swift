import ParleyTestSupport
import Foundation
import ParleyCore
import Testing

@testable import ParleyStorage

/// PostgreSQL going away under an open storage, and coming back. Each test has its own server.
@Suite("PostgreSQL outage", .enabled(if: PostgresServer.isEnabled))
struct PostgresOutageTests {
    private static let unavailable = ParleyError(.unavailable, "The database is unavailable. Try again in a moment.")

    @Test func callsFailClearlyWhileTheServerIsDownAndRecoverAfter() async throws {
        try await PostgresTesting.withDedicatedServer { server in
            let database = try await PostgresTesting.freshDatabase(
                on: server, options: "sslmode=disable&connect_timeout=2&query_timeout=20")
            let storage = try await PostgresStorage.open(configuration: database.configuration)
            do {
                let user = try await storage.users.create(username: try Username("Survivor"), passwordHash: "h", now: Date())
                let post = try await storage.posts.create(
                    author: user.username, userID: user.id, draft: try PostDraft(title: "Before", body: "the outage"), now: Date())

                // A statement running when the server stops fails with the same clear error.
                let running = Task { try await storage.database.query("SELECT pg_sleep(60)").count }
                try await self.waitUntilActive("SELECT pg_sleep", on: server, database: database.name)
                try await server.stop()
                await #expect(throws: Self.unavailable) { _ = try await running.value }

                // Every kind of call gives the same clear error, and none hangs: each is bounded
                // by connect_timeout (run side by side, so the test waits for each round once).
                for _ in 0..<2 {
                    async let posts = Self.outcome { _ = try await storage.posts.list(limit: 10, before: nil) }
                    async let users = Self.outcome { _ = try await storage.users.credentials(usernameKey: "survivor") }
                    async let sessions = Self.outcome {
                        try await storage.sessions.create(tokenHash: "t", userID: user.id, credentialVersion: 0, expiresAt: Date())
                    }
                    for outcome in await [posts, users, sessions] {
                        #expect(outcome == Self.unavailable)
                    }
                }

                // Opening another storage meanwhile fails at once, with the reason.
                let openError = await #expect(throws: PostgresConnectError.self) {
                    let other = try await PostgresStorage.open(configuration: database.configuration)
                    try await other.close()
                }
                #expect(openError?.reason.lowercased().contains("refused") == true, "\(openError?.description ?? "")")

                try await server.restart()

                // The pool reconnects by itself (after its backoff); the storage is not reopened.
                var listed: [Post]? = nil
                for _ in 0..<60 where listed == nil {
                    do {
                        listed = try await storage.posts.list(limit: 10, before: nil)
                    } catch let error as ParleyError where error == Self.unavailable {
                        try await Task.sleep(for: .milliseconds(250))
                    }
                }
                #expect(listed == [post])
                #expect(try await storage.users.credentials(usernameKey: "survivor")?.user == user)
                try await storage.sessions.create(tokenHash: "after", userID: user.id, credentialVersion: 0, expiresAt: Date().addingTimeInterval(60))
                #expect(try await storage.sessions.find(tokenHash: "after", now: Date())?.userID == user.id)
                try await storage.close()
            } catch {
                try? await storage.close()
                throw error
            }
        }
    }

    /// The `ParleyError` a call throws, or `nil` when it succeeds or throws something else.
    private static func outcome(_ call: () async throws -> Void) async -> ParleyError? {
        do {
            try await call()
            return nil
        } catch {
            return error as? ParleyError
        }
    }

    /// Waits until a statement starting with `prefix` runs on the server.
    private func waitUntilActive(_ prefix: String, on server: PostgresServer, database: String) async throws {
        let sql = "SELECT count(*) FROM pg_stat_activity WHERE state = 'active' AND query LIKE '\(prefix)%'"
        for _ in 0..<200 {
            if try await server.psql(sql, database: database).trimmingCharacters(in: .whitespacesAndNewlines) != "0" {
                return
            }
            try await Task.sleep(for: .milliseconds(50))
        }
        Issue.record("\(prefix) never ran")
    }
}
