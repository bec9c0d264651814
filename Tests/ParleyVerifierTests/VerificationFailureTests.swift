import ParleyTestSupport
import ParleyCore
import SMTPClient
import Testing

@testable import ParleyVerifier

/// A store that cannot be reached.
struct BrokenStore: CodeStore {
    struct Down: Error {}
    func claim(_ key: String, token: String, for duration: Duration) async throws -> ClaimResult { throw Down() }
    func count(_ key: String, limit: Int, window: Duration) async throws -> CountResult { throw Down() }
    func uncount(_ key: String) async throws { throw Down() }
    func putCode(_ key: String, code: String, for duration: Duration) async throws { throw Down() }
    func consumeCode(_ key: String, code: String, maxTries: Int) async throws -> ConsumeResult { throw Down() }
    func delete(_ key: String, ifValue value: String) async throws { throw Down() }
}

/// Failed sends, an unreachable store, and concurrent requests.
@Suite("Verification code failures and races")
struct VerificationFailureTests {
    let email = "alice@example.com"

    @Test("A failed send asks to try again and leaves no code and no cooldown")
    func failedSend() async throws {
        let mailer = CapturingMailer(failingWith: SomeMailFailure())
        let (codes, _, _, _) = VerifierTesting.make(
            mailer: mailer, generator: CodeGenerator { "424242" }
        )
        let error = try await VerifierTesting.parleyError {
            _ = try await codes.issue(email: self.email, purpose: .register, clientAddress: "192.0.2.1")
        }
        #expect(error == ParleyError(.unavailable, "The code could not be sent to alice@example.com just now; please try again in a moment."))
        // The code that was not delivered does not work.
        let check = try await VerifierTesting.parleyError {
            try await codes.check(email: self.email, purpose: .register, code: "424242")
        }
        #expect(check.message.contains("no valid code"))
        // The next request goes through at once.
        await mailer.fail(with: nil)
        _ = try await codes.issue(email: self.email, purpose: .register, clientAddress: "192.0.2.1")
        try await codes.check(email: self.email, purpose: .register, code: try await mailer.lastCode())
    }

    @Test("A failed send still counts in the hourly limits")
    func failedSendCounts() async throws {
        let mailer = CapturingMailer(failingWith: SomeMailFailure())
        let (codes, _, _, clock) = VerifierTesting.make(configuration: .init(emailLimit: 2, clientLimit: 3), mailer: mailer)
        for _ in 0..<2 {
            _ = try await VerifierTesting.parleyError {
                _ = try await codes.issue(email: self.email, purpose: .register, clientAddress: "192.0.2.1")
            }
        }
        await mailer.fail(with: nil)
        let limited = try await VerifierTesting.parleyError {
            _ = try await codes.issue(email: self.email, purpose: .register, clientAddress: "192.0.2.1")
        }
        #expect(limited.message.hasSuffix("try again in 3600 s."))
        _ = try await codes.issue(email: "bob@example.com", purpose: .register, clientAddress: "192.0.2.1")
        clock.advance(by: .seconds(60))
        let client = try await VerifierTesting.parleyError {
            _ = try await codes.issue(email: "carol@example.com", purpose: .register, clientAddress: "192.0.2.1")
        }
        #expect(client.message.contains("network address"))
    }

    @Test("A mailer's ParleyError reaches the user as it is, and nothing blocks")
    func mailerParleyError() async throws {
        let refusal = ParleyError(.invalidInput, "The mail server refused the address alice@example.com; check it and try again.")
        let mailer = CapturingMailer(failingWith: refusal)
        let (codes, store, _, _) = VerifierTesting.make(mailer: mailer)
        let error = try await VerifierTesting.parleyError {
            _ = try await codes.issue(email: self.email, purpose: .reset, clientAddress: nil)
        }
        #expect(error == refusal)
        #expect(await store.storedCount == 1)  // the hourly count only
        await mailer.fail(with: nil)
        _ = try await codes.issue(email: self.email, purpose: .reset, clientAddress: nil)
    }

    @Test("An unreachable store is unavailable, never a crash")
    func brokenStore() async throws {
        let codes = VerificationCodes(store: BrokenStore(), mailer: CapturingMailer(), logger: VerifierTesting.quietLogger)
        let issue = try await VerifierTesting.parleyError {
            _ = try await codes.issue(email: self.email, purpose: .register, clientAddress: nil)
        }
        #expect(issue == ParleyError(.unavailable, "Cannot send a code right now: the code store is unavailable; please try again in a moment."))
        let check = try await VerifierTesting.parleyError {
            try await codes.check(email: self.email, purpose: .register, code: "123456")
        }
        #expect(check.code == .unavailable)
    }

    @Test("20 concurrent requests for one address send exactly one code")
    func concurrentIssues() async throws {
        let (codes, _, mailer, _) = VerifierTesting.make()
        let results = await withTaskGroup(of: Bool.self) { group in
            for index in 0..<20 {
                group.addTask {
                    let spelling = index.isMultiple(of: 2) ? "alice@example.com" : "ALICE@Example.com"
                    return (try? await codes.issue(email: spelling, purpose: .register, clientAddress: "192.0.2.\(index)")) != nil
                }
            }
            return await group.reduce(into: [Bool]()) { $0.append($1) }
        }
        #expect(results.filter { $0 }.count == 1)
        #expect(await mailer.messages.count == 1)
    }

    @Test("Concurrent checks of the right code: exactly one succeeds")
    func concurrentChecks() async throws {
        let (codes, _, mailer, _) = VerifierTesting.make()
        _ = try await codes.issue(email: self.email, purpose: .register, clientAddress: nil)
        let code = try await mailer.lastCode()
        let results = await withTaskGroup(of: Bool.self) { group in
            for _ in 0..<20 {
                group.addTask { (try? await codes.check(email: self.email, purpose: .register, code: code)) != nil }
            }
            return await group.reduce(into: [Bool]()) { $0.append($1) }
        }
        #expect(results.filter { $0 }.count == 1)
    }

    @Test("Concurrent wrong guesses: at most 5 are judged, then the code is gone")
    func concurrentGuesses() async throws {
        let (codes, _, mailer, _) = VerifierTesting.make(generator: CodeGenerator { "999999" })
        _ = try await codes.issue(email: self.email, purpose: .register, clientAddress: nil)
        #expect(try await mailer.lastCode() == "999999")
        let messages = await withTaskGroup(of: String.self) { group in
            for guess in 0..<50 {
                group.addTask {
                    do {
                        try await codes.check(email: self.email, purpose: .register, code: CodeGenerator.format(UInt32(guess)))
                        return "accepted"
                    } catch {
                        return "\(error)"
                    }
                }
            }
            return await group.reduce(into: [String]()) { $0.append($1) }
        }
        #expect(messages.filter { $0.contains("tries left") || $0.contains("1 try left") }.count == 4)
        #expect(messages.filter { $0.contains("no longer works") }.count == 1)
        #expect(messages.filter { $0.contains("no valid code") }.count == 45)
        let after = try await VerifierTesting.parleyError {
            try await codes.check(email: self.email, purpose: .register, code: "999999")
        }
        #expect(after.code == .invalidCredentials)
    }
}
