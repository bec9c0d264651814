import Foundation
import Hummingbird
import Synchronization
import HummingbirdTesting
import ParleyCore
import ParleyStorage
import Testing

@testable import ParleyGateway

/// The server-rendered pages: forms, anti-forgery tokens, redirects, escaping.
@Suite struct WebPageTests {
    let gateway = GatewayRouterTests()

    static let form: HTTPFields = [.contentType: "application/x-www-form-urlencoded"]

    /// A browser's cookie jar, enough for these tests.
    final class Browser: Sendable {
        let jar = Mutex<[String: String]>([:])
        let client: any TestClientProtocol

        var cookies: [String: String] { self.jar.withLock { $0 } }

        init(_ client: any TestClientProtocol) { self.client = client }

        func request(_ uri: String, _ method: HTTPRequest.Method = .get, form: [String: String]? = nil) async throws -> TestResponse {
            var headers: HTTPFields = [:]
            if !self.cookies.isEmpty {
                headers[.cookie] = self.cookies.map { "\($0.key)=\($0.value)" }.joined(separator: "; ")
            }
            var body: ByteBuffer?
            if let form {
                headers[.contentType] = "application/x-www-form-urlencoded"
                let encoded = form.map { key, value in
                    "\(key)=\(value.addingPercentEncoding(withAllowedCharacters: .alphanumerics) ?? "")"
                }
                body = ByteBuffer(string: encoded.joined(separator: "&"))
            }
            let response = try await self.client.execute(uri: uri, method: method, headers: headers, body: body)
            for header in response.headers[values: .setCookie] {
                let pair = header.split(separator: ";")[0].split(separator: "=", maxSplits: 1)
                let name = String(pair[0])
                let value = pair.count > 1 ? String(pair[1]) : ""
                let removed = value.isEmpty || header.contains("Max-Age=0")
                self.jar.withLock { $0[name] = removed ? nil : value }
            }
            return response
        }

        /// The CSRF field of the forms the browser was last shown.
        var csrf: String {
            CSRFToken.formValue(cookie: self.cookies[CSRFToken.cookieName] ?? "", session: self.cookies[SessionCookie.name])
        }
    }

    @Test func browserRegistersLogsInPostsAndLogsOut() async throws {
        try await self.gateway.withGateway { client in
            let browser = Browser(client)
            let home = try await browser.request("/")
            #expect(home.status == .ok)
            #expect(home.headers[.contentType] == "text/html; charset=utf-8")
            #expect(String(buffer: home.body).contains("No posts yet"))
            #expect(!browser.csrf.isEmpty)
            #expect(String(buffer: home.body).contains(#"name="csrf" value="\#(browser.csrf)""#))

            var response = try await browser.request("/register", .post, form: ["csrf": browser.csrf, "username": "carol", "password": "s3cret pass"])
            #expect(response.status == .seeOther)
            #expect(response.headers[.location] == "/login?notice=registered")

            response = try await browser.request("/register", .post, form: ["csrf": browser.csrf, "username": "CAROL", "password": "s3cret pass"])
            #expect(response.status == .conflict)
            #expect(String(buffer: response.body).contains("That username is already taken."))

            response = try await browser.request("/login", .post, form: ["csrf": browser.csrf, "username": "carol", "password": "wrong pass"])
            #expect(response.status == .unauthorized)
            #expect(String(buffer: response.body).contains("Wrong username or password."))

            response = try await browser.request("/login", .post, form: ["csrf": browser.csrf, "username": "carol", "password": "s3cret pass"])
            #expect(response.status == .seeOther)
            #expect(browser.cookies["parley_session"] != nil)

            response = try await browser.request("/posts", .post, form: ["csrf": browser.csrf, "title": "Hello board", "body": "Line one\nLine two"])
            #expect(response.status == .seeOther)
            let page = String(buffer: try await browser.request("/?notice=posted").body)
            #expect(page.contains("Logged in as <strong>carol</strong>"))
            #expect(page.contains(#"name="csrf" value="\#(browser.csrf)""#))
            #expect(page.contains("Hello board"))
            #expect(page.contains(#"<span class="author">carol</span>"#))
            #expect(page.contains("Your post is up."))

            response = try await browser.request("/logout", .post, form: ["csrf": browser.csrf])
            #expect(response.status == .seeOther)
            #expect(browser.cookies["parley_session"] == nil)

            response = try await browser.request("/posts", .post, form: ["csrf": browser.csrf, "title": "Anon", "body": "as guest"])
            #expect(response.status == .seeOther)
            let after = String(buffer: try await browser.request("/").body)
            #expect(after.contains(#"<span class="author">Guest</span>"#))
            #expect(after.contains("Log in"))
        }
    }

