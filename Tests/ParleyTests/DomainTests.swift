import Foundation
import ParleyCore
import Testing

@Suite struct DomainTests {
    @Test(arguments: ["alice", "Bob_42", "jean-luc.picard", "张伟", "Łukasz", "محمد", "नमस्ते", String(repeating: "a", count: 32)])
    func validUsernames(_ name: String) throws {
        #expect(try Username(name).value == name.precomposedStringWithCanonicalMapping)
    }

    @Test(arguments: ["", String(repeating: "a", count: 33), "has space", "semi;colon", "<script>", "emoji😀", "tab\t", "a/b"])
    func invalidUsernames(_ name: String) {
        #expect(throws: ParleyError.self) { try Username(name) }
    }

    @Test func usernamesAreNFCNormalisedAndKeyedWithoutCase() throws {
        let decomposed = "Jose\u{0301}"  // e + combining acute
        let composed = "Jos\u{00E9}"
        let name = try Username(decomposed)
        #expect(name.value == composed)
        #expect(name.key == Username.key("JOSÉ"))
        #expect(try Username("Alice").key == Username("aLICE").key)
    }

    @Test func passwordLength() {
        #expect(throws: ParleyError.self) { try PasswordRule.validate("short") }
        #expect(throws: ParleyError.self) { try PasswordRule.validate(String(repeating: "x", count: 129)) }
        #expect(throws: Never.self) { try PasswordRule.validate("eight ch") }
        #expect(throws: Never.self) { try PasswordRule.validate(String(repeating: "密", count: 128)) }
    }

    @Test func postDraftTrimsAndLimits() throws {
        let draft = try PostDraft(title: "  Hello \n", body: "\tWorld  ")
        #expect(draft.title == "Hello")
        #expect(draft.body == "World")
        #expect(throws: ParleyError(.invalidInput, "A post needs a title.")) { try PostDraft(title: "   ", body: "x") }
        #expect(throws: ParleyError(.invalidInput, "A post needs a body.")) { try PostDraft(title: "x", body: "") }
        #expect(throws: ParleyError.self) { try PostDraft(title: String(repeating: "t", count: 201), body: "x") }
        #expect(throws: Never.self) { try PostDraft(title: String(repeating: "t", count: 200), body: String(repeating: "👍", count: 10_000)) }
        #expect(throws: ParleyError.self) { try PostDraft(title: "x", body: String(repeating: "b", count: 10_001)) }
    }

    @Test func errorsRoundTripTheWireForm() {
        let error = ParleyError(.usernameTaken, "That username is already taken.")
        #expect(error.description == "username_taken: That username is already taken.")
        #expect(ParleyError(wire: error.description) == error)
        #expect(ParleyError(wire: "rpc: can't find method X.Y").code == .internal)
        #expect(ParleyError(wire: "no separator").message == "no separator")
    }

    @Test func datesCodeAsISO8601WithMilliseconds() throws {
        let post = Post(id: 7, author: "a", title: "t", body: "b", createdAt: Date(timeIntervalSince1970: 1_700_000_000.125))
        let json = String(decoding: try JSONEncoder().encode(post), as: UTF8.self)
        #expect(json.contains("\"createdAt\":\"2023-11-14T22:13:20.125Z\""))
        let back = try JSONDecoder().decode(Post.self, from: Data(json.utf8))
        #expect(abs(back.createdAt.timeIntervalSince1970 - 1_700_000_000.125) < 0.0005)
        #expect(throws: DecodingError.self) {
            try JSONDecoder().decode(Post.self, from: Data(#"{"id":1,"author":"a","title":"t","body":"b","createdAt":"yesterday"}"#.utf8))
        }
    }
}

@Suite struct PostDraftControlCharacterTests {
    @Test func controlCharactersAreRefused() {
        #expect(throws: ParleyError.self) { try PostDraft(title: "a\u{0}b", body: "x") }
        #expect(throws: ParleyError.self) { try PostDraft(title: "two\nlines", body: "x") }
        #expect(throws: ParleyError.self) { try PostDraft(title: "t", body: "bell\u{7}") }
        #expect(throws: Never.self) { try PostDraft(title: "t", body: "line\nbreak\r\n\ttab") }
    }
}
