import ParleyVerifier
import SMTPClient
import Testing

/// A mailer that keeps the messages, and fails while told to.
public actor CapturingMailer: Mailer {
    public private(set) var messages: [Email] = []
    private var failure: (any Error)?

    public init(failingWith failure: (any Error)? = nil) {
        self.failure = failure
    }

    public func fail(with failure: (any Error)?) {
        self.failure = failure
    }

    public func send(_ message: Email) async throws {
        if let failure = self.failure {
            throw failure
        }
        self.messages.append(message)
    }

    /// The code in the last message's subject.
    public func lastCode() throws -> String {
        let subject = try #require(self.messages.last?.subject)
        return try #require(VerificationSubject.code(subject))
    }

    /// The code in the last message sent to `address` (compared in lowercase).
    public func lastCode(to address: String) throws -> String {
        let message = try #require(self.messages.last { $0.to.contains { $0.address.lowercased() == address.lowercased() } })
        return try #require(VerificationSubject.code(message.subject))
    }
}

/// Reads the code from the subject of a verification mail.
public enum VerificationSubject {
    /// The 6 digits after "Your Parley code: ".
    public static func code(_ subject: String) -> String? {
        let prefix = "Your Parley code: "
        guard subject.hasPrefix(prefix) else { return nil }
        let code = String(subject.dropFirst(prefix.count))
        return code.count == 6 && code.allSatisfy(\.isASCII) && code.allSatisfy(\.isNumber) ? code : nil
    }
}
