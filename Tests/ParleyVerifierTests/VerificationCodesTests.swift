import ParleyCore
import SMTPClient
import Testing

@testable import ParleyVerifier

/// The rules, over the memory store with a manual clock.
@Suite("Verification code rules")
struct VerificationCodesTests {
    let email = "alice@example.com"

    @Test("A code is 6 digits, mailed, accepted once")
    func singleUse() async throws {
        let (codes, _, mailer, _) = VerifierTesting.make()
        let issued = try await codes.issue(email: self.email, purpose: .register, clientAddress: "192.0.2.1")
        #expect(issued.email.normalized == self.email)
        #expect(issued.validFor == .seconds(180))
        #expect(issued.resendAfter == .seconds(60))
        let code = try await mailer.lastCode()
        #expect(await mailer.messages.count == 1)
        #expect(await mailer.messages[0].to.map(\.address) == [self.email])

        try await codes.check(email: self.email, purpose: .register, code: code)
        let again = try await VerifierTesting.parleyError {
            try await codes.check(email: self.email, purpose: .register, code: code)
        }
        #expect(again.code == .invalidCredentials)
        #expect(again.message.contains("no valid code"))
    }

    @Test("A code expires at exactly 3 minutes")
    func expiry() async throws {
        let (codes, _, mailer, clock) = VerifierTesting.make()
        _ = try await codes.issue(email: self.email, purpose: .register, clientAddress: nil)
        clock.advance(by: .seconds(180) - .nanoseconds(1))
        try await codes.check(email: self.email, purpose: .register, code: try await mailer.lastCode())

        clock.advance(by: .seconds(60))
        _ = try await codes.issue(email: self.email, purpose: .register, clientAddress: nil)
        clock.advance(by: .seconds(180))
        let expired = try await VerifierTesting.parleyError {
            try await codes.check(email: self.email, purpose: .register, code: try await mailer.lastCode())
        }
        #expect(expired.code == .invalidCredentials)
        #expect(expired.message.contains("expired"))
    }

    @Test("The validity is configurable")
    func configurableValidity() async throws {
        let (codes, _, mailer, clock) = VerifierTesting.make(configuration: .init(validity: .seconds(600)))
        let issued = try await codes.issue(email: self.email, purpose: .reset, clientAddress: nil)
        #expect(issued.validFor == .seconds(600))
        #expect(try #require(await mailer.messages.last).body.contains("valid for 10 minutes"))
        clock.advance(by: .seconds(599))
        try await codes.check(email: self.email, purpose: .reset, code: try await mailer.lastCode())
    }

    @Test("5 wrong tries burn the code; the right one fails after")
    func wrongTries() async throws {
        let (codes, store, mailer, _) = VerifierTesting.make()
        _ = try await codes.issue(email: self.email, purpose: .register, clientAddress: nil)
        let code = try await mailer.lastCode()
        for left in [4, 3, 2, 1] {
            let error = try await VerifierTesting.parleyError {
                try await codes.check(email: self.email, purpose: .register, code: VerifierTesting.wrong(code))
            }
            #expect(error.code == .invalidCredentials)
            #expect(error.message.contains(left == 1 ? "1 try left" : "\(left) tries left"))
        }
        let fifth = try await VerifierTesting.parleyError {
            try await codes.check(email: self.email, purpose: .register, code: VerifierTesting.wrong(code))
        }
        #expect(fifth.message.contains("after 5 wrong tries it no longer works"))
        #expect(await store.storedCount == 2)  // the cooldown and the count, not the code
        let sixth = try await VerifierTesting.parleyError {
            try await codes.check(email: self.email, purpose: .register, code: code)
        }
        #expect(sixth.code == .invalidCredentials)
        #expect(sixth.message.contains("no valid code"))
    }

    @Test("The right code after 4 wrong tries still works")
    func rightAfterFourWrong() async throws {
        let (codes, _, mailer, _) = VerifierTesting.make()
        _ = try await codes.issue(email: self.email, purpose: .register, clientAddress: nil)
        let code = try await mailer.lastCode()
        for _ in 0..<4 {
            _ = try await VerifierTesting.parleyError {
                try await codes.check(email: self.email, purpose: .register, code: VerifierTesting.wrong(code))
            }
        }
        try await codes.check(email: self.email, purpose: .register, code: code)
    }

