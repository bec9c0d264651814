import SMTPClient

/// Delivers the verification messages: ``OutboxMailer`` (a folder of `.eml` files, the
/// `parley serve` default) or ``SMTPMailer``.
public protocol Mailer: Sendable {
    /// Delivers `message`, or throws.
    ///
    /// Throwing a `ParleyError` passes its code and message to the user as they are; any other error
    /// becomes `ParleyError(.unavailable, …)` asking the user to try again.
    func send(_ message: Email) async throws
}
