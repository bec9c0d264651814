import Foundation
import ParleyCore
import Testing

@testable import ParleyBalancer

/// Signing and checking chat tickets, without a network.
@Suite("Chat tickets")
struct ChatTicketTests {
    let clock = ManualClock()

    var signer: ChatTicketSigner {
        ChatTicketSigner(secret: BalancerTesting.secret, clock: self.clock.clock)
    }

    func verifier(_ server: String = "chat-1", secret: ChatSecret = BalancerTesting.secret) -> ChatTicketVerifier {
        ChatTicketVerifier(secret: secret, serverName: server, clock: self.clock.clock)
    }

    @Test("Round trip: the chat server reads back who, where and until when; every token is unique")
    func roundTrip() throws {
        let signed = try self.signer.sign(userID: 42, username: "Zoë.k", serverName: "chat-1")
        let issuedAt = Int64(ManualClock.startDate.timeIntervalSince1970 * 1000)
        #expect(signed.ticket.userID == 42)
        #expect(signed.ticket.username == "Zoë.k")
        #expect(signed.ticket.serverName == "chat-1")
        #expect(signed.ticket.issuedAtMilliseconds == issuedAt)
        #expect(signed.ticket.expiresAtMilliseconds == issuedAt + 60_000)
        #expect(signed.ticket.expiresAt == ManualClock.startDate.addingTimeInterval(60))
        #expect(signed.ticket.nonce.count == 16)
        #expect(signed.token.allSatisfy { $0.isASCII && ($0.isLetter || $0.isNumber || $0 == "-" || $0 == "_") })
        #expect(signed.token.utf8.count < 200)

        #expect(try self.verifier().verify(signed.token) == signed.ticket)

        let again = try self.signer.sign(userID: 42, username: "Zoë.k", serverName: "chat-1")
        #expect(again.token != signed.token)
        #expect(again.ticket.nonce != signed.ticket.nonce)
        #expect(try self.verifier().verify(again.token) == again.ticket)
    }

    @Test("The payload is laid out as documented, and signed with HMAC-SHA256 of the derived key")
    func layout() throws {
        let ticket = ChatTicket(
            userID: 0x0102_0304_0506_0708, username: "é", serverName: "ab",
            issuedAtMilliseconds: 1, expiresAtMilliseconds: -2, nonce: Array(0xA0..<0xB0)
        )
        let expected: [UInt8] =
            [1] + [1, 2, 3, 4, 5, 6, 7, 8] + [0, 0, 0, 0, 0, 0, 0, 1] + [0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFE]
            + Array(0xA0..<0xB0) + [2, 0x61, 0x62] + [0, 2, 0xC3, 0xA9]
        #expect(ticket.payload == expected)
        #expect(ChatTicket(payload: expected[...]) == ticket)

        let token = ChatTicketSigner.token(for: ticket, key: BalancerTesting.secret.ticketKey)
        let bytes = try #require(Base64URL.decode(Array(token.utf8)))
        #expect(Array(bytes.prefix(expected.count)) == expected)
        #expect(bytes.count == expected.count + 32)
    }

    @Test("Any changed byte is refused: bad signature (or unknown version for the first byte)")
    func tampered() throws {
        let signed = try self.signer.sign(userID: 7, username: "alice", serverName: "chat-1")
        let bytes = try #require(Base64URL.decode(Array(signed.token.utf8)))
        for index in bytes.indices {
            for bit in [0x01, 0x80] as [UInt8] {
                var changed = bytes
                changed[index] ^= bit
                let error = BalancerTesting.ticketError { _ = try self.verifier().verify(Base64URL.encode(changed)) }
                let expected: ChatTicketError.Reason = index == 0 ? .unsupportedVersion : .badSignature
                #expect(error?.reason == expected, "byte \(index), bit \(bit)")
            }
        }
        // A changed character of the text, too.
        var text = Array(signed.token.utf8)
        text[text.count / 2] = text[text.count / 2] == UInt8(ascii: "A") ? UInt8(ascii: "B") : UInt8(ascii: "A")
        let error = BalancerTesting.ticketError { _ = try self.verifier().verify(String(decoding: text, as: UTF8.self)) }
        #expect(error == ChatTicketError(.badSignature, "The chat ticket's signature is not valid; get a new ticket and connect again."))
        // Another user id under the original signature: refused.
        var forged = signed.ticket
        forged.userID = 1
        let forgedToken = Base64URL.encode(forged.payload + bytes.suffix(32))
        #expect(BalancerTesting.ticketError { _ = try self.verifier().verify(forgedToken) }?.reason == .badSignature)
    }

