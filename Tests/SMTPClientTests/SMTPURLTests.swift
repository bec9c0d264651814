import SMTPClient
import Testing

@Suite struct SMTPURLTests {
    @Test func schemesAndSecurity() throws {
        let submission = try SMTPClient.Configuration(url: "smtp://mailer%40example.com:s%20cret@smtp.example.com")
        #expect(submission.host == "smtp.example.com" && submission.port == 587 && submission.security == .startTLS(required: true))
        #expect(submission.credentials == SMTPClient.Credentials(username: "mailer@example.com", password: "s cret"))
        let implicit = try SMTPClient.Configuration(url: "smtps://smtp.example.com")
        #expect(implicit.port == 465 && implicit.security == .tls && implicit.credentials == nil)
        let relay = try SMTPClient.Configuration(url: "smtp://127.0.0.1:2525?security=none")
        #expect(relay.port == 2525 && relay.security == SMTPClient.Configuration.Security.none && !relay.allowsInsecureAuthentication)
        let insecure = try SMTPClient.Configuration(url: "smtp://u:p@127.0.0.1:2525?security=none&insecure-auth=1")
        #expect(insecure.allowsInsecureAuthentication)
    }

    @Test func refusals() {
        for bad in ["http://host", "smtp://host?security=maybe", "smtp://", "plain words"] {
            #expect(throws: SMTPURLError.self) { try SMTPClient.Configuration(url: bad) }
        }
    }
}
