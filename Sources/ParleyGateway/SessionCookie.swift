import Foundation
import Hummingbird
import ParleyCore

/// How the gateway finds a session token on a request and hands one to a browser.
struct SessionCookie: Sendable {
    /// The cookie that carries the session token.
    static let name = "parley_session"
    /// Whether cookies get the `Secure` attribute (set when served over TLS).
    let secure: Bool

    /// The token from `Authorization: Bearer …`, else from the session cookie.
    /// Anything that cannot be a token (wrong characters, too long) counts as no token
    /// from the cookie, and as a bad token from the header.
    static func token(in request: Request) throws -> String? {
        if let header = request.headers[.authorization] {
            let prefix = "Bearer "
            guard header.hasPrefix(prefix), Self.isPlausible(String(header.dropFirst(prefix.count))) else {
                throw ParleyError(.unauthenticated, "The Authorization header must be 'Bearer TOKEN'.")
            }
            return String(header.dropFirst(prefix.count))
        }
        if let value = request.cookies[Self.name]?.value, Self.isPlausible(value) {
            return value
        }
        return nil
    }

    /// Tokens are base64url text of a sensible length.
    static func isPlausible(_ token: String) -> Bool {
        (16...128).contains(token.utf8.count)
            && token.utf8.allSatisfy { byte in
                (byte >= UInt8(ascii: "a") && byte <= UInt8(ascii: "z")) || (byte >= UInt8(ascii: "A") && byte <= UInt8(ascii: "Z"))
                    || (byte >= UInt8(ascii: "0") && byte <= UInt8(ascii: "9")) || byte == UInt8(ascii: "-") || byte == UInt8(ascii: "_")
            }
    }

    /// A cookie holding a new session: HttpOnly, SameSite=Lax, for the whole site.
    /// It lasts as long as the browser session; the backend enforces the real expiry.
    func set(_ token: String) -> Cookie {
        Cookie(name: Self.name, value: token, path: "/", secure: self.secure, httpOnly: true, sameSite: .lax)
    }

    /// A cookie that removes the session cookie.
    func clear() -> Cookie {
        Cookie(name: Self.name, value: "", maxAge: 0, path: "/", secure: self.secure, httpOnly: true, sameSite: .lax)
    }
}
