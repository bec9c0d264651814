import Crypto
import Foundation
import Hummingbird
import ParleyCore

/// Anti-forgery token for HTML forms (double-submit, bound to the session): a random value kept
/// in a SameSite=Lax HttpOnly cookie, and in a hidden field of each form the value itself for a
/// visitor without a session, or a hash of it with the session token for one with a session. A
/// POST whose field does not match is refused. Someone who can set cookies for the site (a
/// sibling subdomain, say) can set the CSRF cookie, but not read the HttpOnly session cookie, so
/// cannot make the field a logged-in form needs.
struct CSRFToken: Sendable {
    /// The cookie that holds the token.
    static let cookieName = "parley_csrf"

    /// The cookie's value.
    let cookieValue: String
    /// Whether the browser has no cookie yet and must be sent one.
    let isNew: Bool
    /// The session token the forms are bound to, if any.
    var session: String?

    /// The request's token, or a fresh one when it has none, bound to the request's session
    /// cookie.
    init(request: Request) {
        if let existing = request.cookies[Self.cookieName]?.value, SessionCookie.isPlausible(existing) {
            self.cookieValue = existing
            self.isNew = false
        } else {
            self.cookieValue = Self.random()
            self.isNew = true
        }
        self.session = request.cookies[SessionCookie.name]?.value
    }

    /// The token to put in forms.
    var value: String {
        Self.formValue(cookie: self.cookieValue, session: self.session)
    }

    /// The form field for a CSRF cookie and a session token: the cookie's value without a
    /// session, else the first 16 bytes of SHA-256 over both, in hex.
    static func formValue(cookie: String, session: String?) -> String {
        guard let session else { return cookie }
        return hexEncoded(SHA256.hash(data: Data("parley-csrf\n\(cookie)\n\(session)".utf8)).prefix(16))
    }

    /// Throws `forbidden` unless the form's field is ``value`` for the cookies the browser sent.
    func check(_ field: String?) throws {
        guard !self.isNew, let field, Self.constantTimeEquals(field, self.value) else {
            throw ParleyError(.forbidden, "This form has expired. Go back, reload the page and send it again.")
        }
    }

    /// The cookie that carries the token.
    func cookie(secure: Bool) -> Cookie {
        Cookie(name: Self.cookieName, value: self.cookieValue, path: "/", secure: secure, httpOnly: true, sameSite: .lax)
    }

    static func random() -> String {
        var generator = SystemRandomNumberGenerator()
        return hexEncoded((0..<16).map { _ in UInt8.random(in: .min ... .max, using: &generator) })
    }

    static func constantTimeEquals(_ a: String, _ b: String) -> Bool {
        let a = Array(a.utf8)
        let b = Array(b.utf8)
        guard a.count == b.count else { return false }
        return zip(a, b).reduce(0) { $0 | ($1.0 ^ $1.1) } == 0
    }
}
