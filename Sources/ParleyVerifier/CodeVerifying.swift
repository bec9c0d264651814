/// What the roles need of the verifier: send a code, check a code. ``VerificationCodes`` does it
/// in-process; ``VerifierClient`` does it over gRPC.
public protocol CodeVerifying: Sendable {
    /// Sends a new code for `purpose` to `email`; see ``VerificationCodes/issue(email:purpose:clientAddress:)``.
    func issue(email: String, purpose: CodePurpose, clientAddress: String?) async throws -> IssuedCode
    /// Accepts `code` once; see ``VerificationCodes/check(email:purpose:code:)``.
    func check(email: String, purpose: CodePurpose, code: String) async throws
}

extension VerificationCodes: CodeVerifying {}
