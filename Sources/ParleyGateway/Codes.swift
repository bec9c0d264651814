import ParleyCore
import ParleyVerifier

/// Sends verification codes for the pages and the API: through the verifier, after asking the
/// backend whether a registering address is free.
///
/// A reset code is sent whether or not an account uses the address, so the answer (and the time
/// it takes) tells a stranger nothing; the mail says to ignore it when unasked.
struct Codes: Sendable {
    /// The verifier role; `nil` when none is configured.
    let verifier: (any CodeVerifying)?
    let backend: any Backend

    func send(email: String, purpose: CodePurpose, clientAddress: String?) async throws -> IssuedCode {
        guard let verifier = self.verifier else {
            throw ParleyError(.unavailable, "This server sends no verification codes: no verifier is configured.")
        }
        if purpose == .register {
            let availability = try await self.backend.check(.init(username: nil, email: email))
            if availability.email == "taken" {
                throw ParleyError(.emailTaken, "That email address already belongs to an account: log in, or reset its password.")
            }
        }
        return try await verifier.issue(email: email, purpose: purpose, clientAddress: clientAddress)
    }
}
