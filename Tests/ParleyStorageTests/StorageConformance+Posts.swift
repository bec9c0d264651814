import Foundation
import ParleyCore
import Testing

extension StorageConformance {
    /// The `PostRepository` contract.
    static let posts: [ConformanceCheck] = [
        ConformanceCheck(name: "posts: create returns what list returns", run: Self.createReturnsWhatListReturns),
        ConformanceCheck(name: "posts: list is newest first, with limit and before", run: Self.listNewestFirst),
        ConformanceCheck(name: "posts: Unicode text round-trips", run: Self.unicodeRoundTrips),
        ConformanceCheck(name: "posts: a 10,000-character body round-trips", run: Self.longBodyRoundTrips),
        ConformanceCheck(name: "posts: 200 concurrent posts get distinct ids", run: Self.concurrentPosts),
        ConformanceCheck(name: "posts: authors, guests and database errors", run: Self.authorsAndErrors),
        ConformanceCheck(name: "posts: by a session, only while it is valid", run: Self.postsBySession),
        ConformanceCheck(name: "posts: concurrent posts by sessions, with retries and unknown sessions", run: Self.concurrentPostsBySessions),
    ]

    /// SQLite writes posts that come together in one statement: each still gets its own answer.
    static func concurrentPostsBySessions(_ storage: any Storage) async throws {
        let user = try await Self.register("Olga", in: storage)
        try await storage.sessions.create(tokenHash: "olga", userID: user.id, credentialVersion: 0, expiresAt: Self.now.addingTimeInterval(60))
        // Every 10th has an unknown session; five share the request id "again" (a retried post).
        func token(_ number: Int) -> String { number % 10 == 9 ? "unknown" : "olga" }
        func requestID(_ number: Int) -> String { number % 20 == 0 ? "again" : "request \(number)" }
        let answers = try await withThrowingTaskGroup(of: (Int, Post?).self) { group in
            for number in 0..<100 {
                group.addTask {
                    let draft = try PostDraft(title: "concurrent \(number)", body: "b")
                    let written = try await storage.posts.create(sessionTokenHash: token(number), draft: draft, now: Self.now, requestID: requestID(number))
                    return (number, written?.post)
                }
            }
            return try await group.reduce(into: [Int: Post?]()) { $0[$1.0] = $1.1 }
        }
        #expect(answers.count == 100)
        #expect(answers.filter { $0.key % 10 == 9 }.allSatisfy { $0.value == nil })
        let retried = answers.filter { $0.key % 20 == 0 }.map(\.value)
        #expect(retried.allSatisfy { $0 != nil && $0 == retried[0] })
        let stored = try await storage.posts.list(limit: 100, before: nil)
        #expect(stored.count == 100 - 10 - 4)
        #expect(Set(stored.map(\.id)) == Set(answers.values.compactMap { $0?.id }))
        #expect(stored.allSatisfy { post in answers.values.contains { $0 == post } })
        for (number, post) in answers where number % 10 != 9 && number % 20 != 0 {
            #expect(post?.title == "concurrent \(number)" && post?.author == "Olga")
        }
    }

