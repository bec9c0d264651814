import Foundation
import Logging

extension SMTPClient.Configuration {
    /// A configuration from a URL: `smtp://[USER:PASSWORD@]HOST[:PORT][?security=starttls|none]` or
    /// `smtps://…` for TLS from the first byte (port 465).
    ///
    /// `smtp://` uses STARTTLS and requires it (port 587 by default); `?security=none` sends in plain
    /// text (port 25: a relay on the same machine or a test server), and then credentials are refused
    /// unless `&insecure-auth=1`. User and password may be percent-encoded.
    public init(url text: String, logger: Logger = Logger(label: "smtp.client")) throws(SMTPURLError) {
        guard let url = URLComponents(string: text), let scheme = url.scheme?.lowercased() else {
            throw SMTPURLError("not a URL; write smtp://USER:PASSWORD@HOST:PORT")
        }
        guard let host = url.host, !host.isEmpty else { throw SMTPURLError("the SMTP URL has no host") }
        let query = Dictionary((url.queryItems ?? []).map { ($0.name.lowercased(), $0.value ?? "") }, uniquingKeysWith: { $1 })
        let security: Security
        switch (scheme, query["security"]?.lowercased()) {
        case ("smtps", nil), ("smtps", "tls"): security = .tls
        case ("smtp", nil), ("smtp", "starttls"): security = .startTLS(required: true)
        case ("smtp", "none"): security = .none
        case ("smtp", "tls"): security = .tls
        case ("smtp", let other?), ("smtps", let other?):
            throw SMTPURLError("security= takes starttls, tls or none, not '\(other)'")
        default:
            throw SMTPURLError("an SMTP URL starts with smtp:// or smtps://, not \(scheme)://")
        }
        var credentials: SMTPClient.Credentials?
        if let user = url.percentEncodedUser?.removingPercentEncoding, !user.isEmpty {
            credentials = SMTPClient.Credentials(username: user, password: url.percentEncodedPassword?.removingPercentEncoding ?? "")
        }
        self.init(
            host: host, port: url.port, security: security, credentials: credentials,
            allowsInsecureAuthentication: query["insecure-auth"] == "1", logger: logger
        )
    }
}

/// An SMTP URL that cannot be used; the message never holds the password.
public struct SMTPURLError: Error, CustomStringConvertible, Sendable {
    /// What is wrong.
    public let description: String

    init(_ description: String) { self.description = description }
}
