import Foundation
import Logging
import ParleyBackend
import ParleyCore
import ParleyStorage
import ParleyTestSupport
import ParleyVerifier
import Testing

/// Issue 5's account rules in the backend, over a real SQLite database and the real code rules
/// (memory store, a mailer that keeps the messages): registering with an emailed code, logging in
/// by email, failed-login limits, password reset, profiles.
@Suite struct AccountFlowTests {
    struct Fixture {
        let accounts: AccountService
        let mailer: CapturingMailer
        let codes: VerificationCodes
    }

    func withAccounts(_ body: (Fixture) async throws -> Void) async throws {
        let storage = try await SQLiteStorage.open(path: ":memory:")
        let mailer = CapturingMailer()
        var quiet = Logger(label: "test")
        quiet.logLevel = .critical
        // No resend cooldown: these tests ask one address for a register and a reset code in a row.
        let codes = VerificationCodes(
            store: MemoryCodeStore(), mailer: mailer, configuration: .init(resendCooldown: .milliseconds(1)), logger: quiet
        )
        let accounts = AccountService(users: storage.users, sessions: storage.sessions, verifier: codes, bcryptCost: 4)
        do {
            try await body(Fixture(accounts: accounts, mailer: mailer, codes: codes))
        } catch {
            try await storage.close()
            throw error
        }
        try await storage.close()
    }

    /// Mails a register code to `email` and returns it.
    func code(_ fixture: Fixture, _ email: String, _ purpose: CodePurpose = .register) async throws -> String {
        _ = try await fixture.codes.issue(email: email, purpose: purpose, clientAddress: nil)
        return try await fixture.mailer.lastCode()
    }