    @Test func formsWithoutTheAntiForgeryTokenAreRefused() async throws {
        try await self.gateway.withGateway { client in
            let browser = Browser(client)
            _ = try await browser.request("/")
            for (path, form) in [("/posts", ["title": "x", "body": "y"]), ("/login", ["username": "a", "password": "b"])] {
                let missing = try await browser.request(path, .post, form: form)
                #expect(missing.status == .forbidden)
                var wrong = form
                wrong["csrf"] = "0123456789abcdef0123456789abcdef"
                #expect(try await browser.request(path, .post, form: wrong).status == .forbidden)
            }
            // Logged in, the forms' field is bound to the session: the CSRF cookie's value alone,
            // which someone able to set that cookie would know, is refused.
            let credentials = ["username": "dora", "password": "s3cret pass"]
            _ = try await browser.request("/register", .post, form: credentials.merging(["csrf": browser.csrf]) { $1 })
            #expect(try await browser.request("/login", .post, form: credentials.merging(["csrf": browser.csrf]) { $1 }).status == .seeOther)
            let cookie = try #require(browser.cookies[CSRFToken.cookieName])
            #expect(browser.csrf != cookie)
            #expect(try await browser.request("/posts", .post, form: ["csrf": cookie, "title": "x", "body": "y"]).status == .forbidden)
            #expect(try await browser.request("/logout", .post, form: ["csrf": cookie]).status == .forbidden)
            #expect(browser.cookies[SessionCookie.name] != nil)
            #expect(try await browser.request("/logout", .post, form: ["csrf": browser.csrf]).status == .seeOther)
            // A cross-site form has no cookie at all.
            let stranger = Browser(client)
            #expect(try await stranger.request("/posts", .post, form: ["csrf": browser.csrf, "title": "x", "body": "y"]).status == .forbidden)
            let page = String(buffer: try await browser.request("/").body)
            #expect(page.contains("No posts yet"))
        }
    }

    @Test func everythingAUserWroteIsEscaped() async throws {
        try await self.gateway.withGateway { client in
            let browser = Browser(client)
            _ = try await browser.request("/")
            let attack = #"<script>alert("x")</script><img src=x onerror=alert(1)>'&"#
            let response = try await browser.request("/posts", .post, form: ["csrf": browser.csrf, "title": attack, "body": attack])
            #expect(response.status == .seeOther)
            let page = String(buffer: try await browser.request("/").body)
            #expect(!page.contains("<script>"))
            #expect(!page.contains("<img"))
            #expect(page.contains("&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;"))
            // A rejected form shows the text back, escaped too.
            let again = try await browser.request("/posts", .post, form: ["csrf": browser.csrf, "title": attack, "body": ""])
            #expect(again.status == .badRequest)
            let shown = String(buffer: again.body)
            #expect(shown.contains("A post needs a body."))
            #expect(!shown.contains("<script>"))
            #expect(again.headers[.contentSecurityPolicy]?.contains("script-src 'self'") == true)
            // A quote followed by a combining accent is one character but still a quote.
            let sneaky = "x\"\u{301} autofocus onfocus=alert(1) x=\""
            let reshown = try await browser.request("/posts", .post, form: ["csrf": browser.csrf, "title": sneaky, "body": ""])
            let html = String(buffer: reshown.body)
            #expect(!html.contains(" autofocus onfocus=alert(1) x=\""))
            #expect(html.contains("x&quot;\u{301} autofocus onfocus=alert(1) x=&quot;"))
        }
    }

    @Test func olderPostsArePaged() async throws {
        try await self.gateway.withGateway { client in
            let browser = Browser(client)
            _ = try await browser.request("/")
            for index in 1...21 {
                _ = try await browser.request("/posts", .post, form: ["csrf": browser.csrf, "title": "n\(index)", "body": "b"])
            }
            let first = String(buffer: try await browser.request("/").body)
            #expect(first.contains("<h3>n21</h3>"))
            #expect(!first.contains("<h3>n1</h3>"))
            let link = try #require(first.range(of: #"href="/\?before=(\d+)""#, options: .regularExpression))
            let uri = String(first[link].dropFirst(6).dropLast())
            let second = String(buffer: try await browser.request(uri).body)
            #expect(second.contains("<h3>n1</h3>"))
            #expect(!second.contains("<h3>n21</h3>"))
        }
    }
}
