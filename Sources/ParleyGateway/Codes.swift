import ParleyCore
import ParleyVerifier

/// Sends verification codes for the pages and the API, through the verifier.
///
/// A code is sent whether or not an account uses the address, for registering as for a reset, so
/// the answer (and the time it takes) tells a stranger nothing; that an address already has an
/// account is said only once its code proved the mailbox. The mail says to ignore it when unasked.
struct Codes: Sendable {
    /// The verifier role; `nil` when none is configured.
    let verifier: (any CodeVerifying)?

    func send(email: String, purpose: CodePurpose, clientAddress: String?) async throws -> IssuedCode {
        guard let verifier = self.verifier else {
            throw ParleyError(.unavailable, "This server sends no verification codes: no verifier is configured.")
        }
        return try await verifier.issue(email: email, purpose: purpose, clientAddress: clientAddress)
    }
}