    @Test("A ticket for another server is refused there, naming both servers")
    func otherServer() throws {
        let signed = try self.signer.sign(userID: 7, username: "alice", serverName: "chat-1")
        let error = BalancerTesting.ticketError { _ = try self.verifier("chat-2").verify(signed.token) }
        #expect(error?.reason == .wrongServer)
        #expect(error?.message == "The chat ticket is for the chat server chat-1, not chat-2; connect there, or get a new ticket.")
        #expect(error?.parleyError.code == .unauthenticated)
        // A prefix of the name is another name.
        #expect(BalancerTesting.ticketError { _ = try self.verifier("chat-").verify(signed.token) }?.reason == .wrongServer)
        #expect(try self.verifier("chat-1").verify(signed.token).serverName == "chat-1")
    }

    @Test("Expired: accepted until the last millisecond of its 60 s, refused from then on")
    func expired() throws {
        let signed = try self.signer.sign(userID: 7, username: "alice", serverName: "chat-1")
        self.clock.advance(by: .milliseconds(59_999))
        #expect(try self.verifier().verify(signed.token).userID == 7)
        self.clock.advance(by: .milliseconds(1))
        let error = BalancerTesting.ticketError { _ = try self.verifier().verify(signed.token) }
        #expect(error == ChatTicketError(.expired, "The chat ticket has expired; get a new ticket and connect again."))
        self.clock.advance(by: .seconds(3600))
        #expect(BalancerTesting.ticketError { _ = try self.verifier().verify(signed.token) }?.reason == .expired)

        // Another lifetime.
        let short = ChatTicketSigner(secret: BalancerTesting.secret, lifetime: .seconds(5), clock: self.clock.clock)
        let ticket = try short.sign(userID: 7, username: "alice", serverName: "chat-1")
        #expect(ticket.ticket.expiresAtMilliseconds - ticket.ticket.issuedAtMilliseconds == 5000)
        self.clock.advance(by: .seconds(5))
        #expect(BalancerTesting.ticketError { _ = try self.verifier().verify(ticket.token) }?.reason == .expired)
    }

    @Test("Issued more than 30 s ahead of the chat server's clock: refused as a clock problem")
    func issuedInFuture() throws {
        let ahead = ManualClock()
        ahead.advance(by: .seconds(31))
        let signer = ChatTicketSigner(secret: BalancerTesting.secret, clock: ahead.clock)
        let signed = try signer.sign(userID: 7, username: "alice", serverName: "chat-1")
        #expect(BalancerTesting.ticketError { _ = try self.verifier().verify(signed.token) }?.reason == .issuedInFuture)
        self.clock.advance(by: .seconds(1))
        #expect(try self.verifier().verify(signed.token).userID == 7)
    }

    @Test("Signed with another secret: bad signature; the same secret text gives the same key")
    func otherKey() throws {
        let signed = try self.signer.sign(userID: 7, username: "alice", serverName: "chat-1")
        let error = BalancerTesting.ticketError {
            _ = try self.verifier(secret: BalancerTesting.otherSecret).verify(signed.token)
        }
        #expect(error?.reason == .badSignature)
        let random = BalancerTesting.ticketError { _ = try self.verifier(secret: .random()).verify(signed.token) }
        #expect(random?.reason == .badSignature)
        // The same text, with a final newline as read from a file: the same key.
        let same = try ChatSecret("0123456789abcdef0123456789abcdef-test-secret\n")
        #expect(try self.verifier(secret: same).verify(signed.token) == signed.ticket)
    }

    @Test("Garbage is refused as malformed, never crashes")
    func garbage() throws {
        let signed = try self.signer.sign(userID: 7, username: "alice", serverName: "chat-1")
        let inputs = [
            "", "a", "ab", "not a ticket", "====", "\u{0}", "é", "🙂🙂🙂🙂",
            signed.token + "=", signed.token + "A", " " + signed.token, signed.token + "\n",
            String(signed.token.dropLast()), String(signed.token.dropLast(4)), String(signed.token.prefix(60)),
            signed.token.replacingOccurrences(of: "-", with: "+").replacingOccurrences(of: "_", with: "/") + "+/",
            Base64URL.encode([1]), Base64URL.encode([UInt8](repeating: 1, count: 109)),
            "eyJhbGciOiJub25lIn0.eyJzdWIiOiIxIn0.",
        ]
        for input in inputs {
            let error = BalancerTesting.ticketError { _ = try self.verifier().verify(input) }
            #expect(error?.reason == .malformed || error?.reason == .badSignature || error?.reason == .unsupportedVersion, "\(input.debugDescription)")
            #expect(error?.reason != nil)
        }
        // Not base64url at all, or too short to hold a ticket: malformed, with the documented message.
        for input in ["", "not a ticket", "é", signed.token + "=", Base64URL.encode([1])] {
            let error = BalancerTesting.ticketError { _ = try self.verifier().verify(input) }
            #expect(error == ChatTicketError(.malformed, "That is not a chat ticket; get a new ticket and connect again."))
        }
        // The non-canonical spelling of the last character (unused bits set) is refused.
        let canonical = Base64URL.encode([0xFF])
        #expect(canonical == "_w")
        #expect(Base64URL.decode(Array("_w".utf8)) == [0xFF])
        #expect(Base64URL.decode(Array("_x".utf8)) == nil)
    }

