import Foundation
import NIOCore
import NIOEmbedded
import NIOTestUtils
import ParleyChat
import Testing

// MARK: - Samples: one message of every type

private let alice = ChatUser(userId: 1, username: "alice", nickname: "Alice A.")
private let bob = ChatUser(userId: 2, username: "bøb")
private let request = ChatFriendRequest(
    friendRequestId: 41, from: alice, to: bob, message: "hi, it's \"Alice\" 👋", alias: "Bob from work",
    createdAt: 1_790_000_000_123
)
private let friend = ChatFriend(
    userId: 2, username: "bøb", nickname: nil, alias: "Bobby", online: true, conversationId: 7, lastSeq: 12, readSeq: 10, unread: 1
)
private let stored = ChatTextMessage(
    conversationId: 7, seq: 12, fromUserId: 1, text: "line 1\nline 2 </script> ☃", sentAt: 1_790_000_000_456,
    clientMessageId: "c-12"
)

/// One message of each type, with unusual but valid values (non-ASCII, quotes, optional fields set and not).
private let samples: [ChatMessage] = [
    .authenticate(ChatAuthenticate(requestId: "r1", token: "eyJhbGciOiJIUzI1NiJ9.e30.sig")),
    .authenticated(
        ChatAuthenticated(requestId: "r1", user: alice, serverName: "chat-1", heartbeatSeconds: 10, idleTimeoutSeconds: 30)
    ),
    .heartbeat(ChatHeartbeat()),
    .heartbeatAck(ChatHeartbeatAck(serverTime: 1_790_000_000_000)),
    .logout(ChatLogout(requestId: "bye")),
    .kicked(ChatKicked(reason: .loggedInElsewhere, message: "You logged in elsewhere.")),
    .ok(ChatOK(requestId: "r7")),
    .error(ChatError(code: .notFriends, message: "Only friends.", requestId: nil, clientMessageId: "c-9", closing: false)),
    .searchUsers(ChatSearchUsers(requestId: "s", query: "bø", limit: 5)),
    .searchResults(
        ChatSearchResults(requestId: "s", users: [ChatUserMatch(userId: 2, username: "bøb", relation: .requestSent)])
    ),
    .sendFriendRequest(ChatSendFriendRequest(requestId: "f", toUserId: 2, message: "hi, it's \"Alice\" 👋", alias: "Bob")),
    .friendRequestSent(ChatFriendRequestSent(requestId: "f", request: request)),
    .friendRequestReceived(ChatFriendRequestReceived(request: request)),
    .listFriendRequests(ChatListFriendRequests()),
    .friendRequests(ChatFriendRequests(requestId: "l", incoming: [request], outgoing: [], hasMore: true)),
    .acceptFriendRequest(ChatAcceptFriendRequest(requestId: "a", friendRequestId: 41, alias: "Ally")),
    .declineFriendRequest(ChatDeclineFriendRequest(requestId: "d", friendRequestId: 41)),
    .friendRequestResolved(
        ChatFriendRequestResolved(requestId: "a", friendRequestId: 41, outcome: .accepted, friend: friend)
    ),
    .listFriends(ChatListFriends(requestId: "lf", after: "Bøb")),
    .friends(ChatFriends(requestId: "lf", friends: [friend], hasMore: true)),
    .presence(ChatPresence(userId: 2, online: false)),
    .sendText(ChatSendText(clientMessageId: "c-12", toUserId: 2, text: "line 1\nline 2 </script> ☃")),
    .textAck(ChatTextAck(clientMessageId: "c-12", conversationId: 7, seq: 12, sentAt: 1_790_000_000_456, duplicate: true)),
    .message(stored),
    .sync(ChatSync(requestId: "y", conversationId: 7, afterSeq: 11, limit: 50)),
    .syncResult(ChatSyncResult(requestId: "y", conversationId: 7, messages: [stored], lastSeq: 12, hasMore: false)),
    .markRead(ChatMarkRead(requestId: "m", conversationId: 7, seq: 12)),
]

// MARK: - Helpers

private func bytes(_ buffer: ByteBuffer) -> [UInt8] {
    Array(buffer.readableBytesView)
}

