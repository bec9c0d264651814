/// What the caller learns when a code was sent: never the code itself, which only the mailbox gets.
public struct IssuedCode: Sendable, Hashable {
    /// The address the code was sent to, normalised.
    public var email: EmailAddress
    /// What the code is for.
    public var purpose: CodePurpose
    /// How long the code is valid from now.
    public var validFor: Duration
    /// How long until a new code may be asked for this address (the resend countdown).
    public var resendAfter: Duration

    /// Creates the description of a sent code.
    public init(email: EmailAddress, purpose: CodePurpose, validFor: Duration, resendAfter: Duration) {
        self.email = email
        self.purpose = purpose
        self.validFor = validFor
        self.resendAfter = resendAfter
    }
}
