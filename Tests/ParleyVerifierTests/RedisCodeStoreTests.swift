import ParleyTestSupport
import Foundation
import ParleyCore
import RedisClient
import Testing

@testable import ParleyVerifier

/// The rules on ``RedisCodeStore`` against a real `redis-server` (with a password), with short real
/// durations where time matters: Redis keeps its own time.
@Suite("Verification code rules on Redis", .enabled(if: RedisServer.isEnabled))
struct RedisCodeStoreTests {
    let email = "alice@example.com"

    static func make(
        _ configuration: VerificationCodes.Configuration = .init(),
        mailer: CapturingMailer = CapturingMailer(),
        generator: CodeGenerator = .system
    ) async throws -> (VerificationCodes, RedisCodeStore, CapturingMailer, RedisClient, String) {
        let server = try await RedisServer.shared()
        let connection = RedisClient(configuration: .init(host: "127.0.0.1", port: await server.port, password: server.password, poolSize: 4))
        let store = RedisCodeStore(redis: connection)
        var configuration = configuration
        configuration.keyPrefix = "test:\(UUID().uuidString.lowercased()):"
        let codes = VerificationCodes(
            store: store, mailer: mailer, configuration: configuration, generator: generator, logger: VerifierTesting.quietLogger
        )
        return (codes, store, mailer, connection, configuration.keyPrefix)
    }

    @Test("Single use; the code key lives 3 minutes in Redis")
    func singleUse() async throws {
        let (codes, _, mailer, redis, prefix) = try await Self.make()
        _ = try await codes.issue(email: self.email, purpose: .register, clientAddress: "192.0.2.1")
        guard case .integer(let ttl) = try await redis.send(["PTTL", "\(prefix)code:register:\(self.email)"]) else {
            Issue.record("no expiry on the code")
            return
        }
        #expect((179_000...180_000).contains(ttl))
        let code = try await mailer.lastCode()
        try await codes.check(email: self.email, purpose: .register, code: code)
        let again = try await VerifierTesting.parleyError {
            try await codes.check(email: self.email, purpose: .register, code: code)
        }
        #expect(again.message.contains("no valid code"))
        #expect(try await redis.send(["EXISTS", "\(prefix)code:register:\(self.email)"]) == .integer(0))
    }

    @Test("A code expires")
    func expiry() async throws {
        let (codes, _, mailer, _, _) = try await Self.make(.init(validity: .milliseconds(300)))
        _ = try await codes.issue(email: self.email, purpose: .register, clientAddress: nil)
        try await Task.sleep(for: .milliseconds(400))
        let error = try await VerifierTesting.parleyError {
            try await codes.check(email: self.email, purpose: .register, code: try await mailer.lastCode())
        }
        #expect(error.message.contains("expired"))
    }

    @Test("5 wrong tries burn the code; the right one fails after")
    func wrongTries() async throws {
        let (codes, _, mailer, _, _) = try await Self.make()
        _ = try await codes.issue(email: self.email, purpose: .register, clientAddress: nil)
        let code = try await mailer.lastCode()
        for left in [4, 3, 2, 1] {
            let error = try await VerifierTesting.parleyError {
                try await codes.check(email: self.email, purpose: .register, code: VerifierTesting.wrong(code))
            }
            #expect(error.message.contains(left == 1 ? "1 try left" : "\(left) tries left"))
        }
        let fifth = try await VerifierTesting.parleyError {
            try await codes.check(email: self.email, purpose: .register, code: VerifierTesting.wrong(code))
        }
        #expect(fifth.message.contains("no longer works"))
        let sixth = try await VerifierTesting.parleyError {
            try await codes.check(email: self.email, purpose: .register, code: code)
        }
        #expect(sixth.message.contains("no valid code"))
    }

    @Test("Cooldown with the seconds left, then a new code")
    func cooldown() async throws {
        let (codes, _, mailer, _, _) = try await Self.make()
        _ = try await codes.issue(email: self.email, purpose: .register, clientAddress: nil)
        let error = try await VerifierTesting.parleyError {
            _ = try await codes.issue(email: "ALICE@example.com", purpose: .reset, clientAddress: nil)
        }
        #expect(error.code == .rateLimited)
        #expect(error.message.hasSuffix("try again in 60 s."), "\(error.message)")

        let (short, _, shortMailer, _, _) = try await Self.make(.init(resendCooldown: .milliseconds(200)))
        _ = try await short.issue(email: self.email, purpose: .register, clientAddress: nil)
        try await Task.sleep(for: .milliseconds(250))
        _ = try await short.issue(email: self.email, purpose: .register, clientAddress: nil)
        #expect(await shortMailer.messages.count == 2)
        #expect(await mailer.messages.count == 1)
    }

