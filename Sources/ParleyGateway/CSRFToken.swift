import Foundation
import Hummingbird
import ParleyCore

/// Anti-forgery token for HTML forms (double-submit): a random value kept in a
/// SameSite=Lax HttpOnly cookie and repeated in a hidden field of each form; a POST whose
/// field does not match its cookie is refused.
struct CSRFToken: Sendable {
    /// The cookie that holds the token.
    static let cookieName = "parley_csrf"

    /// The token to put in forms.
    let value: String
    /// Whether the browser has no cookie yet and must be sent one.
    let isNew: Bool

    /// The request's token, or a fresh one when it has none.
    init(request: Request) {
        if let existing = request.cookies[Self.cookieName]?.value, SessionCookie.isPlausible(existing) {
            self.value = existing
            self.isNew = false
        } else {
            self.value = Self.random()
            self.isNew = true
        }
    }

    /// Throws `forbidden` unless the form's field equals the cookie the browser sent.
    func check(_ field: String?) throws {
        guard !self.isNew, let field, Self.constantTimeEquals(field, self.value) else {
            throw ParleyError(.forbidden, "This form has expired. Go back, reload the page and send it again.")
        }
    }

    /// The cookie that carries the token.
    func cookie(secure: Bool) -> Cookie {
        Cookie(name: Self.cookieName, value: self.value, path: "/", secure: secure, httpOnly: true, sameSite: .lax)
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
