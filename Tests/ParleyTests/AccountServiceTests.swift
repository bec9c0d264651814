import Foundation
import ParleyBackend
import ParleyCore
import ParleyStorage
import Synchronization
import Testing

/// Session rules with a clock the test moves.
@Suite struct AccountServiceTests {
    final class Clock: Sendable {
        let current = Mutex(Date(timeIntervalSince1970: 1_800_000_000))
        func now() -> Date { self.current.withLock { $0 } }
        func advance(_ seconds: TimeInterval) { self.current.withLock { $0 += seconds } }
    }

    func withAccounts(_ body: (AccountService, Clock) async throws -> Void) async throws {
        let storage = try await SQLiteStorage.open(path: ":memory:")
        let clock = Clock()
        let accounts = AccountService(
            users: storage.users, sessions: storage.sessions, sessionTTL: .seconds(3600), bcryptCost: 4, now: { clock.now() }
        )
        do {
            try await body(accounts, clock)
        } catch {
            try await storage.close()
            throw error
        }
        try await storage.close()
    }

    @Test func sessionsExpireUnlessUsedAndSlideWhenUsed() async throws {
        try await self.withAccounts { accounts, clock in
            _ = try await accounts.register(.init(username: "sam", password: "password 1"))
            let login = try await accounts.login(.init(username: "SAM", password: "password 1"))
            #expect(login.username == "sam")
            #expect(login.token.count >= 43)

            clock.advance(50 * 60)  // used after 50 minutes: the expiry moves to an hour from now
            let info = try await accounts.session(.init(token: login.token))
            #expect(info.expiresAt == Date(timeIntervalSince1970: 1_800_000_000 + 50 * 60 + 3600))

            clock.advance(59 * 60)  // 109 minutes after login, 59 after the last use: still valid
            #expect(try await accounts.session(.init(token: login.token)).username == "sam")

            clock.advance(61 * 60)  // 61 minutes unused: gone
            await #expect(throws: ParleyError(.unauthenticated, "You are not logged in, or your session expired.")) {
                try await accounts.session(.init(token: login.token))
            }
        }
    }

    /// A post with a token checks the session in the statement that stores it, and slides it.
    @Test func postingUsesAndSlidesTheSession() async throws {
        let storage = try await SQLiteStorage.open(path: ":memory:")
        let clock = Clock()
        let accounts = AccountService(users: storage.users, sessions: storage.sessions, bcryptCost: 4, now: { clock.now() })
        let board = BoardService(posts: storage.posts, accounts: accounts, now: { clock.now() })
        _ = try await accounts.register(.init(username: "lou", password: "password 1"))
        let login = try await accounts.login(.init(username: "lou", password: "password 1"))

        clock.advance(50 * 60)
        #expect(try await board.post(.init(token: login.token, title: "t", body: "b")).author == "lou")
        // 109 minutes after login: valid only because the post at 50 minutes slid the session.
        clock.advance(59 * 60)
        #expect(try await board.post(.init(token: login.token, title: "t2", body: "b")).author == "lou")

        clock.advance(61 * 60)
        await #expect(throws: ParleyError(.unauthenticated, "You are not logged in, or your session expired.")) {
            try await board.post(.init(token: login.token, title: "late", body: "b"))
        }
        await #expect(throws: ParleyError.self) { try await board.post(.init(token: "never-issued", title: "t", body: "b")) }
        #expect(try await board.list(.init(limit: 10, before: nil)).posts.map(\.title) == ["t2", "t"])
        try await storage.close()
    }

    @Test func loginFailuresLookTheSameAndLogoutRevokes() async throws {
        try await self.withAccounts { accounts, _ in
            _ = try await accounts.register(.init(username: "kim", password: "password 1"))
            let wrong = ParleyError(.invalidCredentials, "Wrong username or password.")
            await #expect(throws: wrong) { try await accounts.login(.init(username: "kim", password: "password 2")) }
            await #expect(throws: wrong) { try await accounts.login(.init(username: "nobody", password: "password 1")) }
            await #expect(throws: wrong) { try await accounts.login(.init(username: "kim", password: String(repeating: "x", count: 10_000))) }

            let first = try await accounts.login(.init(username: "kim", password: "password 1"))
            let second = try await accounts.login(.init(username: "kim", password: "password 1"))
            #expect(first.token != second.token)
            _ = try await accounts.logout(.init(token: first.token))
            await #expect(throws: ParleyError.self) { try await accounts.session(.init(token: first.token)) }
            #expect(try await accounts.session(.init(token: second.token)).username == "kim")
            _ = try await accounts.logout(.init(token: "never-issued-token-value"))  // not an error
        }
    }
}

@Suite struct PasswordHashingTests {
    @Test func everyByteOfThePasswordCounts() async throws {
        let storage = try await SQLiteStorage.open(path: ":memory:")
        let accounts = AccountService(users: storage.users, sessions: storage.sessions, bcryptCost: 4)
        // A NUL and a tail beyond bcrypt's 72 bytes both matter.
        let long = String(repeating: "я", count: 100) + "end"
        _ = try await accounts.register(.init(username: "nul", password: "\u{0}secret12"))
        _ = try await accounts.register(.init(username: "long", password: long))
        await #expect(throws: ParleyError.self) { try await accounts.login(.init(username: "nul", password: "\u{0}")) }
        await #expect(throws: ParleyError.self) { try await accounts.login(.init(username: "nul", password: "\u{0}other12")) }
        #expect(try await accounts.login(.init(username: "nul", password: "\u{0}secret12")).username == "nul")
        await #expect(throws: ParleyError.self) { try await accounts.login(.init(username: "long", password: String(repeating: "я", count: 100) + "END")) }
        #expect(try await accounts.login(.init(username: "long", password: long)).username == "long")
        try await storage.close()
    }
}

@Suite struct BoardPagingTests {
    /// Long posts (4-byte characters up to the limits) still make pages that fit one JSON-RPC
    /// message; the rest comes on the next pages, each post exactly once.
    @Test func pagesOfLongPostsFitOneMessage() async throws {
        let storage = try await SQLiteStorage.open(path: ":memory:")
        let accounts = AccountService(users: storage.users, sessions: storage.sessions, bcryptCost: 4)
        let board = BoardService(posts: storage.posts, accounts: accounts)
        for index in 0..<30 {
            _ = try await board.post(.init(token: nil, title: "\(index) " + String(repeating: "😀", count: 190), body: String(repeating: "😀", count: 10_000)))
        }
        // 10,000 characters, 80,000 bytes: refused by the byte limit.
        #expect(throws: ParleyError.self) { try PostDraft(title: "t", body: String(repeating: "👍🏽", count: 10_000)) }
        #expect(String(repeating: "👍🏽", count: 10_000).count == 10_000)
        var seen: [Int64] = []
        var before: Int64?
        repeat {
            let page = try await board.list(.init(limit: 100, before: before))
            #expect(try JSONEncoder().encode(page).count < Limits.rpcMessageBytes)
            #expect(!page.posts.isEmpty)
            seen += page.posts.map(\.id)
            before = page.next.flatMap(Int64.init)
        } while before != nil
        #expect(seen == Array((1...30).reversed()))
        try await storage.close()
    }
}
