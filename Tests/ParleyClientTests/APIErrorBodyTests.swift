import Foundation
import ParleyClient
import ParleyCore
import Testing

@Suite struct APIErrorBodyTests {
    @Test(arguments: ParleyError.Code.allCases)
    func everyCodeDecodes(code: ParleyError.Code) {
        let body = Data(#"{"error":{"code":"\#(code.rawValue)","message":"Something went wrong."}}"#.utf8)
        #expect(APIErrorBody.parleyError(status: 400, body: body) == ParleyError(code, "Something went wrong."))
    }

    @Test func usernameTaken() {
        let body = Data(#"{"error":{"code":"username_taken","message":"That username is taken."}}"#.utf8)
        #expect(APIErrorBody.parleyError(status: 409, body: body) == ParleyError(.usernameTaken, "That username is taken."))
    }

    @Test func unknownCodeKeepsTheMessage() {
        let body = Data(#"{"error":{"code":"slow_down","message":"Slow down."}}"#.utf8)
        #expect(APIErrorBody.parleyError(status: 429, body: body) == ParleyError(.internal, "Slow down."))
    }

    @Test func bodyThatIsNotTheErrorJSON() {
        let html = APIErrorBody.parleyError(status: 500, body: Data("<html>oops</html>".utf8))
        #expect(html.code == .internal)
        #expect(html.message.hasPrefix("HTTP 500"))
        let empty = APIErrorBody.parleyError(status: 404, body: Data())
        #expect(empty.code == .internal)
        #expect(empty.message.hasPrefix("HTTP 404"))
        let proxy = APIErrorBody.parleyError(status: 503, body: Data())
        #expect(proxy.code == .unavailable)
        #expect(proxy.message.hasPrefix("HTTP 503"))
        let wrongShape = APIErrorBody.parleyError(status: 400, body: Data(#"{"error":"bad"}"#.utf8))
        #expect(wrongShape.code == .internal)
    }

    @Test func postPageCursorAsNumberStringOrNull() throws {
        let post = #"{"id":7,"author":"Guest","title":"Hi","body":"there","createdAt":"2026-11-28T12:40:28.123Z"}"#
        let number = try JSONDecoder().decode(PostPage.self, from: Data(#"{"posts":[\#(post)],"next":6}"#.utf8))
        #expect(number.next == 6)
        #expect(number.posts.first?.author == "Guest")
        #expect(abs((number.posts.first?.createdAt.timeIntervalSince1970 ?? 0) - 1_795_869_628.123) < 0.0005)
        let text = try JSONDecoder().decode(PostPage.self, from: Data(#"{"posts":[],"next":"6"}"#.utf8))
        #expect(text.next == 6)
        let null = try JSONDecoder().decode(PostPage.self, from: Data(#"{"posts":[],"next":null}"#.utf8))
        #expect(null.next == nil)
        let missing = try JSONDecoder().decode(PostPage.self, from: Data(#"{"posts":[]}"#.utf8))
        #expect(missing.next == nil)
        #expect(throws: DecodingError.self) {
            try JSONDecoder().decode(PostPage.self, from: Data(#"{"posts":[],"next":"x"}"#.utf8))
        }
    }

    @Test func loginResponse() throws {
        let json = #"{"token":"abc","username":"Alice","expiresAt":"2026-11-28T12:40:28.000Z"}"#
        let response = try JSONDecoder().decode(BackendAPI.LoginResult.self, from: Data(json.utf8))
        #expect(response.token == "abc" && response.username == "Alice" && response.expiresAt == Date(timeIntervalSince1970: 1_795_869_628))
    }
}
