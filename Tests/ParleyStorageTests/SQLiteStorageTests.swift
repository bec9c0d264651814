import ParleyTestSupport
import Foundation
import ParleyCore
import Testing

@testable import ParleyStorage

/// Behaviour of the SQLite backend beyond the shared conformance suite.
@Suite("SQLiteStorage")
struct SQLiteStorageTests {
    /// Opens a file database in a fresh folder, runs `body`, closes it and removes the folder.
    private func withFileStorage(_ body: (SQLiteStorage, TemporaryDirectory) async throws -> Void) async throws {
        try await TemporaryDirectory.with { directory in
            let storage = try await SQLiteStorage.open(path: directory.path("parley.sqlite"))
            do {
                try await body(storage, directory)
                try await storage.close()
            } catch {
                try? await storage.close()
                throw error
            }
        }
    }

    /// Posts by sessions that come together are one statement; each gets its own answer, also
    /// when one has no valid session or two share a request id.
    @Test func postsBySessionsAreWrittenInOneStatement() async throws {
        let storage = try await SQLiteStorage.open(path: ":memory:")
        let user = try await storage.users.create(username: try Username("Pia"), passwordHash: "h", now: Date())
        try await storage.sessions.create(tokenHash: "pia", userID: user.id, credentialVersion: 0, expiresAt: Date().addingTimeInterval(60))
        let writer = try #require(storage.posts as? SQLitePostRepository).sessionPostWriter
        func post(_ title: String, token: String = "pia", requestID: String) throws -> SQLiteSessionPosts.Post {
            .init(tokenHash: token, draft: try PostDraft(title: title, body: "b"), createdAt: UnixMilliseconds.from(Date()), requestID: requestID)
        }

        // One statement (unfenced, as `parley serve` runs): the posts with a valid session, by request id.
        let together = await writer.writeTogether(try [post("one", requestID: "1"), post("lost", token: "unknown", requestID: "2"), post("three", requestID: "3")])
        #expect(together.mapValues(\.post.title) == ["1": "one", "3": "three"])
        #expect(together.values.allSatisfy { $0.session.userID == user.id && $0.post.author == "Pia" })
        // A repeated request id: nothing written together.
        #expect(await writer.writeTogether(try [post("x", requestID: "9"), post("y", token: "unknown", requestID: "9")]).isEmpty)

        // Through `write`: a repeated request id is written post by post, each with its own answer.
        let batch = try [post("four", requestID: "4"), post("mine", requestID: "5"), post("not mine", token: "unknown", requestID: "5")]
        let results = await writer.write(batch)
        #expect(try results.map { try $0.get()?.post.title } == ["four", "mine", nil])
        #expect(try await storage.posts.list(limit: 10, before: nil).map(\.title) == ["mine", "four", "three", "one"])
        try await storage.close()
        try await storage.close()  // closing again changes nothing
    }

    /// Texts of distinct conversations that come together are one statement; a second text of a
    /// conversation, a text to a non-friend and a resent text are each written alone, in order.
    @Test func textsAreWrittenTogetherByConversation() async throws {
        let storage = try await SQLiteStorage.open(path: ":memory:")
        var users: [User] = []
        for name in ["ann", "bea", "cid", "dov"] {
            users.append(try await StorageConformance.register(name, in: storage))
        }
        let (a, b, c, d) = (users[0].id, users[1].id, users[2].id, users[3].id)
        _ = try await StorageConformance.befriend(users[0], users[1], in: storage)
        _ = try await StorageConformance.befriend(users[2], users[3], in: storage)
        let writer = SQLiteTexts(connection: storage.connection, fence: storage.fence)
        func text(_ from: Int64, _ to: Int64, _ id: String) -> SQLiteTexts.Text {
            .init(senderID: from, receiverID: to, clientMessageID: id, text: "text \(id)", sentAt: 1_000)
        }

        let together = await writer.writeTogether([text(a, b, "m1"), text(c, d, "m2"), text(a, c, "m3")])
        #expect(together.count == 2)  // ann and cid are not friends
        #expect(together[.init(senderID: a, clientMessageID: "m1")]?.text.seq == 1)
        #expect(together[.init(senderID: c, clientMessageID: "m2")]?.text.seq == 1)

        let results = await writer.write([text(a, b, "m4"), text(b, a, "m5"), text(c, d, "m6"), text(a, b, "m4"), text(a, c, "m7")])
        let receipts = results.map { try? $0.get() }
        #expect(receipts.map { $0?.text.seq } == [2, 3, 2, 2, nil])
        #expect(receipts.map { $0?.duplicate } == [false, false, false, true, nil])
        #expect(receipts[1]?.receiverID == a && receipts[1]?.text.text == "text m5")
        #expect(throws: ParleyError.self) { try results[4].get() }
        let conversation = try #require(receipts[0]?.text.conversationID)
        #expect(try await storage.chat.texts(conversationID: conversation, userID: a, afterSeq: 0, limit: 10).texts.map(\.clientMessageID) == ["m1", "m4", "m5"])
        try await storage.close()
    }

