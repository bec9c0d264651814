import ParleyCore
import SMTPClient

/// A ``Mailer`` that sends each message through an SMTP server with ``SMTPClient``.
///
/// A refusal of the recipient that will not change (a 5yz reply to `RCPT TO`) becomes
/// `ParleyError(.invalidInput, …)` so that the user checks the address. Every other failure is
/// rethrown as the ``SMTPError``: ``VerificationCodes`` logs it and tells the user to try again
/// (`ParleyError(.unavailable, …)`).
public struct SMTPMailer: Mailer {
    /// The client the messages go through.
    public let client: SMTPClient

    /// Creates a mailer over `client`.
    public init(client: SMTPClient) {
        self.client = client
    }

    /// Sends `message`.
    ///
    /// - Throws: `ParleyError(.invalidInput, …)` for a recipient refused for good, else ``SMTPError``.
    public func send(_ message: Email) async throws {
        do {
            try await self.client.send(message)
        } catch let error as SMTPError {
            if case .recipient(let address) = error.stage, error.kind == .rejected, !error.isTransient {
                throw ParleyError(.invalidInput, "The mail server refused the address \(address); check it and try again.")
            }
            throw error
        }
    }
}
