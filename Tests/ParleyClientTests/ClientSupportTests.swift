import Foundation
import ParleyClient
import ParleyCore
import Testing

@Suite struct GatewayAddressTests {
    @Test func normalize() throws {
        #expect(try GatewayAddress.normalize("http://127.0.0.1:8080/") == "http://127.0.0.1:8080")
        #expect(try GatewayAddress.normalize(" https://parley.example/board// ") == "https://parley.example/board")
        for bad in ["127.0.0.1:8080", "ftp://host", "http://", "http://host/?x=1", "http://user:pw@host", ""] {
            #expect(throws: ParleyError.self, "\(bad)") { try GatewayAddress.normalize(bad) }
        }
    }

    @Test func resolveOrder() throws {
        let env = ["PARLEY_GATEWAY": "http://env:1"]
        #expect(try GatewayAddress.resolve(flag: "http://flag:1", environment: env, saved: "http://saved:1") == "http://flag:1")
        #expect(try GatewayAddress.resolve(flag: nil, environment: env, saved: "http://saved:1") == "http://env:1")
        #expect(try GatewayAddress.resolve(flag: nil, environment: ["PARLEY_GATEWAY": ""], saved: "http://saved:1/") == "http://saved:1")
        #expect(try GatewayAddress.resolve(flag: nil, environment: [:], saved: nil) == GatewayAddress.defaultURL)
    }

    @Test func same() {
        #expect(GatewayAddress.same("http://LOCALHOST:80/", "http://localhost"))
        #expect(GatewayAddress.same("https://a.example", "https://a.example:443"))
        #expect(!GatewayAddress.same("http://a:8080", "http://a:8081"))
        #expect(!GatewayAddress.same("http://a:8080", "https://a:8080"))
    }
}

@Suite struct PostListingTests {
    let utc = TimeZone(identifier: "UTC")!

    @Test func rendersAuthorTimeTitleBodyAndCursor() {
        let post = Post(id: 42, author: "alice", title: "Hello", body: "line one\nline two", createdAt: Date(timeIntervalSince1970: 1_795_869_628))
        let text = PostListing.render(PostPage(posts: [post], next: 41), timeZone: self.utc)
        #expect(text == """
            #42  alice  2026-11-28 12:40
              Hello
                line one
                line two

            More: parley board list --before 41

            """)
    }

    /// The hint keeps the options the page was listed with.
    @Test func nextPageHintKeepsOptions() {
        let post = Post(id: 42, author: "alice", title: "Hello", body: "", createdAt: Date(timeIntervalSince1970: 1_795_869_628))
        let text = PostListing.render(PostPage(posts: [post], next: 41), timeZone: self.utc, options: ["--limit", "1", "--gateway", "http://127.0.0.1:8"])
        #expect(text.hasSuffix("\nMore: parley board list --limit 1 --gateway http://127.0.0.1:8 --before 41\n"))
    }

    @Test func emptyPage() {
        #expect(PostListing.render(PostPage(posts: [], next: nil)) == "No posts yet.\n")
    }

    @Test func terminalControlsAreNeutralised() {
        #expect(PostListing.sanitize("\u{1B}[2Jhi\u{7}", keepNewlines: false) == "\u{FFFD}[2Jhi\u{FFFD}")
        #expect(PostListing.sanitize("a\nb\r\nc", keepNewlines: true) == "a\nb\nc")
        #expect(PostListing.sanitize("a\nb", keepNewlines: false) == "a\u{FFFD}b")
        #expect(PostListing.sanitize("abc\u{202E}def\u{9B}", keepNewlines: true) == "abc\u{FFFD}def\u{FFFD}")
        #expect(PostListing.sanitize("Ünïcødé 日本\tok", keepNewlines: false) == "Ünïcødé 日本\tok")
    }
}
