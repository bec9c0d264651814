import Foundation
import Hummingbird
import HummingbirdTesting
import Testing

@testable import ParleyGateway

/// The chat page's shell: who may see it, its script, and a policy that lets the script open
/// the chat server's WebSocket and nothing inline run. `ChatBrowserTests` drives it in a browser.
@Suite struct ChatPageTests {
    let gateway = GatewayRouterTests()

    /// Registers `name` through the forms and logs in; the browser keeps the session cookie.
    static func loggedIn(_ client: any TestClientProtocol, _ name: String = "carol") async throws -> WebPageTests.Browser {
        let browser = WebPageTests.Browser(client)
        _ = try await browser.request("/")
        let form = ["csrf": browser.csrf, "username": name, "password": "s3cret pass"]
        #expect(try await browser.request("/register", .post, form: form).status == .seeOther)
        #expect(try await browser.request("/login", .post, form: form).status == .seeOther)
        #expect(browser.cookies["parley_session"] != nil)
        return browser
    }

    @Test func loggedOutVisitorsAreSentToLogIn() async throws {
        try await self.gateway.withGateway { client in
            let response = try await WebPageTests.Browser(client).request("/chat")
            #expect(response.status == .seeOther)
            #expect(response.headers[.location] == "/login")
            // A session that is no longer valid is removed on the way.
            let stale = try await client.execute(
                uri: "/chat", method: .get, headers: [.cookie: "parley_session=AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"]
            )
            #expect(stale.status == .seeOther)
            #expect(stale.headers[.location] == "/login")
            #expect(stale.headers[values: .setCookie].contains { $0.hasPrefix("parley_session=;") && $0.contains("Max-Age=0") })
        }
    }

    @Test func theChatPageLoadsItsScriptAndNothingInline() async throws {
        try await self.gateway.withGateway { client in
            let browser = try await Self.loggedIn(client)
            let response = try await browser.request("/chat")
            #expect(response.status == .ok)
            #expect(response.headers[.contentType] == "text/html; charset=utf-8")
            let html = String(buffer: response.body)
            #expect(html.contains(#"<script src="/static/chat.js"></script>"#))
            #expect(html.contains(#"id="chat-status""#))
            #expect(html.contains(#"id="friends""#) && html.contains(#"id="search-form""#) && html.contains(#"id="send-form""#))
            #expect(html.contains("Logged in as <strong>carol</strong>"))
            #expect(html.contains(#"<a href="/chat">Chat</a>"#))
            // Every script tag loads a file; no inline script and no event-handler attributes.
            let scripts = html.components(separatedBy: "<script").dropFirst()
            #expect(scripts.count == 1)
            for script in scripts {
                #expect(script.hasPrefix(#" src="/static/"#))
                #expect(script.drop { $0 != ">" }.dropFirst().hasPrefix("</script>"))
            }
            #expect(html.range(of: #"\son[a-z]+\s*="#, options: .regularExpression) == nil)
            #expect(!html.contains("javascript:"))

            let script = try await browser.request("/static/chat.js")
            #expect(script.status == .ok)
            #expect(script.headers[.contentType] == "text/javascript; charset=utf-8")
            let source = String(buffer: script.body)
            #expect(source.contains("/api/v1/chat/ticket"))
            // What users wrote goes in as text only.
            #expect(!source.contains("innerHTML") && !source.contains("insertAdjacentHTML") && !source.contains("document.write"))
        }
    }

    @Test func theChatPagePolicyAllowsTheWebSocketOnly() async throws {
        try await self.gateway.withGateway { client in
            let browser = try await Self.loggedIn(client)
            let chat = try await browser.request("/chat")
            let policy = try #require(chat.headers[.contentSecurityPolicy])
            let directives = Self.directives(policy)
            #expect(directives["connect-src"] == ["'self'", "ws:", "wss:"])
            #expect(directives["script-src"] == ["'self'"])
            #expect(directives["default-src"] == ["'self'"])
            #expect(directives["frame-ancestors"] == ["'none'"])
            #expect(!policy.contains("unsafe-inline") && !policy.contains("unsafe-eval"))
            // Other pages keep the narrower policy: connections to their own origin only.
            for page in ["/", "/profile"] {
                let other = try await browser.request(page)
                #expect(other.status == .ok)
                let otherPolicy = try #require(other.headers[.contentSecurityPolicy])
                #expect(Self.directives(otherPolicy)["connect-src"] == nil)
                #expect(Self.directives(otherPolicy)["script-src"] == ["'self'"])
            }
        }
    }

    @Test func theHeaderLinksToTheChatOnlyWhenLoggedIn() async throws {
        try await self.gateway.withGateway { client in
            let guest = String(buffer: try await WebPageTests.Browser(client).request("/").body)
            #expect(!guest.contains(#"href="/chat""#))
            let browser = try await Self.loggedIn(client)
            #expect(String(buffer: try await browser.request("/").body).contains(#"<a href="/chat">Chat</a>"#))
        }
    }

    /// `default-src 'self'; script-src 'self'` → ["default-src": ["'self'"], …].
    static func directives(_ policy: String) -> [String: [String]] {
        var result: [String: [String]] = [:]
        for directive in policy.split(separator: ";") {
            let words = directive.split(separator: " ").map(String.init)
            guard let name = words.first else { continue }
            result[name] = Array(words.dropFirst())
        }
        return result
    }
}
