import ParleyCore
import Testing

@testable import ParleyVerifier

@Suite("Email address normalisation")
struct EmailAddressTests {
    @Test("Trimmed, domain lowercased, identity lowercased")
    func normalised() throws {
        let address = try EmailAddress(" \t Alice.Smith+parley@Mail.Example.COM \r\n")
        #expect(address.normalized == "alice.smith+parley@mail.example.com")
        #expect(address.mailbox == "Alice.Smith+parley@mail.example.com")
        #expect(try EmailAddress(" Alice@Example.COM ").normalized == EmailAddress("alice@example.com").normalized)
        #expect(try EmailAddress("o'brien@example.org").normalized == "o'brien@example.org")
        #expect(try EmailAddress("x@a-b.c0").normalized == "x@a-b.c0")
    }

    @Test(
        "Invalid addresses are refused with a clear message",
        arguments: [
            ("", "The email address is empty."),
            ("   ", "The email address is empty."),
            ("alice", "\"alice\" is not an email address: it has no @."),
            ("@example.com", "nothing comes before the @"),
            ("alice@", "nothing comes after the @"),
            ("alice@localhost", "needs a dot"),
            ("alice@example..com", "is not a valid domain name"),
            ("alice@-example.com", "starts or ends with a hyphen"),
            ("alice@exa_mple.com", "contains '_', which is not allowed in a domain name"),
            ("al ice@example.com", "contains a space or a control character before the @"),
            ("alice@@example.com", "contains '@' before the @"),
            ("\"alice\"@example.com", "contains '\"' before the @"),
            (".alice@example.com", "may not start or end with a dot"),
            ("al..ice@example.com", "may not start or end with a dot or have two dots in a row"),
            ("alice@[192.0.2.1]", "contains '['"),
            ("zoë@example.com", "characters other than ASCII"),
            ("alice@exämple.com", "characters other than ASCII"),
            ("alice\r\nBcc: x@example.com", "\"alice??Bcc: x@example.com\" contains a space or a control character before the @"),
            (String(repeating: "a", count: 65) + "@example.com", "too long (at most 64 characters)"),
            ("a@" + String(repeating: "b", count: 64) + ".com", "is not a valid domain name"),
            (String(repeating: "a", count: 60) + "@" + String(repeating: "b.", count: 100) + "com", "too long (at most 254"),
        ]
    )
    func invalid(text: String, expected: String) throws {
        do {
            _ = try EmailAddress(text)
            Issue.record("\(text) was accepted")
        } catch let error as ParleyError {
            #expect(error.code == .invalidInput)
            #expect(error.message.contains(expected), "\(error.message)")
        }
    }

    @Test("NFC: a decomposed and a composed address are one (and refused as non-ASCII alike)")
    func nfc() throws {
        let composed = "ren\u{E9}@example.com"
        let decomposed = "rene\u{301}@example.com"
        for text in [composed, decomposed] {
            #expect(throws: ParleyError.self) { try EmailAddress(text) }
        }
        // A trailing combining mark cannot hide a space from the trimming.
        #expect(try EmailAddress("\u{00A0}bob@example.com\u{2003}").normalized == "bob@example.com")
    }
}
