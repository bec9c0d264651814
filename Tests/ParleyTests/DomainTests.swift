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

    /// Session tokens are stored by this hex of their hash: it must stay what `%02x` gave.
    @Test func hexIsTwoLowercaseDigitsPerByte() {
        let bytes = (0...255).map { UInt8($0) }
        #expect(hexEncoded(bytes) == bytes.map { String(format: "%02x", $0) }.joined())
        #expect(hexEncoded([0x00, 0x0f, 0xa0, 0xff]) == "000fa0ff")
        #expect(hexEncoded([UInt8]()) == "")
    }

    /// Request ids: as many hex digits as asked, and never the same twice.
    @Test func randomHexIdentifiers() {
        let ids = (0..<1000).map { _ in randomHex(bytes: 16) }
        #expect(ids.allSatisfy { $0.count == 32 && $0.allSatisfy(\.isHexDigit) && $0 == $0.lowercased() })
        #expect(Set(ids).count == ids.count)
        #expect(randomHex(bytes: 5).count == 10)
    }

    /// Posts are trimmed as Foundation's `.whitespacesAndNewlines` trims, without Foundation.
    @Test func trimmingWhitespaceMatchesFoundation() {
        let spaces = (0...0x3000).compactMap(Unicode.Scalar.init).filter { $0.properties.isWhitespace }
        let texts = [
            "", " ", "plain", "  both  ", "\t\n\r tabs and lines \u{85}\u{2028}", "\u{A0}no-break\u{3000}",
            " e\u{301} ", " \u{301}lone mark", "👍🏽 ", "inner  space kept", "\u{200B}zero width space too\u{200B}", "\u{200C}joiners are not\u{200D}",
            String(String.UnicodeScalarView(spaces)) + "x" + String(String.UnicodeScalarView(spaces)),
        ]
        for text in texts {
            #expect(text.trimmingWhitespace() == text.trimmingCharacters(in: .whitespacesAndNewlines), "\(text.debugDescription)")
            #expect(text.trimmingWhitespace().unicodeScalars.elementsEqual(text.trimmingCharacters(in: .whitespacesAndNewlines).unicodeScalars))
        }
        // Every scalar Foundation calls white space, and no other, is trimmed (all are in the BMP).
        for scalar in (0...0xFFFF).lazy.compactMap(Unicode.Scalar.init) where CharacterSet.whitespacesAndNewlines.contains(scalar) != (" \(scalar) ".trimmingWhitespace() == "") {
            Issue.record("U+\(String(scalar.value, radix: 16)) differs")
        }
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

@Suite struct ISO8601DateTests {
    /// The hand-written formatter round-trips every whole millisecond, and Foundation reads
    /// its text as the same instant (Foundation's own output differs before 1583, where it
    /// switches to the Julian calendar, and truncates where we round).
    @Test func roundTripsAndFoundationAgrees() throws {
        var generator = SystemRandomNumberGenerator()
        let style = Date.ISO8601FormatStyle(includingFractionalSeconds: true)
        var samples: [Int64] = [0, -1, 86_399_999, 951_782_400_000, 4_102_444_800_000, -11_676_096_000_000, 253_402_300_799_999]
        samples += (0..<2000).map { _ in Int64.random(in: -11_676_096_000_000...253_402_300_799_999, using: &generator) }
        for milliseconds in samples {
            let date = Date(timeIntervalSince1970: Double(milliseconds) / 1000)
            let text = ISO8601Date.format(date)
            let back = try #require(ISO8601Date.parse(text))
            #expect(Int64((back.timeIntervalSince1970 * 1000).rounded()) == milliseconds, "\(text)")
            let foundation = try style.parse(text)
            #expect(abs(foundation.timeIntervalSince1970 - date.timeIntervalSince1970) < 0.001, "\(text)")
        }
        #expect(ISO8601Date.format(Date(timeIntervalSince1970: 1_795_869_628.5)) == "2026-11-28T12:40:28.500Z")
    }

    @Test func parsesOtherFormsAndRejectsNonsense() {
        #expect(ISO8601Date.parse("2026-11-28T12:40:28Z") == Date(timeIntervalSince1970: 1_795_869_628))
        #expect(ISO8601Date.parse("2026-11-28T13:40:28+01:00") == Date(timeIntervalSince1970: 1_795_869_628))
        for bad in ["", "yesterday", "2026-02-30T00:00:00Z", "2025-02-29T00:00:00.000Z", "2026-13-01T00:00:00Z", "2026-11-28 12:40:28Z", "2026-11-28T12:40:2xZ"] {
            #expect(ISO8601Date.parse(bad) == nil, "\(bad)")
        }
    }
}