private func buffer(_ bytes: [UInt8]) -> ByteBuffer {
    ByteBuffer(bytes: bytes)
}

/// The wire bytes of a frame, through ``ChatFrameEncoder``.
private func wire(_ frame: ChatFrame) throws -> ByteBuffer {
    var out = ByteBuffer()
    try ChatFrameEncoder().encode(data: frame, out: &out)
    return out
}

private func frame(_ type: UInt16, _ body: String) -> ChatFrame {
    ChatFrame(type: type, body: ByteBuffer(string: body))
}

/// The decoding error of a frame, or `nil` when it decodes.
private func decodingError(
    _ frame: ChatFrame,
    direction: ChatMessageDirection? = nil
) -> ChatMessageDecodingError? {
    do {
        _ = try ChatMessage.decode(frame: frame, direction: direction)
        return nil
    } catch {
        return error
    }
}

private func webSocketError(_ text: String) -> ChatMessageDecodingError? {
    do {
        _ = try ChatMessage.decode(webSocketText: text)
        return nil
    } catch {
        return error
    }
}

private func decoderChannel() -> EmbeddedChannel {
    EmbeddedChannel(handler: ByteToMessageHandler(ChatFrameDecoder()))
}

// MARK: - Message types

@Suite struct ChatMessageTypeTests {
    @Test func namesAndNumbersAreUniqueAndRoundTrip() {
        let all = ChatMessageType.allCases
        #expect(Set(all.map(\.name)).count == all.count)
        #expect(Set(all.map(\.rawValue)).count == all.count)
        for type in all {
            #expect(ChatMessageType(name: type.name) == type)
            #expect(ChatMessageType(rawValue: type.rawValue) == type)
        }
        #expect(ChatMessageType(name: "SEND_TEXT") == nil)
        #expect(ChatMessageType.sendText.rawValue == 32)
        #expect(ChatMessageType.sendText.name == "send_text")
        #expect(ChatMessageType.sendText.direction == .clientToServer)
        #expect(ChatMessageType.message.direction == .serverToClient)
    }

    @Test func errorCodesSpellParleysCodes() {
        #expect(ChatErrorCode.invalidInput.rawValue == "invalid_input")
        #expect(ChatErrorCode.notFound.rawValue == "not_found")
        #expect(ChatErrorCode.tooLarge.rawValue == "too_large")
        #expect(ChatErrorCode.rateLimited.rawValue == "rate_limited")
        #expect(ChatErrorCode.notFriends.rawValue == "not_friends")
        #expect(ChatErrorCode.alreadyRequested.rawValue == "already_requested")
        #expect(ChatErrorCode.selfRequest.rawValue == "self_request")
    }

    @Test func samplesCoverEveryType() {
        #expect(Set(samples.map(\.type)) == Set(ChatMessageType.allCases))
        #expect(samples.count == ChatMessageType.allCases.count)
    }
}

// MARK: - Encoding, byte by byte

@Suite struct ChatEncodingTests {
    /// A friend's `unread` round-trips; from a server that predates it, every text after the
    /// read mark counts.
    @Test func friendUnreadRoundTripsAndDefaults() throws {
        let encoded = try JSONEncoder().encode(friend)
        #expect(try JSONDecoder().decode(ChatFriend.self, from: encoded) == friend)
        let older = #"{"userId":2,"username":"b","online":false,"conversationId":7,"lastSeq":12,"readSeq":10}"#
        let decoded = try JSONDecoder().decode(ChatFriend.self, from: Data(older.utf8))
        #expect(decoded.unread == 2)
        #expect(decoded.alias == nil && decoded.nickname == nil)
    }