    @Test("A code is for one purpose only")
    func purposes() async throws {
        let (codes, _, mailer, _) = VerifierTesting.make()
        _ = try await codes.issue(email: self.email, purpose: .register, clientAddress: nil)
        let code = try await mailer.lastCode()
        let error = try await VerifierTesting.parleyError {
            try await codes.check(email: self.email, purpose: .reset, code: code)
        }
        #expect(error.code == .invalidCredentials)
        try await codes.check(email: self.email, purpose: .register, code: code)
    }

    @Test("A code that is not 6 digits is refused without costing a try", arguments: ["12345", "1234567", "12a456", "", "１２３４５６"])
    func malformedCode(code: String) async throws {
        let (codes, _, mailer, _) = VerifierTesting.make()
        _ = try await codes.issue(email: self.email, purpose: .register, clientAddress: nil)
        for _ in 0..<6 {
            let error = try await VerifierTesting.parleyError {
                try await codes.check(email: self.email, purpose: .register, code: code)
            }
            #expect(error == ParleyError(.invalidInput, "A verification code is 6 digits, such as 012345."))
        }
        try await codes.check(email: self.email, purpose: .register, code: " \(try await mailer.lastCode())\n")
    }

    @Test("One code per address per 60 s, with the real seconds left")
    func cooldown() async throws {
        let (codes, _, mailer, clock) = VerifierTesting.make()
        _ = try await codes.issue(email: self.email, purpose: .register, clientAddress: nil)
        let first = try await mailer.lastCode()
        clock.advance(by: .milliseconds(10_300))
        let error = try await VerifierTesting.parleyError {
            _ = try await codes.issue(email: self.email, purpose: .register, clientAddress: nil)
        }
        #expect(error.code == .rateLimited)
        #expect(error.message.hasSuffix("try again in 50 s."), "\(error.message)")
        // Other purposes share the cooldown: it protects the mailbox.
        clock.advance(by: .milliseconds(49_699))
        let reset = try await VerifierTesting.parleyError {
            _ = try await codes.issue(email: self.email, purpose: .reset, clientAddress: nil)
        }
        #expect(reset.message.hasSuffix("try again in 1 s."), "\(reset.message)")
        #expect(await mailer.messages.count == 1)

        clock.advance(by: .milliseconds(1))
        _ = try await codes.issue(email: self.email, purpose: .register, clientAddress: nil)
        let second = try await mailer.lastCode()
        // The new code replaces the old one.
        if second != first {
            _ = try await VerifierTesting.parleyError {
                try await codes.check(email: self.email, purpose: .register, code: first)
            }
        }
        try await codes.check(email: self.email, purpose: .register, code: second)
    }

    @Test("At most 10 codes per address per hour")
    func hourlyLimit() async throws {
        let (codes, _, mailer, clock) = VerifierTesting.make()
        for index in 0..<10 {
            let purpose: CodePurpose = index.isMultiple(of: 2) ? .register : .reset
            _ = try await codes.issue(email: self.email, purpose: purpose, clientAddress: "192.0.2.\(index)")
            clock.advance(by: .seconds(60))
        }
        #expect(await mailer.messages.count == 10)
        // Now at 600 s; the window started at 0 and ends at 3600.
        let error = try await VerifierTesting.parleyError {
            _ = try await codes.issue(email: self.email, purpose: .register, clientAddress: nil)
        }
        #expect(error.code == .rateLimited)
        #expect(error.message == "alice@example.com has been sent 10 codes in the last hour; try again in 3000 s.")
        // A refusal does not hold the cooldown: the next refusal still tells the hourly time left.
        clock.advance(by: .seconds(1))
        let later = try await VerifierTesting.parleyError {
            _ = try await codes.issue(email: self.email, purpose: .register, clientAddress: nil)
        }
        #expect(later.message.hasSuffix("try again in 2999 s."))
        clock.advance(by: .seconds(2999))
        _ = try await codes.issue(email: self.email, purpose: .register, clientAddress: nil)
        #expect(await mailer.messages.count == 11)
    }

