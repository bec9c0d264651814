import Foundation
import ParleyCore
import ParleyTestSupport
import SMTPClient
import Synchronization
import Testing

@testable import ParleyVerifier

@Suite("Verification mail and the outbox")
struct MailerTests {
    static func message(code: String = "042042", purpose: CodePurpose = .register) throws -> Email {
        try VerificationMail.make(
            code: code, purpose: purpose, to: try EmailAddress("Zoe@Example.com"),
            from: Email.Address("no-reply@parley.test", displayName: "Parley"), validity: .seconds(180)
        )
    }

    static func temporaryFolder() -> URL {
        URL(fileURLWithPath: "/tmp/parley-outbox-test-\(UUID().uuidString.lowercased())", isDirectory: true)
    }

    static func mode(_ path: String) throws -> Int {
        let attributes = try FileManager.default.attributesOfItem(atPath: path)
        return try #require(attributes[.posixPermissions] as? Int) & 0o777
    }

    @Test("The message: subject with the code, validity, what to do if you did not ask")
    func message() throws {
        let register = try Self.message()
        #expect(register.subject == "Your Parley code: 042042")
        #expect(register.to.map(\.address) == ["Zoe@example.com"])
        #expect(register.body.contains("\n    042042\n"))
        #expect(register.body.contains("valid for 3 minutes and works only once"))
        #expect(register.body.contains("If you did not ask for this code"))
        #expect(register.body.contains("no account will be created"))
        let reset = try Self.message(purpose: .reset)
        #expect(reset.body.contains("reset the password"))
        #expect(reset.body.contains("or have no Parley account with this address"))
        #expect(reset.body.contains("a password stays as it is"))
        #expect(VerificationMail.describe(.seconds(60)) == "1 minute")
        #expect(VerificationMail.describe(.seconds(90)) == "90 seconds")
    }

    @Test("The outbox writes each message as a .eml file, folder 0700, files 0600")
    func outbox() async throws {
        let folder = Self.temporaryFolder().appendingPathComponent("nested/outbox")
        defer { try? FileManager.default.removeItem(at: folder.deletingLastPathComponent().deletingLastPathComponent()) }
        let mailer = try OutboxMailer(folder: folder)
        #expect(try Self.mode(folder.path) == 0o700)
        let message = try Self.message()
        try await mailer.send(message)

        let names = try FileManager.default.contentsOfDirectory(atPath: folder.path)
        #expect(names.count == 1)
        let name = try #require(names.first)
        #expect(name.hasSuffix(".eml"))
        let path = folder.appendingPathComponent(name).path
        #expect(try Self.mode(path) == 0o600)
        #expect(try String(contentsOfFile: path, encoding: .utf8) == message.rendered())
        #expect(message.rendered().contains("Subject: Your Parley code: 042042\r\n"))
    }

    @Test("Outbox file names sort by time")
    func outboxOrder() async throws {
        let folder = Self.temporaryFolder()
        defer { try? FileManager.default.removeItem(at: folder) }
        let times = [1_700_000_000.5, 1_700_000_009.25, 1_700_000_010.0, 1_800_000_000.000001]
        let index = Counter()
        let mailer = try OutboxMailer(folder: folder) { Date(timeIntervalSince1970: times[index.next()]) }
        for (number, _) in times.enumerated() {
            try await mailer.send(try Self.message(code: CodeGenerator.format(UInt32(number))))
        }
        let names = try FileManager.default.contentsOfDirectory(atPath: folder.path).sorted()
        #expect(names.count == 4)
        #expect(names[0].hasPrefix("20231114T221320.500000Z-000001-"))
        #expect(names[3].hasPrefix("20270115T080000.000001Z-000004-"))
        for (number, name) in names.enumerated() {
            let text = try String(contentsOfFile: folder.appendingPathComponent(name).path, encoding: .utf8)
            #expect(text.contains("Your Parley code: \(CodeGenerator.format(UInt32(number)))"))
        }
    }

    @Test("An outbox path that is a file is a clear error")
    func outboxOnFile() throws {
        let file = Self.temporaryFolder()
        _ = FileManager.default.createFile(atPath: file.path, contents: Data())
        defer { try? FileManager.default.removeItem(at: file) }
        #expect(throws: ParleyError(.unavailable, "The outbox \(file.path) exists and is not a folder.")) {
            try OutboxMailer(folder: file)
        }
    }

    @Test("Issue through the outbox, read the code back from the file, check it")
    func endToEndOutbox() async throws {
        let folder = Self.temporaryFolder()
        defer { try? FileManager.default.removeItem(at: folder) }
        let codes = VerificationCodes(
            store: MemoryCodeStore(), mailer: try OutboxMailer(folder: folder), logger: VerifierTesting.quietLogger
        )
        _ = try await codes.issue(email: "dave@example.com", purpose: .register, clientAddress: "127.0.0.1")
        let name = try #require(try FileManager.default.contentsOfDirectory(atPath: folder.path).first)
        let text = try String(contentsOfFile: folder.appendingPathComponent(name).path, encoding: .utf8)
        let subject = try #require(text.split(separator: "\r\n").first { $0.hasPrefix("Subject: ") })
        let code = try #require(VerifierTesting.code(inSubject: String(subject.dropFirst("Subject: ".count))))
        try await codes.check(email: "dave@example.com", purpose: .register, code: code)
    }
}

/// A counter for a `@Sendable` closure.
final class Counter: Sendable {
    private let value = Mutex<Int>(0)
    func next() -> Int {
        self.value.withLock { value in
            defer { value += 1 }
            return value
        }
    }
}