    @Test func registeringNeedsTheMailedCode() async throws {
        try await self.withAccounts { fixture in
            let accounts = fixture.accounts
            let noEmail = await #expect(throws: ParleyError.self) {
                try await accounts.register(.init(username: "ann", password: "password 1"))
            }
            #expect(noEmail?.code == .invalidInput)
            let noCode = await #expect(throws: ParleyError.self) {
                try await accounts.register(.init(username: "ann", password: "password 1", email: "ann@example.com"))
            }
            #expect(noCode?.code == .invalidInput)
            // No code was ever sent: refused.
            let unsent = await #expect(throws: ParleyError.self) {
                try await accounts.register(.init(username: "ann", password: "password 1", email: "ann@example.com", code: "123456"))
            }
            #expect(unsent?.code == .invalidCredentials)

            let code = try await self.code(fixture, "Ann@Example.com")
            let wrong = code == "000000" ? "111111" : "000000"
            let refused = await #expect(throws: ParleyError.self) {
                try await accounts.register(.init(username: "ann", password: "password 1", email: "ann@example.com", code: wrong))
            }
            #expect(refused?.message.contains("4 tries left") == true)

            let user = try await accounts.register(.init(username: "ann", password: "password 1", email: " ANN@example.com ", code: code))
            #expect(user.username == "ann")
            let profile = try await accounts.profile(.init(token: try await accounts.login(.init(username: "ann", password: "password 1")).token))
            #expect(profile.email == "ann@example.com")
            #expect(profile.nickname == "ann")

            // The code is single use.
            let reused = await #expect(throws: ParleyError.self) {
                try await accounts.register(.init(username: "ann2", password: "password 1", email: "ann@example.com", code: code))
            }
            #expect(reused?.code == .invalidCredentials)
            #expect(reused?.message.contains("already used") == true)

            // An address with an account is said so only after its code proved the mailbox.
            let again = try await self.code(fixture, "ann@example.com")
            let taken = await #expect(throws: ParleyError.self) {
                try await accounts.register(.init(username: "ann3", password: "password 1", email: "ANN@example.com", code: again))
            }
            #expect(taken == ParleyError(.emailTaken, "That email address already belongs to an account."))
        }
    }

    @Test func takenNameOrEmailIsRefusedBeforeTheCodeIsUsed() async throws {
        try await self.withAccounts { fixture in
            let accounts = fixture.accounts
            let first = try await self.code(fixture, "bo@example.com")
            _ = try await accounts.register(.init(username: "Bo", password: "password 1", email: "bo@example.com", code: first))

            let code = try await self.code(fixture, "other@example.com")
            let taken = await #expect(throws: ParleyError.self) {
                try await accounts.register(.init(username: "BO", password: "password 1", email: "other@example.com", code: code))
            }
            #expect(taken == ParleyError(.usernameTaken, "That username is already taken."))
            // The code survived the refusal: the next try with a free name uses it.
            _ = try await accounts.register(.init(username: "Cy", password: "password 1", email: "other@example.com", code: code))

            let availability = try await accounts.check(.init(username: "bo", email: "OTHER@example.com"))
            #expect(availability.username == "taken")
            #expect(availability.email == "taken")
            let free = try await accounts.check(.init(username: "dee", email: "dee@example.com"))
            #expect(free == .init(username: "available", email: "available", message: nil))
            let invalid = try await accounts.check(.init(username: "a b", email: "not-an-address"))
            #expect(invalid.username == "invalid")
            #expect(invalid.email == "invalid")
            #expect(invalid.message != nil)
        }
    }

    @Test func loginByEmailAndFailedLoginsAreLimited() async throws {
        try await self.withAccounts { fixture in
            let accounts = fixture.accounts
            let code = try await self.code(fixture, "eve@example.com")
            _ = try await accounts.register(.init(username: "eve", password: "password 1", email: "eve@example.com", code: code))
            #expect(try await accounts.login(.init(username: "EVE@example.com", password: "password 1")).username == "eve")

            for _ in 0..<10 {
                await #expect(throws: ParleyError(.invalidCredentials, "Wrong username or password.")) {
                    try await accounts.login(.init(username: "Eve", password: "wrong password", clientAddress: "192.0.2.1"))
                }
            }
            // The 11th, even with the right password, waits for the window.
            let limited = await #expect(throws: ParleyError.self) {
                try await accounts.login(.init(username: "eve", password: "password 1"))
            }
            #expect(limited?.code == .rateLimited)
            #expect(limited?.message.contains("try again in") == true)
            // Another account from another address is not held back.
            let other = try await self.code(fixture, "fay@example.com")
            _ = try await accounts.register(.init(username: "fay", password: "password 1", email: "fay@example.com", code: other))
            #expect(try await accounts.login(.init(username: "fay", password: "password 1", clientAddress: "192.0.2.2")).username == "fay")
        }
    }

    @Test func questionsAboutAddressesAreLimitedPerClient() async throws {
        try await self.withAccounts { fixture in
            for index in 0..<30 {
                let answer = try await fixture.accounts.check(.init(username: nil, email: "a\(index)@example.com", clientAddress: "192.0.2.9"))
                #expect(answer.email == "available")
            }
            let limited = await #expect(throws: ParleyError.self) {
                try await fixture.accounts.check(.init(username: nil, email: "b@example.com", clientAddress: "192.0.2.9"))
            }
            #expect(limited?.code == .rateLimited)
            // Another client, and questions about usernames alone, are not held back.
            #expect(try await fixture.accounts.check(.init(username: nil, email: "b@example.com", clientAddress: "192.0.2.10")).email == "available")
            #expect(try await fixture.accounts.check(.init(username: "zed", email: nil, clientAddress: "192.0.2.9")).username == "available")
        }
    }

    @Test func guessesSentAllAtOnceAreCountedBeforeAnyIsChecked() async throws {
        try await self.withAccounts { fixture in
            let accounts = fixture.accounts
            let code = try await self.code(fixture, "ivy@example.com")
            _ = try await accounts.register(.init(username: "ivy", password: "password 1", email: "ivy@example.com", code: code))
            let outcomes = await withTaskGroup(of: ParleyError.Code?.self) { group in
                for index in 0..<30 {
                    group.addTask {
                        do {
                            _ = try await accounts.login(.init(username: "ivy", password: "guess \(index)", clientAddress: "203.0.113.\(index)"))
                            return nil
                        } catch let error as ParleyError {
                            return error.code
                        } catch {
                            return .internal
                        }
                    }
                }
                return await group.reduce(into: [ParleyError.Code?]()) { $0.append($1) }
            }
            #expect(outcomes.filter { $0 == .invalidCredentials }.count == 10)
            #expect(outcomes.filter { $0 == .rateLimited }.count == 20)
        }
    }

    @Test func failedLoginsFromOneAddressAreLimitedAcrossAccounts() async throws {
        try await self.withAccounts { fixture in
            let accounts = fixture.accounts
            for index in 0..<50 {
                _ = try? await accounts.login(.init(username: "guess\(index)", password: "password x", clientAddress: "198.51.100.7"))
            }
            let limited = await #expect(throws: ParleyError.self) {
                try await accounts.login(.init(username: "someone", password: "password x", clientAddress: "198.51.100.7"))
            }
            #expect(limited?.code == .rateLimited)
            #expect(limited?.message.contains("network address") == true)
        }
    }

    @Test func resetChangesThePasswordAndEndsEverySession() async throws {
        try await self.withAccounts { fixture in
            let accounts = fixture.accounts
            let code = try await self.code(fixture, "gil@example.com")
            _ = try await accounts.register(.init(username: "gil", password: "old password", email: "gil@example.com", code: code))
            let phone = try await accounts.login(.init(username: "gil", password: "old password"))
            let laptop = try await accounts.login(.init(username: "gil@example.com", password: "old password"))

            // A register code is not a reset code.
            let registerCode = try await self.code(fixture, "gil2@example.com")
            let wrongPurpose = await #expect(throws: ParleyError.self) {
                try await accounts.resetPassword(.init(email: "gil2@example.com", code: registerCode, password: "new password"))
            }
            #expect(wrongPurpose?.code == .invalidCredentials)

            try await Task.sleep(for: .milliseconds(5))
            let resetCode = try await self.code(fixture, "GIL@example.com", .reset)
            _ = try await accounts.resetPassword(.init(email: "gil@example.com", code: resetCode, password: "new password"))
            for token in [phone.token, laptop.token] {
                let ended = await #expect(throws: ParleyError.self) { try await accounts.session(.init(token: token)) }
                #expect(ended?.code == .unauthenticated)
            }
            await #expect(throws: ParleyError(.invalidCredentials, "Wrong username or password.")) {
                try await accounts.login(.init(username: "gil", password: "old password"))
            }
            #expect(try await accounts.login(.init(username: "gil", password: "new password")).username == "gil")
            // The code was used up.
            let reused = await #expect(throws: ParleyError.self) {
                try await accounts.resetPassword(.init(email: "gil@example.com", code: resetCode, password: "third password"))
            }
            #expect(reused?.code == .invalidCredentials)
        }
    }

    @Test func resetOfAnAddressWithoutAccountSaysSoOnlyToTheMailboxOwner() async throws {
        try await self.withAccounts { fixture in
            let code = try await self.code(fixture, "nobody@example.com", .reset)
            let error = await #expect(throws: ParleyError.self) {
                try await fixture.accounts.resetPassword(.init(email: "nobody@example.com", code: code, password: "new password"))
            }
            #expect(error?.code == .notFound)
        }
    }

    @Test func profileEdits() async throws {
        try await self.withAccounts { fixture in
            let accounts = fixture.accounts
            let code = try await self.code(fixture, "hal@example.com")
            _ = try await accounts.register(.init(username: "hal", password: "password 1", email: "hal@example.com", code: code))
            let token = try await accounts.login(.init(username: "hal", password: "password 1")).token
            let saved = try await accounts.updateProfile(.init(token: token, nickname: "Hal 9000", description: "I'm sorry, Dave.\nReally."))
            #expect(saved.nickname == "Hal 9000")
            #expect(try await accounts.profile(.init(token: token)) == saved)
            let blank = await #expect(throws: ParleyError.self) {
                try await accounts.updateProfile(.init(token: token, nickname: " ", description: ""))
            }
            #expect(blank?.code == .invalidInput)
            let long = await #expect(throws: ParleyError.self) {
                try await accounts.updateProfile(.init(token: token, nickname: "x", description: String(repeating: "y", count: 1001)))
            }
            #expect(long?.code == .tooLarge)
            let stranger = await #expect(throws: ParleyError.self) {
                try await accounts.updateProfile(.init(token: "not-a-session", nickname: "x", description: ""))
            }
            #expect(stranger?.code == .unauthenticated)
            #expect(try await accounts.profile(.init(token: token)) == saved)
        }
    }
}