    static func postsBySession(_ storage: any Storage) async throws {
        let user = try await storage.users.create(username: try Username("Nina"), email: "nina@example.com", passwordHash: "h", now: Self.now)
        let expiresAt = Self.now.addingTimeInterval(3600)
        try await storage.sessions.create(tokenHash: "nina-1", userID: user.id, credentialVersion: 0, expiresAt: expiresAt)
        let draft = try PostDraft(title: "By session", body: "written by Nina")

        let (post, session) = try #require(try await storage.posts.create(sessionTokenHash: "nina-1", draft: draft, now: Self.now, requestID: "r1"))
        #expect(post.author == "Nina")
        #expect(post.title == "By session" && post.body == "written by Nina")
        #expect(Self.milliseconds(post.createdAt) == Self.nowInMilliseconds)
        #expect(session.tokenHash == "nina-1" && session.userID == user.id && session.username == "Nina")
        #expect(Self.milliseconds(session.expiresAt) == Self.nowInMilliseconds + 3_600_000)
        #expect(try await storage.posts.list(limit: 10, before: nil) == [post])

        // A retry answers with the stored post, once.
        let again = try #require(try await storage.posts.create(sessionTokenHash: "nina-1", draft: draft, now: Self.now, requestID: "r1"))
        #expect(again.post == post && again.session.userID == user.id)

        // Unknown, expired, and (after a password reset) revoked sessions store nothing.
        #expect(try await storage.posts.create(sessionTokenHash: "other", draft: draft, now: Self.now, requestID: "r2") == nil)
        #expect(try await storage.posts.create(sessionTokenHash: "nina-1", draft: draft, now: expiresAt, requestID: "r3") == nil)
        #expect(try await storage.users.resetPassword(email: "nina@example.com", passwordHash: "h2") == user.id)
        #expect(try await storage.posts.create(sessionTokenHash: "nina-1", draft: draft, now: Self.now, requestID: "r4") == nil)
        // …also for a retry of a post that was stored.
        #expect(try await storage.posts.create(sessionTokenHash: "nina-1", draft: draft, now: Self.now, requestID: "r1") == nil)
        #expect(try await storage.posts.list(limit: 10, before: nil) == [post])

        // The fence holds as for every write.
        try await storage.sessions.create(tokenHash: "nina-2", userID: user.id, credentialVersion: 1, expiresAt: expiresAt)
        #expect(try await storage.claimLeadership(epoch: 7))
        storage.fence.set(.leading(epoch: 5))
        let stale = await #expect(throws: ParleyError.self) {
            try await storage.posts.create(sessionTokenHash: "nina-2", draft: draft, now: Self.now, requestID: "r5")
        }
        #expect(stale == WriteFence.superseded)
        storage.fence.set(.leading(epoch: 7))
        let fresh = try #require(try await storage.posts.create(sessionTokenHash: "nina-2", draft: draft, now: Self.now, requestID: "r5"))
        #expect(try await storage.posts.list(limit: 10, before: nil) == [fresh.post, post])
    }

    static func createReturnsWhatListReturns(_ storage: any Storage) async throws {
        let created = try await Self.post("Hello", body: "First post", in: storage)
        #expect(created.author == guestAuthor)
        #expect(created.title == "Hello")
        #expect(created.body == "First post")
        #expect(Self.milliseconds(created.createdAt) == Self.nowInMilliseconds)

        let listed = try await storage.posts.list(limit: 10, before: nil)
        #expect(listed == [created])
    }

    static func listNewestFirst(_ storage: any Storage) async throws {
        #expect(try await storage.posts.list(limit: 10, before: nil).isEmpty)

        var created: [Post] = []
        for number in 1...5 {
            created.append(try await Self.post("post \(number)", in: storage, now: Self.now.addingTimeInterval(Double(number))))
        }
        let ids = created.map(\.id)
        #expect(ids == ids.sorted())
        #expect(Set(ids).count == 5)

        let newestFirst = Array(created.reversed())
        #expect(try await storage.posts.list(limit: 10, before: nil) == newestFirst)
        #expect(try await storage.posts.list(limit: 2, before: nil) == Array(newestFirst.prefix(2)))
        #expect(try await storage.posts.list(limit: 2, before: ids[3]) == [created[2], created[1]])
        #expect(try await storage.posts.list(limit: 10, before: ids[0]).isEmpty)
        #expect(try await storage.posts.list(limit: 10, before: ids[4] + 1000) == newestFirst)
        #expect(try await storage.posts.list(limit: 0, before: nil).isEmpty)
    }

    static func unicodeRoundTrips(_ storage: any Storage) async throws {
        let texts: [(title: String, body: String)] = [
            ("Emoji 🙂", "👍🏽 👨‍👩‍👧‍👦 🇫🇷 🏳️‍🌈 ❤️"),
            ("中文标题", "这是一个中文内容的帖子。日本語も。한국어도."),
            ("مرحبا", "مرحبا بالعالم — שלום עולם"),
            ("Combining", "Jose\u{301} and Jos\u{E9}, a\u{30A}, Z\u{351}\u{36B}\u{34B}"),
            ("Quotes ' \" ; --", "'); DROP TABLE posts; -- \\ % _ \u{2028} tab\tend"),
            ("Lines", "line one\nline two\r\nline three"),
        ]
        var created: [Post] = []
        for text in texts {
            created.append(try await Self.post(text.title, body: text.body, in: storage))
        }
        let listed = try await storage.posts.list(limit: 100, before: nil)
        #expect(listed == created.reversed())
        for (post, text) in zip(listed.reversed(), texts) {
            #expect(post.title.unicodeScalars.elementsEqual(text.title.unicodeScalars))
            #expect(post.body.unicodeScalars.elementsEqual(text.body.unicodeScalars))
        }
    }

    static func longBodyRoundTrips(_ storage: any Storage) async throws {
        let body = String(repeating: "ab字🙂", count: 2_500)
        #expect(body.count == Limits.bodyLength.upperBound)
        let created = try await Self.post("Long", body: body, in: storage)
        let listed = try #require(try await storage.posts.list(limit: 1, before: nil).first)
        #expect(listed == created)
        #expect(listed.body.utf8.elementsEqual(body.utf8))
    }

    static func concurrentPosts(_ storage: any Storage) async throws {
        let created = try await withThrowingTaskGroup(of: Post.self) { group in
            for number in 0..<200 {
                group.addTask { try await Self.post("concurrent \(number)", in: storage) }
            }
            return try await group.reduce(into: [Post]()) { $0.append($1) }
        }
        #expect(Set(created.map(\.id)).count == 200)

        // Page through everything, 30 at a time.
        var listed: [Post] = []
        var before: Int64? = nil
        while true {
            let page = try await storage.posts.list(limit: 30, before: before)
            guard let last = page.last else { break }
            listed += page
            before = last.id
        }
        #expect(listed.count == 200)
        #expect(listed.map(\.id) == created.map(\.id).sorted(by: >))
        #expect(Set(listed.map(\.title)) == Set((0..<200).map { "concurrent \($0)" }))
    }

    static func authorsAndErrors(_ storage: any Storage) async throws {
        let user = try await Self.register("Ivan", in: storage)
        let draft = try PostDraft(title: "Signed", body: "by Ivan")
        let signed = try await storage.posts.create(author: user.username, userID: user.id, draft: draft, now: Self.now)
        let guest = try await Self.post("Anonymous", in: storage)
        #expect(try await storage.posts.list(limit: 10, before: nil) == [guest, signed])
        #expect(signed.author == "Ivan")

        // A post that names an account that does not exist breaks the foreign key.
        let error = await #expect(throws: (any Error).self) {
            try await storage.posts.create(author: "Ghost", userID: user.id + 1000, draft: draft, now: Self.now)
        }
        #expect((error as? ParleyError)?.code != .usernameTaken)
        #expect(try await storage.posts.list(limit: 10, before: nil).count == 2)
    }
}