    @Test func setsConnectionOptions() async throws {
        try await self.withFileStorage { storage, _ in
            let journal = try await storage.connection.query("PRAGMA journal_mode")
            #expect(journal.first?.column("journal_mode")?.string == "wal")
            let foreignKeys = try await storage.connection.query("PRAGMA foreign_keys")
            #expect(foreignKeys.first?.column("foreign_keys")?.integer == 1)
            let busyTimeout = try await storage.connection.query("PRAGMA busy_timeout")
            #expect(busyTimeout.first?.values.first?.integer == 5000)
            let synchronous = try await storage.connection.query("PRAGMA synchronous")
            #expect(synchronous.first?.column("synchronous")?.integer == 1)  // NORMAL
        }
    }

    @Test func createsMissingFolders() async throws {
        try await TemporaryDirectory.with { directory in
            let path = directory.path("a/b/c/parley.sqlite")
            let storage = try await SQLiteStorage.open(path: path)
            try await storage.close()
            #expect(FileManager.default.fileExists(atPath: path))
            #expect(storage.location == path)
        }
    }

    @Test func opensInDataDirectory() async throws {
        try await TemporaryDirectory.with { directory in
            let dataDirectory = directory.path("data")
            let storage = try await SQLiteStorage.open(dataDirectory: dataDirectory)
            try await storage.close()
            let expected = dataDirectory + "/parley.sqlite"
            #expect(storage.location == expected)
            #expect(FileManager.default.fileExists(atPath: expected))
        }
    }

    @Test func dataSurvivesCloseAndReopen() async throws {
        try await TemporaryDirectory.with { directory in
            let path = directory.path("parley.sqlite")
            let now = Date(timeIntervalSince1970: 1_750_000_000.5)
            let expiresAt = now.addingTimeInterval(3600)

            let first = try await SQLiteStorage.open(path: path)
            let user = try await first.users.create(username: try Username("Judy"), passwordHash: "h", now: now)
            try await first.sessions.create(tokenHash: "token", userID: user.id, credentialVersion: 0, expiresAt: expiresAt)
            let post = try await first.posts.create(
                author: user.username, userID: user.id, draft: try PostDraft(title: "Kept", body: "Still here"), now: now)
            try await first.close()

            let second = try await SQLiteStorage.open(path: path)
            let credentials = try await second.users.credentials(usernameKey: "judy")
            let session = try await second.sessions.find(tokenHash: "token", now: now)
            let posts = try await second.posts.list(limit: 10, before: nil)
            try await second.close()

            #expect(credentials == UserCredentials(user: user, passwordHash: "h"))
            #expect(session == Session(tokenHash: "token", userID: user.id, username: "Judy", expiresAt: expiresAt))
            #expect(posts == [post])
        }
    }

    @Test func memoryDatabaseWorks() async throws {
        let storage = try await SQLiteStorage.open(path: ":memory:")
        do {
            #expect(storage.location == ":memory:")
            let post = try await storage.posts.create(
                author: guestAuthor, userID: nil, draft: try PostDraft(title: "t", body: "b"), now: Date())
            #expect(try await storage.posts.list(limit: 1, before: nil) == [post])
            #expect(try await storage.migrationStatus().allSatisfy { $0.appliedAt != nil })
        } catch {
            try? await storage.close()
            throw error
        }
        try await storage.close()
    }

    @Test func openingAFolderAsADatabaseThrows() async throws {
        try await TemporaryDirectory.with { directory in
            await #expect(throws: (any Error).self) {
                let storage = try await SQLiteStorage.open(path: directory.url.path)
                try await storage.close()
            }
        }
    }

    @Test func openingAFileThatIsNotADatabaseThrows() async throws {
        try await TemporaryDirectory.with { directory in
            let path = directory.path("not-a-database.sqlite")
            try Data(repeating: 0x42, count: 4096).write(to: URL(fileURLWithPath: path))
            await #expect(throws: (any Error).self) {
                let storage = try await SQLiteStorage.open(path: path)
                try await storage.close()
            }
        }
    }
}