    /// Lists from a server that predates pages say nothing of more: there is none to ask for.
    @Test func listsWithoutHasMoreDecodeAsComplete() throws {
        let friends = try JSONDecoder().decode(ChatFriends.self, from: Data(#"{"friends":[]}"#.utf8))
        #expect(friends == ChatFriends(friends: [], hasMore: false))
        let requests = try JSONDecoder().decode(ChatFriendRequests.self, from: Data(#"{"incoming":[],"outgoing":[]}"#.utf8))
        #expect(requests == ChatFriendRequests(incoming: [], outgoing: [], hasMore: false))
    }

    @Test func heartbeatIsAnEmptyObject() throws {
        let frame = try ChatMessage.heartbeat(ChatHeartbeat()).encode()
        #expect(bytes(try wire(frame)) == [0x00, 0x03, 0x00, 0x00, 0x00, 0x02, 0x7B, 0x7D])
    }

    @Test func authenticateFrame() throws {
        let frame = try ChatMessage.authenticate(ChatAuthenticate(token: "abc")).encode()
        let expected: [UInt8] = [0x00, 0x01, 0x00, 0x00, 0x00, 0x0F] + Array(#"{"token":"abc"}"#.utf8)
        #expect(bytes(try wire(frame)) == expected)
    }

    @Test func sendTextFrameCountsUTF8Bytes() throws {
        let message = ChatMessage.sendText(ChatSendText(clientMessageId: "m1", toUserId: 7, text: "hé"))
        let frame = try message.encode()
        // 50 bytes of body: "é" is two bytes, C3 A9; keys are sorted.
        let expected: [UInt8] =
            [0x00, 0x20, 0x00, 0x00, 0x00, 0x32]
            + Array(#"{"clientMessageId":"m1","text":"h"#.utf8) + [0xC3, 0xA9]
            + Array(#"","toUserId":7}"#.utf8)
        #expect(bytes(try wire(frame)) == expected)
    }

    @Test func headerIsBigEndian() throws {
        let body = ByteBuffer(repeating: UInt8(ascii: "x"), count: 259)
        let out = try wire(ChatFrame(type: 0x0102, body: body))
        #expect(Array(bytes(out).prefix(6)) == [0x01, 0x02, 0x00, 0x00, 0x01, 0x03])
        #expect(out.readableBytes == 6 + 259)
    }

    @Test func errorFrameBody() throws {
        let message = ChatMessage.error(ChatError(code: .tooLarge, message: "big", requestId: "r/1", closing: true))
        let frame = try message.encode()
        #expect(frame.type == 8)
        #expect(String(buffer: frame.body) == #"{"closing":true,"code":"too_large","message":"big","requestId":"r/1"}"#)
    }

    @Test func webSocketFormHasTheTypeName() throws {
        let message = ChatMessage.sendText(ChatSendText(clientMessageId: "m1", toUserId: 7, text: "hé"))
        #expect(try message.encodeWebSocketText() == #"{"clientMessageId":"m1","text":"hé","toUserId":7,"type":"send_text"}"#)
        #expect(try ChatMessage.heartbeat(ChatHeartbeat()).encodeWebSocketText() == #"{"type":"heartbeat"}"#)
    }

    @Test func encoderRefusesABodyOverTheLimit() throws {
        let body = ByteBuffer(repeating: 0x20, count: ChatFrame.maximumBodyLength + 1)
        #expect(throws: ChatEncodingError.bodyTooLarge(type: 34, length: 65_537, limit: 65_536)) {
            try wire(ChatFrame(type: 34, body: body))
        }
        let atLimit = ByteBuffer(repeating: 0x20, count: ChatFrame.maximumBodyLength)
        #expect(try wire(ChatFrame(type: 34, body: atLimit)).readableBytes == 6 + 65_536)
    }

    @Test func aSyncResultOverTheLimitIsRefused() throws {
        let text = String(repeating: "é", count: 4_000)  // 8,000 bytes each
        let messages = (1...9).map {
            ChatTextMessage(conversationId: 1, seq: Int64($0), fromUserId: 1, text: text, sentAt: 0)
        }
        let result = ChatMessage.syncResult(
            ChatSyncResult(conversationId: 1, messages: messages, lastSeq: 9, hasMore: false)
        )
        #expect(throws: ChatEncodingError.self) { try result.encode() }
        #expect(throws: ChatEncodingError.self) { try result.encodeWebSocketText() }
        let fewer = ChatMessage.syncResult(
            ChatSyncResult(conversationId: 1, messages: Array(messages.prefix(7)), lastSeq: 9, hasMore: true)
        )
        #expect(try fewer.encode().body.readableBytes <= ChatFrame.maximumBodyLength)
    }

    @Test func theLongestTextFitsAFrameEvenEscaped() throws {
        // 4,000 control characters: each is escaped as \u0001, six bytes.
        let text = String(repeating: "\u{01}", count: ChatLimits.textLength.upperBound)
        let send = ChatMessage.sendText(ChatSendText(clientMessageId: "c", toUserId: 2, text: text))
        let frame = try send.encode()
        #expect(frame.body.readableBytes > 6 * 4_000)
        #expect(try ChatMessage.decode(frame: frame, direction: .clientToServer) == send)
        let push = ChatMessage.message(ChatTextMessage(conversationId: 1, seq: 1, fromUserId: 1, text: text, sentAt: 0))
        #expect(try ChatMessage.decode(frame: push.encode()) == push)
    }
}

// MARK: - Round trips

@Suite struct ChatRoundTripTests {
    @Test(arguments: samples)
    func tcpRoundTrip(_ message: ChatMessage) throws {
        let frame = try message.encode()
        #expect(frame.type == message.type.rawValue)
        let channel = decoderChannel()
        try channel.writeInbound(try wire(frame))
        let decodedFrame = try #require(try channel.readInbound(as: ChatFrame.self))
        #expect(decodedFrame == frame)
        #expect(try ChatMessage.decode(frame: decodedFrame, direction: message.type.direction) == message)
        #expect(try channel.finish().isClean)
    }

    @Test(arguments: samples)
    func webSocketRoundTrip(_ message: ChatMessage) throws {
        let text = try message.encodeWebSocketText()
        #expect(text.contains(#""type":"\#(message.type.name)""#))
        #expect(try ChatMessage.decode(webSocketText: text, direction: message.type.direction) == message)
        #expect(try ChatMessage.decode(webSocketBytes: ByteBuffer(string: text)) == message)
    }

    @Test func unknownFieldsAreIgnored() throws {
        let decoded = try ChatMessage.decode(frame: frame(3, #"{"future":[1,{"x":null}],"type":"ignored"}"#))
        #expect(decoded == .heartbeat(ChatHeartbeat()))
        let logout = try ChatMessage.decode(webSocketText: #"{"type":"logout","extra":true}"#)
        #expect(logout == .logout(ChatLogout()))
    }

    @Test func anUnknownErrorCodeReadsAsInternal() throws {
        let decoded = try ChatMessage.decode(frame: frame(8, #"{"code":"brand_new","message":"m","closing":false}"#))
        #expect(decoded == .error(ChatError(code: .internal, message: "m")))
    }
}

// MARK: - Frame decoder

@Suite struct ChatFrameDecoderTests {
    private static let first = ChatFrame(type: 32, body: ByteBuffer(string: #"{"clientMessageId":"a","toUserId":2,"text":"é"}"#))
    private static let second = ChatFrame(type: 3, body: ByteBuffer(string: "{}"))

    private static func twoFrames() throws -> [UInt8] {
        bytes(try wire(Self.first)) + bytes(try wire(Self.second))
    }

    @Test func everySplitPointOfTwoFrames() throws {
        let all = try Self.twoFrames()
        for split in 0...all.count {
            let channel = decoderChannel()
            try channel.writeInbound(buffer(Array(all[..<split])))
            try channel.writeInbound(buffer(Array(all[split...])))
            #expect(try channel.readInbound(as: ChatFrame.self) == Self.first, "split at \(split)")
            #expect(try channel.readInbound(as: ChatFrame.self) == Self.second, "split at \(split)")
            #expect(try channel.readInbound(as: ChatFrame.self) == nil, "split at \(split)")
            #expect(try channel.finish().isClean)
        }
    }

    @Test func oneByteAtATime() throws {
        let all = try Self.twoFrames()
        let firstLength = ChatFrame.headerLength + Self.first.body.readableBytes
        let channel = decoderChannel()
        for (index, byte) in all.enumerated() {
            try channel.writeInbound(buffer([byte]))
            let frame = try channel.readInbound(as: ChatFrame.self)
            switch index {
            case firstLength - 1: #expect(frame == Self.first)
            case all.count - 1: #expect(frame == Self.second)
            default: #expect(frame == nil, "a frame after byte \(index)")
            }
        }
        #expect(try channel.finish().isClean)
    }

    @Test func verifier() throws {
        let frames = try samples.map { try $0.encode() } + [ChatFrame(type: 999, body: ByteBuffer(string: "not json"))]
        let pairs = try frames.map { (try wire($0), [$0]) }
        try ByteToMessageDecoderVerifier.verifyDecoder(inputOutputPairs: pairs) { ChatFrameDecoder() }
    }

    @Test func oversizedLengthIsRefusedBeforeTheBody() throws {
        let channel = decoderChannel()
        // The header alone: 65,537 bytes announced, none sent.
        let header: [UInt8] = [0x00, 0x20, 0x00, 0x01, 0x00, 0x01]
        #expect(throws: ChatFrameDecoderError.bodyTooLarge(type: 32, length: 65_537, limit: 65_536)) {
            try channel.writeInbound(buffer(header))
        }
        _ = try? channel.finish()

        let error = ChatFrameDecoderError.bodyTooLarge(type: 32, length: 65_537, limit: 65_536)
        #expect(error.closesConnection)
        #expect(error.reply?.code == .tooLarge)
        #expect(error.reply?.closing == true)
    }

    @Test func aHugeLengthThrowsWithNothingConsumed() throws {
        var decoder = ChatFrameDecoder()
        var input = buffer([0x00, 0x01, 0xFF, 0xFF, 0xFF, 0xFF, 0x7B])
        #expect(throws: ChatFrameDecoderError.bodyTooLarge(type: 1, length: UInt32.max, limit: 65_536)) {
            try decoder.decode(buffer: &input)
        }
        #expect(input.readerIndex == 0)
    }

    @Test func theLimitItselfIsAccepted() throws {
        let channel = decoderChannel()
        try channel.writeInbound(buffer([0x00, 0x20, 0x00, 0x01, 0x00, 0x00]))
        #expect(try channel.readInbound(as: ChatFrame.self) == nil)
        try channel.writeInbound(ByteBuffer(repeating: 0x20, count: 65_536))
        let frame = try #require(try channel.readInbound(as: ChatFrame.self))
        #expect(frame.body.readableBytes == 65_536)
        #expect(try channel.finish().isClean)
    }

    @Test func aSmallerConfiguredLimit() throws {
        var decoder = ChatFrameDecoder(maximumBodyLength: 4)
        var ok = buffer([0x00, 0x03, 0x00, 0x00, 0x00, 0x04] + Array("{  }".utf8))
        #expect(try decoder.decode(buffer: &ok)?.body == ByteBuffer(string: "{  }"))
        var tooBig = buffer([0x00, 0x03, 0x00, 0x00, 0x00, 0x05])
        #expect(throws: ChatFrameDecoderError.bodyTooLarge(type: 3, length: 5, limit: 4)) {
            try decoder.decode(buffer: &tooBig)
        }
    }

    @Test func endOfStreamInsideAFrameIsTruncated() throws {
        let channel = decoderChannel()
        try channel.writeInbound(buffer([0x00, 0x03, 0x00, 0x00, 0x00, 0x02, 0x7B]))
        #expect(try channel.readInbound(as: ChatFrame.self) == nil)
        #expect(throws: ChatFrameDecoderError.truncated(bufferedBytes: 7)) {
            _ = try channel.finish()
        }
        #expect(ChatFrameDecoderError.truncated(bufferedBytes: 7).reply == nil)
    }

    @Test func anUnknownTypeStillDecodesAsAFrameAndTheStreamGoesOn() throws {
        let channel = decoderChannel()
        let unknown = ChatFrame(type: 999, body: ByteBuffer(string: #"{"requestId":"r9"}"#))
        try channel.writeInbound(ByteBuffer(bytes: bytes(try wire(unknown)) + bytes(try wire(Self.second))))
        let read = try #require(try channel.readInbound(as: ChatFrame.self))
        #expect(read == unknown)
        #expect(read.messageType == nil)
        #expect(try channel.readInbound(as: ChatFrame.self) == Self.second)
        #expect(try channel.finish().isClean)

        let error = try #require(decodingError(read))
        #expect(error.kind == .unknownType(999))
        #expect(error.code == .unknownType)
        #expect(error.requestId == "r9")
        #expect(!error.closesConnection)
        #expect(error.reply?.closing == false)
    }
}

// MARK: - Bad bodies

@Suite struct ChatBodyErrorTests {
    @Test func invalidUTF8() throws {
        var body = ByteBuffer(string: #"{"clientMessageId":"c1","toUserId":2,"text":""#)
        body.writeBytes([0xC3, 0x28])  // a lead byte followed by a non-continuation byte
        body.writeString(#""}"#)
        let error = try #require(decodingError(ChatFrame(type: 32, body: body)))
        #expect(error.kind == .invalidUTF8)
        #expect(error.code == .invalidInput)
        #expect(error.reply == ChatError(code: .invalidInput, message: "The body is not valid UTF-8."))
        #expect(!error.closesConnection)

        var lone = ByteBuffer(string: #"{"type":"heartbeat","x":""#)
        lone.writeBytes([0xFF])
        lone.writeString(#""}"#)
        #expect(throws: ChatMessageDecodingError(.invalidUTF8)) {
            try ChatMessage.decode(webSocketBytes: lone)
        }
    }

    @Test func truncatedJSON() throws {
        let error = try #require(decodingError(frame(1, #"{"token":"ab"#)))
        #expect(error.kind == .invalidJSON)
        #expect(error.code == .invalidInput)
        #expect(decodingError(frame(3, ""))?.kind == .invalidJSON)
        #expect(decodingError(frame(3, "{}}"))?.kind == .invalidJSON)
        #expect(webSocketError(#"{"type":"heartbeat""#)?.kind == .invalidJSON)
    }

    @Test func aBodyThatIsNotAnObject() throws {
        for body in ["[1,2]", "[]", #""text""#, "42", "null", "true"] {
            #expect(decodingError(frame(3, body))?.kind == .notAnObject, "heartbeat \(body)")
            #expect(decodingError(frame(5, body))?.kind == .notAnObject, "logout \(body)")
            #expect(decodingError(frame(32, body))?.kind == .notAnObject, "send_text \(body)")
            #expect(webSocketError(body)?.kind == .notAnObject, "websocket \(body)")
        }
        #expect(decodingError(frame(32, "[1,2]"))?.reply?.message == "The body must be a JSON object.")
    }

    @Test func missingRequiredFields() throws {
        let text = try #require(decodingError(frame(32, #"{"clientMessageId":"c9","toUserId":3}"#)))
        #expect(text.kind == .missingField("text"))
        #expect(text.code == .invalidInput)
        #expect(text.reply?.clientMessageId == "c9")
        #expect(text.reply?.message == #"The field "text" is missing."#)

        let token = try #require(decodingError(frame(1, #"{"requestId":"r2"}"#)))
        #expect(token.kind == .missingField("token"))
        #expect(token.requestId == "r2")

        let nested = try #require(decodingError(frame(19, #"{"request":{"friendRequestId":1}}"#)))
        #expect(nested.kind == .missingField("request.from"))

        #expect(webSocketError(#"{"token":"t"}"#)?.kind == .missingField("type"))
        #expect(webSocketError(#"{"type":"authenticate"}"#)?.kind == .missingField("token"))
    }

    @Test func fieldsOfTheWrongType() throws {
        let error = try #require(decodingError(frame(32, #"{"clientMessageId":"c1","toUserId":"2","text":"x"}"#)))
        #expect(error.kind == .invalidField("toUserId", reason: "must be an integer"))
        #expect(error.clientMessageId == "c1")
        let fraction = try #require(decodingError(frame(32, #"{"clientMessageId":"c1","toUserId":2.5,"text":"x"}"#)))
        #expect(fraction.kind == .invalidNumber)
        #expect(fraction.code == .invalidInput)
        #expect(fraction.clientMessageId == "c1")
        #expect(decodingError(frame(35, #"{"conversationId":1e30,"afterSeq":0}"#))?.kind == .invalidNumber)
        #expect(decodingError(frame(1, #"{"token":null}"#))?.kind
            == .invalidField("token", reason: "must be a string, not null"))
        #expect(webSocketError(#"{"type":3}"#)?.kind == .invalidField("type", reason: "must be a string"))
    }

    @Test func unknownTypeNameOverWebSocket() throws {
        let error = try #require(webSocketError(#"{"type":"send_txt","requestId":"r3"}"#))
        #expect(error.kind == .unknownTypeName("send_txt"))
        #expect(error.code == .unknownType)
        #expect(error.requestId == "r3")
    }

    @Test func aServerTypeFromAClientIsRefused() throws {
        let error = try #require(decodingError(frame(7, #"{"requestId":"x"}"#), direction: .clientToServer))
        #expect(error.kind == .wrongDirection(.ok))
        #expect(error.code == .invalidInput)
        #expect(error.requestId == "x")
        #expect(decodingError(frame(7, "{}"), direction: .serverToClient) == nil)
        #expect(decodingError(frame(32, #"{"clientMessageId":"c","toUserId":2,"text":"x"}"#), direction: .serverToClient)?
            .kind == .wrongDirection(.sendText))
    }

    @Test func fieldRules() throws {
        func kind(_ type: UInt16, _ body: String) -> ChatMessageDecodingError.Kind? {
            decodingError(frame(type, body))?.kind
        }
        let long = String(repeating: "a", count: 4_001)
        let error = try #require(decodingError(frame(32, #"{"clientMessageId":"c1","toUserId":2,"text":"\#(long)"}"#)))
        #expect(error.code == .tooLarge)
        #expect(error.clientMessageId == "c1")
        // 4,000 characters of two bytes each (8,000 bytes) is allowed; 2,049 emoji (8,196 bytes) is not.
        let longest = String(repeating: "é", count: 4_000)
        #expect(kind(32, #"{"clientMessageId":"c1","toUserId":2,"text":"\#(longest)"}"#) == nil)
        let emoji = String(repeating: "😀", count: 2_049)
        #expect(decodingError(frame(32, #"{"clientMessageId":"c1","toUserId":2,"text":"\#(emoji)"}"#))?.code == .tooLarge)
        #expect(kind(32, #"{"clientMessageId":"c1","toUserId":2,"text":" \n\t"}"#)
            == .invalidField("text", reason: "must not be only white space"))
        #expect(kind(32, #"{"clientMessageId":"c1","toUserId":2,"text":""}"#)
            == .invalidField("text", reason: "must have at least 1 character(s)"))
        #expect(kind(32, #"{"clientMessageId":"has space","toUserId":2,"text":"x"}"#)
            == .invalidField("clientMessageId", reason: "must have 1 to 64 visible ASCII characters"))
        #expect(kind(32, #"{"clientMessageId":"c","toUserId":0,"text":"x"}"#)
            == .invalidField("toUserId", reason: "must be 1 or more"))
        #expect(kind(35, #"{"conversationId":1,"afterSeq":-1}"#) == .invalidField("afterSeq", reason: "must be 0 or more"))
        #expect(kind(35, #"{"conversationId":1,"afterSeq":0,"limit":501}"#)
            == .invalidField("limit", reason: "must be from 1 to 500"))
        #expect(kind(16, #"{"query":"x","limit":0}"#) == .invalidField("limit", reason: "must be from 1 to 50"))
        #expect(kind(23, #"{"friendRequestId":4,"alias":"a\u0007b"}"#)
            == .invalidField("alias", reason: "must not contain control characters"))
        #expect(kind(1, #"{"token":""}"#) == .invalidField("token", reason: "must have 1 to 4096 bytes"))
        #expect(kind(26, #"{"after":" "}"#) == .invalidField("after", reason: "must not be only white space"))
        #expect(kind(26, #"{"after":"\#(String(repeating: "a", count: 33))"}"#)
            == .fieldTooLarge("after", reason: "has at most 32 characters and 128 bytes"))
        // A bad requestId is refused and not echoed back.
        let badID = try #require(decodingError(frame(26, #"{"requestId":"\#(String(repeating: "r", count: 65))"}"#)))
        #expect(badID.kind == .invalidField("requestId", reason: "must have 1 to 64 visible ASCII characters"))
        #expect(badID.requestId == nil)
        // Server → client bodies are not held to the client's rules.
        #expect(kind(34, #"{"conversationId":1,"seq":1,"fromUserId":1,"text":"","sentAt":0}"#) == nil)
    }
}