    @Test("Huge input is refused before it is decoded")
    func huge() throws {
        let signed = try self.signer.sign(userID: 7, username: "alice", serverName: "chat-1")
        let padded = signed.token + String(repeating: "A", count: ChatTicketVerifier.maxTokenBytes)
        #expect(BalancerTesting.ticketError { _ = try self.verifier().verify(padded) }?.reason == .malformed)
        let megabyte = String(repeating: "A", count: 1 << 20)
        #expect(BalancerTesting.ticketError { _ = try self.verifier().verify(megabyte) }?.reason == .malformed)
        // Just over the limit, though a valid encoding length.
        let over = String(repeating: "A", count: ChatTicketVerifier.maxTokenBytes + 4)
        #expect(BalancerTesting.ticketError { _ = try self.verifier().verify(over) }?.reason == .malformed)
    }

    @Test("The signer refuses a user id that is not positive, an empty or huge username, a bad server name")
    func signerChecks() throws {
        for userID: Int64 in [0, -1, .min] {
            #expect(throws: ParleyError(.invalidInput, "A user id is a positive number.")) {
                try self.signer.sign(userID: userID, username: "alice", serverName: "chat-1")
            }
        }
        for username in ["", String(repeating: "x", count: ChatTicket.maxUsernameBytes + 1)] {
            #expect(throws: ParleyError.self) { try self.signer.sign(userID: 1, username: username, serverName: "chat-1") }
        }
        let longest = String(repeating: "x", count: ChatTicket.maxUsernameBytes)
        let signed = try self.signer.sign(userID: .max, username: longest, serverName: String(repeating: "s", count: 64))
        #expect(try self.verifier(String(repeating: "s", count: 64)).verify(signed.token) == signed.ticket)
        #expect(signed.token.utf8.count <= ChatTicketVerifier.maxTokenBytes)
        for server in ["", "chat 1", String(repeating: "s", count: 65)] {
            #expect(throws: ParleyError.self) { try self.signer.sign(userID: 1, username: "alice", serverName: server) }
        }
    }

    @Test("Secrets: at least 32 bytes, white space around ignored, from the flag or PARLEY_CHAT_SECRET, never printed")
    func secrets() throws {
        let short = String(repeating: "k", count: 31)
        #expect(throws: ParleyError.self) { try ChatSecret(short) }
        #expect(throws: ParleyError.self) { try ChatSecret("  " + short + "\n") }
        #expect(throws: ParleyError.self) { try ChatSecret(bytes: [UInt8](repeating: 1, count: 1025)) }
        _ = try ChatSecret(String(repeating: "k", count: 32))
        let error = try BalancerTestingSync.parleyError { _ = try ChatSecret(short) }
        #expect(error.code == .invalidInput)
        #expect(error.message.contains("at least 32 bytes"))

        #expect(try ChatSecret.configured(flag: nil, environment: [:]) == nil)
        let fromEnvironment = try #require(
            try ChatSecret.configured(flag: nil, environment: ["PARLEY_CHAT_SECRET": "0123456789abcdef0123456789abcdef-test-secret"])
        )
        let fromFlag = try #require(
            try ChatSecret.configured(flag: "fedcba9876543210fedcba9876543210-other-secret", environment: ["PARLEY_CHAT_SECRET": short])
        )
        let signed = try self.signer.sign(userID: 7, username: "alice", serverName: "chat-1")
        #expect(try self.verifier(secret: fromEnvironment).verify(signed.token).userID == 7)
        #expect(BalancerTesting.ticketError { _ = try self.verifier(secret: fromFlag).verify(signed.token) }?.reason == .badSignature)
        #expect(throws: ParleyError.self) { try ChatSecret.configured(flag: nil, environment: ["PARLEY_CHAT_SECRET": short]) }

        #expect("\(BalancerTesting.secret)" == "ChatSecret(redacted)")
        #expect(String(reflecting: BalancerTesting.secret) == "ChatSecret(redacted)")
    }

    @Test("Base64url round trips every length and refuses padding and other alphabets")
    func base64URL() {
        for length in 0..<40 {
            let bytes = (0..<length).map { UInt8(truncatingIfNeeded: $0 &* 37 &+ 250) }
            let text = Base64URL.encode(bytes)
            #expect(!text.contains("="))
            #expect(Base64URL.decode(Array(text.utf8)) == bytes)
            #expect(Data(bytes).base64EncodedString().replacingOccurrences(of: "+", with: "-")
                .replacingOccurrences(of: "/", with: "_").replacingOccurrences(of: "=", with: "") == text)
        }
        for bad in ["A", "AAAAA", "AA==", "A+", "A/", "A A", "AB\u{0}"] {
            #expect(Base64URL.decode(Array(bad.utf8)) == nil, "\(bad.debugDescription)")
        }
    }
}