    @Test("A limit per client address")
    func clientLimit() async throws {
        let configuration = VerificationCodes.Configuration(clientLimit: 3, clientWindow: .seconds(1800))
        let (codes, _, mailer, clock) = VerifierTesting.make(configuration: configuration)
        for index in 0..<3 {
            _ = try await codes.issue(email: "user\(index)@example.com", purpose: .register, clientAddress: "2001:db8::1")
        }
        clock.advance(by: .seconds(100))
        let error = try await VerifierTesting.parleyError {
            _ = try await codes.issue(email: "user3@example.com", purpose: .register, clientAddress: "2001:db8::1")
        }
        #expect(error.code == .rateLimited)
        #expect(error.message == "Too many codes were asked for from your network address in the last 30 minutes; try again in 1700 s.")
        // The refused address was not put on cooldown nor counted: another client may ask for it.
        _ = try await codes.issue(email: "user3@example.com", purpose: .register, clientAddress: "2001:db8::2")
        _ = try await codes.issue(email: "user4@example.com", purpose: .register, clientAddress: nil)
        #expect(await mailer.messages.count == 5)
        clock.advance(by: .seconds(1700))
        _ = try await codes.issue(email: "user5@example.com", purpose: .register, clientAddress: "2001:db8::1")
    }

    @Test("A request refused by the cooldown does not count against the client address")
    func cooldownDoesNotCountForClient() async throws {
        let (codes, _, _, _) = VerifierTesting.make(configuration: .init(clientLimit: 2))
        _ = try await codes.issue(email: self.email, purpose: .register, clientAddress: "192.0.2.7")
        for _ in 0..<5 {
            _ = try await VerifierTesting.parleyError {
                _ = try await codes.issue(email: self.email, purpose: .register, clientAddress: "192.0.2.7")
            }
        }
        _ = try await codes.issue(email: "bob@example.com", purpose: .register, clientAddress: "192.0.2.7")
    }

    @Test("The address is normalised: one address, one code, one cooldown")
    func normalisation() async throws {
        let (codes, _, mailer, _) = VerifierTesting.make()
        let issued = try await codes.issue(email: " \tAlice@Example.COM \n", purpose: .register, clientAddress: nil)
        #expect(issued.email.normalized == "alice@example.com")
        #expect(await mailer.messages.last?.to.map(\.address) == ["Alice@example.com"])
        let error = try await VerifierTesting.parleyError {
            _ = try await codes.issue(email: "ALICE@example.com", purpose: .register, clientAddress: nil)
        }
        #expect(error.message.contains("try again in 60 s"))
        try await codes.check(email: "alice@EXAMPLE.com", purpose: .register, code: try await mailer.lastCode())
    }

    @Test("An invalid address is refused before anything is stored")
    func invalidAddress() async throws {
        let (codes, store, mailer, _) = VerifierTesting.make()
        let error = try await VerifierTesting.parleyError {
            _ = try await codes.issue(email: "alice@", purpose: .register, clientAddress: "192.0.2.1")
        }
        #expect(error.code == .invalidInput)
        #expect(await store.storedCount == 0)
        #expect(await mailer.messages.isEmpty)
        let check = try await VerifierTesting.parleyError {
            try await codes.check(email: "not an address", purpose: .register, code: "123456")
        }
        #expect(check.code == .invalidInput)
    }

    @Test("The injected generator makes the code")
    func injectedGenerator() async throws {
        let (codes, _, mailer, _) = VerifierTesting.make(generator: CodeGenerator { "012345" })
        _ = try await codes.issue(email: self.email, purpose: .register, clientAddress: nil)
        #expect(try await mailer.lastCode() == "012345")
        try await codes.check(email: self.email, purpose: .register, code: "012345")
    }

    @Test("A generator that breaks the format is an internal error, and nothing blocks")
    func brokenGenerator() async throws {
        let (codes, store, mailer, _) = VerifierTesting.make(generator: CodeGenerator { "12345" })
        let error = try await VerifierTesting.parleyError {
            _ = try await codes.issue(email: self.email, purpose: .register, clientAddress: nil)
        }
        #expect(error.code == .internal)
        #expect(await mailer.messages.isEmpty)
        // Nothing was sent: no code, the cooldown deleted, the count taken back (an empty counter remains).
        #expect(await store.storedCount == 1)
        let next = try await VerifierTesting.parleyError {
            _ = try await codes.issue(email: self.email, purpose: .register, clientAddress: nil)
        }
        #expect(next.code == .internal)
    }
}