    @Test("Hourly limit per address, and per client address")
    func limits() async throws {
        let (codes, _, mailer, _, _) = try await Self.make(.init(resendCooldown: .milliseconds(20), emailLimit: 3, clientLimit: 4))
        for _ in 0..<3 {
            _ = try await codes.issue(email: self.email, purpose: .register, clientAddress: "192.0.2.1")
            try await Task.sleep(for: .milliseconds(30))
        }
        let error = try await VerifierTesting.parleyError {
            _ = try await codes.issue(email: self.email, purpose: .register, clientAddress: "192.0.2.1")
        }
        #expect(error.message.hasPrefix("alice@example.com has been sent 3 codes in the last hour; try again in 3"), "\(error.message)")
        _ = try await codes.issue(email: "bob@example.com", purpose: .register, clientAddress: "192.0.2.1")
        let client = try await VerifierTesting.parleyError {
            _ = try await codes.issue(email: "carol@example.com", purpose: .register, clientAddress: "192.0.2.1")
        }
        #expect(client.message.hasPrefix("Too many codes were asked for from your network address in the last hour; try again in 3"))
        _ = try await codes.issue(email: "carol@example.com", purpose: .register, clientAddress: "192.0.2.2")
        #expect(await mailer.messages.count == 5)
    }

    @Test("A failed send leaves nothing that blocks")
    func failedSend() async throws {
        let mailer = CapturingMailer(failingWith: SomeMailFailure())
        let (codes, _, _, _, _) = try await Self.make(mailer: mailer, generator: CodeGenerator { "424242" })
        let error = try await VerifierTesting.parleyError {
            _ = try await codes.issue(email: self.email, purpose: .register, clientAddress: nil)
        }
        #expect(error.message.contains("could not be sent"))
        let check = try await VerifierTesting.parleyError {
            try await codes.check(email: self.email, purpose: .register, code: "424242")
        }
        #expect(check.message.contains("no valid code"))
        await mailer.fail(with: nil)
        _ = try await codes.issue(email: self.email, purpose: .register, clientAddress: nil)
        try await codes.check(email: self.email, purpose: .register, code: "424242")
    }

    @Test("Races: 20 concurrent issues send one code; 20 concurrent checks accept it once; 50 guesses judged 5 times")
    func races() async throws {
        let (codes, _, mailer, _, _) = try await Self.make(generator: CodeGenerator { "999999" })
        let issued = await withTaskGroup(of: Bool.self) { group in
            for index in 0..<20 {
                group.addTask { (try? await codes.issue(email: self.email, purpose: .register, clientAddress: "192.0.2.\(index)")) != nil }
            }
            return await group.reduce(into: 0) { $0 += $1 ? 1 : 0 }
        }
        #expect(issued == 1)
        #expect(await mailer.messages.count == 1)

        let guesses = await withTaskGroup(of: String.self) { group in
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
        #expect(guesses.filter { $0.contains("left before") }.count == 4)
        #expect(guesses.filter { $0.contains("no longer works") }.count == 1)

        let (fresh, _, freshMailer, _, _) = try await Self.make()
        _ = try await fresh.issue(email: self.email, purpose: .register, clientAddress: nil)
        let code = try await freshMailer.lastCode()
        let accepted = await withTaskGroup(of: Bool.self) { group in
            for _ in 0..<20 {
                group.addTask { (try? await fresh.check(email: self.email, purpose: .register, code: code)) != nil }
            }
            return await group.reduce(into: 0) { $0 += $1 ? 1 : 0 }
        }
        #expect(accepted == 1)
    }

    @Test("Store operations: claim, count window, delete only one's own value")
    func operations() async throws {
        let (_, store, _, redis, prefix) = try await Self.make()
        let key = "\(prefix)k"
        #expect(try await store.claim(key, token: "a", for: .seconds(60)) == .claimed)
        guard case .held(let remaining) = try await store.claim(key, token: "b", for: .seconds(60)) else {
            Issue.record("not held")
            return
        }
        #expect(remaining > .seconds(59) && remaining <= .seconds(60))
        try await store.delete(key, ifValue: "b")
        #expect(try await redis.send(["GET", key]).string == "a")
        try await store.delete(key, ifValue: "a")
        #expect(try await redis.send(["GET", key]) == .bulkString(nil))

        let counter = "\(prefix)n"
        #expect(try await store.count(counter, limit: 1, window: .seconds(100)) == .counted(1))
        guard case .limited = try await store.count(counter, limit: 1, window: .seconds(100)) else {
            Issue.record("not limited")
            return
        }
        try await store.uncount(counter)
        #expect(try await store.count(counter, limit: 1, window: .seconds(200)) == .counted(1))
        guard case .integer(let ttl) = try await redis.send(["PTTL", counter]) else { return }
        #expect(ttl <= 100_000)  // the window was not extended

        let codeKey = "\(prefix)c"
        try await store.putCode(codeKey, code: "123456", for: .seconds(60))
        try await store.delete(codeKey, ifValue: "654321")
        #expect(try await store.consumeCode(codeKey, code: "12345", maxTries: 5) == .wrong(triesLeft: 4))
        try await store.putCode(codeKey, code: "123456", for: .seconds(60))
        #expect(try await store.consumeCode(codeKey, code: "1234567", maxTries: 5) == .wrong(triesLeft: 4))
        try await store.delete(codeKey, ifValue: "123456")
        #expect(try await store.consumeCode(codeKey, code: "123456", maxTries: 5) == .missing)
        #expect(RedisCodeStore.milliseconds(.microseconds(1500)) == "2")
    }
}
