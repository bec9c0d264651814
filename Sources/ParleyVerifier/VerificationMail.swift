import ParleyCore
import SMTPClient

/// The message that carries a code: a short, friendly plain text.
public enum VerificationMail {
    /// The message sending `code` to `recipient`.
    ///
    /// - Parameters:
    ///   - code: The 6 digits.
    ///   - purpose: What the code is for; it changes one sentence.
    ///   - recipient: The address to deliver to.
    ///   - sender: The `From` address.
    ///   - validity: How long the code is valid.
    /// - Throws: `ParleyError(.invalidInput, …)` if an address cannot be put in a message.
    public static func make(
        code: String,
        purpose: CodePurpose,
        to recipient: EmailAddress,
        from sender: Email.Address,
        validity: Duration
    ) throws -> Email {
        let action: String
        let ignore: String
        switch purpose {
        case .register:
            action = "Enter it on the sign-up page to finish creating your Parley account."
            ignore = "If you did not ask for this code, someone may have typed your address by mistake: you can ignore this message, and no account will be created."
        case .reset:
            action = "Enter it, with your new password, to reset the password of the Parley account that uses this address."
            // Codes go to any address typed (the answer must not tell whether an account uses it).
            ignore = "If you did not ask for this code, or have no Parley account with this address, you can ignore this message: nothing changes, and a password stays as it is. Nobody can use this code without access to your mailbox."
        }
        let body = """
            Hello,

            Your Parley verification code is:

                \(code)

            \(action) The code is valid for \(Self.describe(validity)) and works only once.

            \(ignore)

            Parley

            """
        do {
            return try Email(from: sender, to: [Email.Address(recipient.mailbox)], subject: "Your Parley code: \(code)", body: body)
        } catch {
            throw ParleyError(.invalidInput, "Cannot write a message to \(recipient.mailbox): \(error)")
        }
    }

    /// `3 minutes`, `1 minute`, `90 seconds`.
    public static func describe(_ duration: Duration) -> String {
        let seconds = duration.components.seconds
        if seconds >= 60, seconds % 60 == 0 {
            let minutes = seconds / 60
            return minutes == 1 ? "1 minute" : "\(minutes) minutes"
        }
        return seconds == 1 ? "1 second" : "\(seconds) seconds"
    }
}
