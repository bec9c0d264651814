import Foundation
import NIOCore
import ParleyBalancer
import ParleyChat
import ParleyCore
import ParleyTestSupport
import Testing

/// The chat system live: backend (JSON-RPC, SQLite), balancer (gRPC), chat servers; clients over
/// TCP frames and WebSocket.
@Suite("Chat system", .serialized)
struct ChatSystemTests {
    static let server = ChatServerConfiguration(name: "chat-1")

    /// Makes `first` and `second` friends through the protocol; returns the conversation id.
    static func befriend(_ first: ChatTestClient, _ second: ChatTestClient, secondID: Int64) async throws -> Int64 {
        try await first.send(.sendFriendRequest(ChatSendFriendRequest(requestId: "r", toUserId: secondID, message: "hi")))
        guard case .friendRequestSent(let sent) = try await first.next() else { throw ChatTestError("no friend_request_sent") }
        _ = try await second.first { if case .friendRequestReceived = $0 { true } else { false } }
        try await second.send(.acceptFriendRequest(ChatAcceptFriendRequest(friendRequestId: sent.request.friendRequestId)))
        guard case .friendRequestResolved(let resolved) = try await second.next(), let friend = resolved.friend else {
            throw ChatTestError("no friend_request_resolved")
        }
        _ = try await first.first { if case .friendRequestResolved = $0 { true } else { false } }
        return friend.conversationId
    }

    @Test("search, request, accept and chat both ways over TCP and WebSocket; duplicates and non-friends")
    func friendsAndTexts() async throws {
        try await ChatSystem.with { system in
            try await system.startChatServer(Self.server)
            let aliceID = try await system.register("alice")
            let bobID = try await system.register("bob")
            let carolID = try await system.register("carol")
            let alice = try await system.login(aliceID, "alice")
            let bob = try await system.login(bobID, "bob")
            let carol = try await system.loginWebSocket(carolID, "carol")

            // Search: prefix, no case, never oneself.
            try await alice.send(.searchUsers(ChatSearchUsers(requestId: "s1", query: "BO")))
            guard case .searchResults(let results) = try await alice.next() else { throw ChatTestError("no search_results") }
            #expect(results.requestId == "s1")
            #expect(results.users.map(\.username) == ["bob"])
            #expect(results.users.first?.relation == ChatRelation.none)

            // Request, pushed to Bob at once.
            try await alice.send(.sendFriendRequest(ChatSendFriendRequest(requestId: "f1", toUserId: bobID, message: "It's Alice", alias: "Bobby")))
            guard case .friendRequestSent(let sent) = try await alice.next() else { throw ChatTestError("no friend_request_sent") }
            #expect(sent.requestId == "f1")
            #expect(sent.request.alias == "Bobby")
            guard case .friendRequestReceived(let received) = try await bob.next() else { throw ChatTestError("no push") }
            #expect(received.request.from.username == "alice")
            #expect(received.request.message == "It's Alice")
            #expect(received.request.alias == nil)

            // The same request again, and the reverse one, are refused.
            try await alice.send(.sendFriendRequest(ChatSendFriendRequest(requestId: "f2", toUserId: bobID, message: "again")))
            #expect(try await alice.next().errorBody?.code == .alreadyRequested)
            try await bob.send(.sendFriendRequest(ChatSendFriendRequest(requestId: "f3", toUserId: aliceID, message: "me too")))
            #expect(try await bob.next().errorBody?.code == .alreadyRequested)
            try await alice.send(.sendFriendRequest(ChatSendFriendRequest(requestId: "f4", toUserId: aliceID, message: "me")))
            #expect(try await alice.next().errorBody?.code == .selfRequest)

            // Only the target answers.
            try await alice.send(.acceptFriendRequest(ChatAcceptFriendRequest(requestId: "a0", friendRequestId: sent.request.friendRequestId)))
            #expect(try await alice.next().errorBody?.code == .forbidden)
            try await bob.send(.listFriendRequests(ChatListFriendRequests(requestId: "l1")))
            guard case .friendRequests(let pending) = try await bob.next() else { throw ChatTestError("no friend_requests") }
            #expect(pending.incoming.map(\.friendRequestId) == [sent.request.friendRequestId])
            try await bob.send(.acceptFriendRequest(ChatAcceptFriendRequest(requestId: "a1", friendRequestId: sent.request.friendRequestId, alias: "Ally")))
            guard case .friendRequestResolved(let accepted) = try await bob.next(), let aliceAsFriend = accepted.friend else {
                throw ChatTestError("no friend_request_resolved")
            }
            #expect(accepted.requestId == "a1")
            #expect(aliceAsFriend.alias == "Ally")
            #expect(aliceAsFriend.online)
            guard case .friendRequestResolved(let told) = try await alice.next(), let bobAsFriend = told.friend else {
                throw ChatTestError("alice not told")
            }
            #expect(told.requestId == nil)
            #expect(bobAsFriend.alias == "Bobby")
            #expect(bobAsFriend.conversationId == aliceAsFriend.conversationId)
            let conversation = bobAsFriend.conversationId
            // Accepting again (a retry whose answer was lost) answers the same, and tells Alice again.
            try await bob.send(.acceptFriendRequest(ChatAcceptFriendRequest(requestId: "a2", friendRequestId: sent.request.friendRequestId)))
            guard case .friendRequestResolved(let again) = try await bob.next() else { throw ChatTestError("no second answer") }
            #expect(again.requestId == "a2" && again.outcome == .accepted && again.friend == aliceAsFriend)
            guard case .friendRequestResolved(let toldAgain) = try await alice.next() else { throw ChatTestError("alice not told again") }
            #expect(toldAgain.friend == bobAsFriend)

            // Texts both ways: stored, acknowledged, pushed, numbered 1, 2.
            try await alice.send(.sendText(ChatSendText(clientMessageId: "m1", toUserId: bobID, text: "Hello Bob")))
            guard case .textAck(let ack) = try await alice.next() else { throw ChatTestError("no text_ack") }
            #expect(ack.clientMessageId == "m1" && ack.conversationId == conversation && ack.seq == 1 && !ack.duplicate)
            guard case .message(let pushed) = try await bob.next() else { throw ChatTestError("no message") }
            #expect(pushed.text == "Hello Bob" && pushed.seq == 1 && pushed.fromUserId == aliceID && pushed.clientMessageId == nil)
            try await bob.send(.sendText(ChatSendText(clientMessageId: "b1", toUserId: aliceID, text: "Hi Alice")))
            guard case .textAck(let back) = try await bob.next() else { throw ChatTestError("no text_ack") }
            #expect(back.seq == 2)
            guard case .message(let reply) = try await alice.next() else { throw ChatTestError("no reply") }
            #expect(reply.text == "Hi Alice" && reply.seq == 2)

            // A resend is acknowledged again and never stored twice (even with other text); the stored
            // text is pushed again (its first push may be what was lost), with the same seq.
            try await alice.send(.sendText(ChatSendText(clientMessageId: "m1", toUserId: bobID, text: "Hello again?")))
            guard case .textAck(let again) = try await alice.next() else { throw ChatTestError("no second ack") }
            #expect(again.duplicate && again.seq == 1 && again.sentAt == ack.sentAt)
            guard case .message(let repeated) = try await bob.next() else { throw ChatTestError("no repeated push") }
            #expect(repeated.seq == 1 && repeated.text == "Hello Bob")

            // Carol, over WebSocket, is nobody's friend: her text is refused; her request is declined.
            try await carol.send(.sendText(ChatSendText(clientMessageId: "c1", toUserId: aliceID, text: "psst")))
            let refused = try #require(try await carol.next().errorBody)
            #expect(refused.code == .notFriends && refused.clientMessageId == "c1" && !refused.closing)
            try await carol.send(.sendFriendRequest(ChatSendFriendRequest(requestId: "cf", toUserId: aliceID, message: "<b>hi</b>")))
            guard case .friendRequestSent(let carolRequest) = try await carol.next() else { throw ChatTestError("no sent over WebSocket") }
            guard case .friendRequestReceived(let incoming) = try await alice.next() else { throw ChatTestError("no push to alice") }
            #expect(incoming.request.message == "<b>hi</b>")
            try await alice.send(.declineFriendRequest(ChatDeclineFriendRequest(requestId: "d1", friendRequestId: carolRequest.request.friendRequestId)))
            guard case .friendRequestResolved(let declined) = try await alice.next() else { throw ChatTestError("no declined") }
            #expect(declined.outcome == .declined && declined.friend == nil)
            guard case .friendRequestResolved(let carolTold) = try await carol.next() else { throw ChatTestError("carol not told") }
            #expect(carolTold.outcome == .declined)

            // Identity only from the ticket: the text Bob got names Alice because her ticket did.
            try await bob.send(.sync(ChatSync(requestId: "y", conversationId: conversation, afterSeq: 0)))
            guard case .syncResult(let history) = try await bob.next() else { throw ChatTestError("no sync_result") }
            #expect(history.messages.map(\.fromUserId) == [aliceID, bobID])
            #expect(history.messages.map(\.clientMessageId) == [nil, "b1"])
            // Carol cannot read a conversation that is not hers.
            try await carol.send(.sync(ChatSync(requestId: "z", conversationId: conversation, afterSeq: 0)))
            #expect(try await carol.next().errorBody?.code == .notFound)
        }
    }

    @Test("offline delivery, presence, reconnect and sync with no gap and no duplicate, read marks")
    func offlineAndSync() async throws {
        try await ChatSystem.with { system in
            try await system.startChatServer(Self.server)
            let aliceID = try await system.register("alice")
            let bobID = try await system.register("bob")
            let alice = try await system.login(aliceID, "alice")
            var bob = try await system.login(bobID, "bob")
            let conversation = try await Self.befriend(alice, bob, secondID: bobID)
            try await alice.send(.sendText(ChatSendText(clientMessageId: "m1", toUserId: bobID, text: "one")))
            _ = try await alice.next()
            _ = try await bob.next()
            try await bob.send(.markRead(ChatMarkRead(requestId: "r1", conversationId: conversation, seq: 1)))
            guard case .ok(let ok) = try await bob.next() else { throw ChatTestError("no ok") }
            #expect(ok.requestId == "r1")

            // Bob goes away: Alice sees him offline; her texts are stored for him.
            await bob.close()
            guard case .presence(let offline) = try await alice.next() else { throw ChatTestError("no presence") }
            #expect(offline.userId == bobID && !offline.online)
            for (index, text) in ["two", "three", "four"].enumerated() {
                try await alice.send(.sendText(ChatSendText(clientMessageId: "m\(index + 2)", toUserId: bobID, text: text)))
                guard case .textAck(let ack) = try await alice.next() else { throw ChatTestError("no ack") }
                #expect(ack.seq == Int64(index + 2))
            }

            // Bob is back: Alice sees him online; his friends list says what he missed; sync fills the gap.
            bob = try await system.login(bobID, "bob")
            guard case .presence(let online) = try await alice.next() else { throw ChatTestError("no presence") }
            #expect(online.userId == bobID && online.online)
            try await bob.send(.listFriends(ChatListFriends(requestId: "lf")))
            guard case .friends(let friends) = try await bob.next() else { throw ChatTestError("no friends") }
            #expect(friends.friends.count == 1)
            #expect(friends.friends.first?.online == true)
            #expect(friends.friends.first?.lastSeq == 4)
            #expect(friends.friends.first?.readSeq == 1)
            #expect(friends.friends.first?.unread == 3)
            var held: [Int64] = [1]
            var hasMore = true
            while hasMore {
                try await bob.send(.sync(ChatSync(conversationId: conversation, afterSeq: held.last!, limit: 2)))
                guard case .syncResult(let page) = try await bob.next() else { throw ChatTestError("no sync_result") }
                #expect(page.lastSeq == 4)
                held += page.messages.map(\.seq)
                hasMore = page.hasMore
            }
            #expect(held == [1, 2, 3, 4])
            // A read mark never moves back, and stops at the last text.
            try await bob.send(.markRead(ChatMarkRead(conversationId: conversation, seq: 99)))
            _ = try await bob.next()
            try await bob.send(.markRead(ChatMarkRead(conversationId: conversation, seq: 2)))
            _ = try await bob.next()
            try await bob.send(.listFriends(ChatListFriends()))
            guard case .friends(let after) = try await bob.next() else { throw ChatTestError("no friends") }
            #expect(after.friends.first?.readSeq == 4)
            #expect(after.friends.first?.unread == 0)

            // Bob replies: his own text is not unread for him; for Alice only his is, not her four.
            try await bob.send(.sendText(ChatSendText(clientMessageId: "b5", toUserId: aliceID, text: "five")))
            guard case .textAck = try await bob.next() else { throw ChatTestError("no ack") }
            guard case .message = try await alice.next() else { throw ChatTestError("no push") }
            for (client, unread) in [(bob, Int64(0)), (alice, 1)] {
                try await client.send(.listFriends(ChatListFriends()))
                guard case .friends(let list) = try await client.next() else { throw ChatTestError("no friends") }
                #expect(list.friends.first?.lastSeq == 5)
                #expect(list.friends.first?.unread == unread)
            }
        }
    }

    @Test("a second login of the same user kicks the first; friends see no presence change")
    func takeover() async throws {
        try await ChatSystem.with { system in
            try await system.startChatServer(Self.server)
            let aliceID = try await system.register("alice")
            let bobID = try await system.register("bob")
            let alice = try await system.login(aliceID, "alice")
            let bob = try await system.login(bobID, "bob")
            _ = try await Self.befriend(alice, bob, secondID: bobID)
            let first = try await system.loginWebSocket(aliceID, "alice")
            let second = try await system.login(aliceID, "alice")
            guard case .kicked(let kicked) = try await first.next() else { throw ChatTestError("no kicked") }
            #expect(kicked.reason == .loggedInElsewhere)
            #expect(try await first.waitUntilClosed() == 1000)
            // The newest session gets Bob's texts; Bob saw no presence change.
            try await bob.send(.sendText(ChatSendText(clientMessageId: "x", toUserId: aliceID, text: "which one?")))
            _ = try await bob.next()
            guard case .message(let message) = try await second.next() else { throw ChatTestError("no message") }
            #expect(message.text == "which one?")
            #expect(!bob.pending.contains { if case .presence = $0 { true } else { false } })
        }
    }

    @Test(
        "a connection to the WebSocket port that never upgrades is closed after the authentication deadline; an upgraded one stays",
        .timeLimit(.minutes(1))
    )
    func webSocketPortClosesWhatNeverUpgrades() async throws {
        try await ChatSystem.with { system in
            var configuration = Self.server
            configuration.authenticationDeadline = .seconds(1)
            try await system.startChatServer(configuration)
            let aliceID = try await system.register("alice")
            let port = try #require(URL(string: try await system.ticket(aliceID, "alice").websocketURL)?.port)
            // Nothing sent: no request head, so no HTTP idle timeout would ever run.
            let silent = try await ChatClientConnection.connect(host: "127.0.0.1", port: port)
            let alice = try await system.loginWebSocket(aliceID, "alice")
            // Its messages end when the server closes it; left open, it would hold the server's shutdown.
            let closed = Task { () async throws in for await _ in silent.messages {} }
            do {
                try await closed.value(within: .seconds(10))
            } catch {
                await silent.close()
                throw ChatTestError("the server left a connection that never upgraded open")
            }
            try await Task.sleep(for: .milliseconds(500))  // the upgraded one is past the deadline too
            try await alice.send(.heartbeat(ChatHeartbeat()))
            guard case .heartbeatAck = try await alice.next() else { throw ChatTestError("no heartbeat_ack") }
        }
    }

    @Test("a silent connection is kicked after the idle timeout; heartbeats keep it")
    func heartbeatTimeout() async throws {
        try await ChatSystem.with { system in
            var configuration = Self.server
            // 2 s: heartbeats every 250 ms keep a connection with room to spare on a busy machine.
            configuration.idleTimeoutSeconds = 2
            configuration.sweepInterval = .milliseconds(50)
            try await system.startChatServer(configuration)
            let aliceID = try await system.register("alice")
            let bobID = try await system.register("bob")
            let alice = try await system.login(aliceID, "alice")
            let bob = try await system.login(bobID, "bob")
            // Alice sends heartbeats for 3 s; Bob stays silent.
            for _ in 0..<12 {
                try await alice.send(.heartbeat(ChatHeartbeat()))
                guard case .heartbeatAck(let ack) = try await alice.next() else { throw ChatTestError("no heartbeat_ack") }
                #expect(ack.serverTime > 0)
                try await Task.sleep(for: .milliseconds(250))
            }
            #expect(!alice.isClosed)
            guard case .kicked(let kicked) = try await bob.first(where: { if case .kicked = $0 { true } else { false } }) else {
                throw ChatTestError("no kicked")
            }
            #expect(kicked.reason == .idleTimeout)
            try await bob.waitUntilClosed()
        }
    }

    @Test("forged, expired and other servers' tickets, and frames before authenticate, are refused and closed")
    func ticketsRefused() async throws {
        try await ChatSystem.with { system in
            let server = try await system.startChatServer(Self.server)
            let aliceID = try await system.register("alice")
            func refused(_ token: String?, _ first: ChatMessage? = nil) async throws {
                let client = try await ChatTestClient.tcp(host: "127.0.0.1", port: server.tcpPort)
                if let token {
                    try await client.send(.authenticate(ChatAuthenticate(requestId: "t", token: token)))
                } else if let first {
                    try await client.send(first)
                }
                let error = try #require(try await client.next().errorBody)
                #expect(error.code == .unauthenticated)
                #expect(error.closing)
                try await client.waitUntilClosed()
            }
            let valid = try await system.ticket(aliceID, "alice").token
            // A forged signature: the last character changed.
            var forged = valid
            let last = forged.removeLast()
            forged.append(last == "A" ? "B" : "A")
            try await refused(forged)
            try await refused("not-a-ticket")
            // Signed with another secret; bound to another server; expired.
            let otherSecret = try ChatSecret("another-secret-another-secret-another-secret")
            try await refused(try ChatTicketSigner(secret: otherSecret).sign(userID: aliceID, username: "alice", serverName: "chat-1").token)
            try await refused(try ChatTicketSigner(secret: ChatSystem.secret).sign(userID: aliceID, username: "alice", serverName: "chat-2").token)
            let past = BalancerClock(monotonic: { .now }, wallClock: { Date().addingTimeInterval(-3600) })
            try await refused(
                try ChatTicketSigner(secret: ChatSystem.secret, clock: past).sign(userID: aliceID, username: "alice", serverName: "chat-1").token
            )
            // A ticket for an account that does not exist.
            try await refused(try ChatTicketSigner(secret: ChatSystem.secret).sign(userID: 999, username: "ghost", serverName: "chat-1").token)
            // Anything before authenticate.
            try await refused(nil, .heartbeat(ChatHeartbeat()))
            // The valid one still works.
            _ = try await system.login(aliceID, "alice")
        }
    }

    @Test("malformed frames get error frames and the connection stays; an oversized header closes it")
    func malformedFrames() async throws {
        try await ChatSystem.with { system in
            let server = try await system.startChatServer(Self.server)
            let aliceID = try await system.register("alice")
            let alice = try await system.login(aliceID, "alice")
            let raw = try #require(alice.tcp)
            func frame(type: UInt16, body: [UInt8]) -> ByteBuffer {
                var buffer = ByteBuffer()
                buffer.writeInteger(type)
                buffer.writeInteger(UInt32(body.count))
                buffer.writeBytes(body)
                return buffer
            }
            try await raw.sendRaw(frame(type: 999, body: Array(#"{"requestId":"u1"}"#.utf8)))
            let unknown = try #require(try await alice.next().errorBody)
            #expect(unknown.code == .unknownType && unknown.requestId == "u1" && !unknown.closing)
            try await raw.sendRaw(frame(type: 16, body: Array("{not json".utf8)))
            #expect(try await alice.next().errorBody?.code == .invalidInput)
            try await raw.sendRaw(frame(type: 16, body: [0x7B, 0x22, 0xFF, 0xFE, 0x22, 0x7D]))
            #expect(try await alice.next().errorBody?.code == .invalidInput)
            try await raw.sendRaw(frame(type: 4, body: Array(#"{"serverTime":1}"#.utf8)))
            #expect(try await alice.next().errorBody?.code == .invalidInput)
            // A frame split in two writes is one frame.
            var split = frame(type: 3, body: Array("{}".utf8))
            let head = split.readSlice(length: 3)!
            try await raw.sendRaw(head)
            try await Task.sleep(for: .milliseconds(50))
            try await raw.sendRaw(split)
            guard case .heartbeatAck = try await alice.next() else { throw ChatTestError("the split heartbeat was not answered") }
            // A header declaring more than 64 KiB: too_large, closing, closed.
            var huge = ByteBuffer()
            huge.writeInteger(UInt16(32))
            huge.writeInteger(UInt32(65_537))
            try await raw.sendRaw(huge)
            let tooLarge = try #require(try await alice.next().errorBody)
            #expect(tooLarge.code == .tooLarge && tooLarge.closing)
            try await alice.waitUntilClosed()
            // The server is fine.
            _ = try await system.login(aliceID, "alice")
            _ = server
        }
    }

    @Test("frames over the rate limit are answered rate_limited, not carried out; the connection stays")
    func rateLimit() async throws {
        try await ChatSystem.with { system in
            var configuration = Self.server
            configuration.rateBurst = 5
            configuration.ratePerSecond = 1
            try await system.startChatServer(configuration)
            let aliceID = try await system.register("alice")
            let alice = try await system.login(aliceID, "alice")
            for index in 0..<10 {
                try await alice.send(.listFriends(ChatListFriends(requestId: "l\(index)")))
            }
            var answered: [String] = []
            var limited: [String] = []
            for _ in 0..<10 {
                switch try await alice.next() {
                case .friends(let body): answered.append(body.requestId ?? "")
                case .error(let error) where error.code == .rateLimited: limited.append(error.requestId ?? "")
                case let other: throw ChatTestError("unexpected \(other)")
                }
            }
            // The authenticate frame took one token of five.
            #expect(answered == ["l0", "l1", "l2", "l3"])
            #expect(limited == ["l4", "l5", "l6", "l7", "l8", "l9"])
            try await Task.sleep(for: .milliseconds(1100))
            try await alice.send(.heartbeat(ChatHeartbeat()))
            guard case .heartbeatAck = try await alice.next() else { throw ChatTestError("the connection did not recover") }
        }
    }

    @Test("a client sending faster than its session works is slowed by TCP, and every frame is carried out in order")
    func inboundBackpressure() async throws {
        try await ChatSystem.with { system in
            var configuration = Self.server
            configuration.inboundQueueFrames = 4
            configuration.rateBurst = 10_000
            configuration.ratePerSecond = 10_000
            try await system.startChatServer(configuration)
            let aliceID = try await system.register("alice")
            let alice = try await system.login(aliceID, "alice")
            for index in 0..<200 {
                try await alice.send(.listFriendRequests(ChatListFriendRequests(requestId: "q\(index)")))
            }
            for index in 0..<200 {
                guard case .friendRequests(let answer) = try await alice.next() else { throw ChatTestError("frame \(index) refused") }
                #expect(answer.requestId == "q\(index)")
            }
        }
    }

    @Test(
        "a client whose frames wait unread behind a stalled backend is not idle; once read again, silence counts",
        arguments: ["TCP", "WebSocket"]
    )
    func pausedReadingIsNotIdleness(transport: String) async throws {
        try await ChatSystem.with { system in
            var configuration = Self.server
            configuration.idleTimeoutSeconds = 1
            configuration.sweepInterval = .milliseconds(50)
            configuration.inboundQueueFrames = 4
            configuration.rateBurst = 10_000
            configuration.ratePerSecond = 10_000
            let store = StallingChatStore(system.store)
            try await system.startChatServer(configuration, store: store)
            let aliceID = try await system.register("alice")
            let alice = transport == "TCP" ? try await system.login(aliceID, "alice") : try await system.loginWebSocket(aliceID, "alice")
            // The backend hangs on the first request: the rest wait, and the server stops reading.
            store.stall()
            for index in 0..<20 {
                try await alice.send(.listFriendRequests(ChatListFriendRequests(requestId: "q\(index)")))
            }
            try await Task.sleep(for: .milliseconds(2500))  // over twice the idle timeout
            store.release()
            for index in 0..<20 {
                guard case .friendRequests(let answer) = try await alice.next() else { throw ChatTestError("frame \(index) not answered") }
                #expect(answer.requestId == "q\(index)")
            }
            // Listening again, and silent: kicked after the idle timeout.
            guard case .kicked(let kicked) = try await alice.next() else { throw ChatTestError("no kicked") }
            #expect(kicked.reason == .idleTimeout)
        }
    }

    @Test("when a chat server stops, its clients get a new ticket, reconnect to another and sync what they missed")
    func serverLoss() async throws {
        try await ChatSystem.with { system in
            try await system.startChatServer(ChatServerConfiguration(name: "chat-1"))
            try await system.startChatServer(ChatServerConfiguration(name: "chat-2"))
            let aliceID = try await system.register("alice")
            let bobID = try await system.register("bob")
            let alice = try await system.login(aliceID, "alice")
            let bob = try await system.login(bobID, "bob")
            // Least-loaded: the second user goes to the other server.
            #expect(alice.serverName != bob.serverName)
            try await bob.send(.sendFriendRequest(ChatSendFriendRequest(toUserId: aliceID, message: "hi")))
            guard case .friendRequestSent(let sent) = try await bob.next() else { throw ChatTestError("no sent") }
            try await alice.send(.acceptFriendRequest(ChatAcceptFriendRequest(friendRequestId: sent.request.friendRequestId)))
            guard case .friendRequestResolved(let resolved) = try await alice.next(), let friend = resolved.friend else {
                throw ChatTestError("no resolved")
            }

            let lost = try #require(alice.serverName)
            await system.stopChatServer(lost)
            guard case .kicked(let kicked) = try await alice.next() else { throw ChatTestError("no kicked") }
            #expect(kicked.reason == .shuttingDown)
            try await alice.waitUntilClosed()
            try await bob.send(.sendText(ChatSendText(clientMessageId: "while-away", toUserId: aliceID, text: "are you there?")))
            guard case .textAck = try await bob.next() else { throw ChatTestError("no ack") }

            // A new ticket until the balancer has dropped the lost server; then sync.
            let deadline = ContinuousClock.now + .seconds(10)
            var again: ChatTestClient?
            while again == nil {
                again = try? await system.login(aliceID, "alice")
                if again == nil {
                    guard ContinuousClock.now < deadline else { throw ChatTestError("no server took alice back") }
                    try await Task.sleep(for: .milliseconds(100))
                }
            }
            let back = try #require(again)
            #expect(back.serverName != lost)
            try await back.send(.sync(ChatSync(conversationId: friend.conversationId, afterSeq: 0)))
            guard case .syncResult(let page) = try await back.next() else { throw ChatTestError("no sync_result") }
            #expect(page.messages.map(\.text) == ["are you there?"])
            // On the same server now, texts are pushed live again.
            try await bob.send(.sendText(ChatSendText(clientMessageId: "live", toUserId: aliceID, text: "welcome back")))
            _ = try await bob.next()
            let live = try await back.first { if case .message = $0 { true } else { false } }
            guard case .message(let message) = live else { throw ChatTestError("no message") }
            #expect(message.text == "welcome back" && message.seq == 2)
        }
    }

    @Test("friends past one frame come in pages: every friend once, in order, each page told whether more follow")
    func friendsInPages() async throws {
        try await ChatSystem.with { system in
            try await system.startChatServer(Self.server)
            let aliceID = try await system.register("alice")
            // Long aliases: about 180 friends fill a frame. Names mix scripts and case, so the
            // order is the bytes of the lowercased names.
            let alias = String(repeating: "\u{1F600}", count: 50)
            var names: [String] = []
            for index in 0..<400 {
                let name = ["Fan", "fän", "ФАН", "fan_"][index % 4] + "\(index)"
                try await system.storage.chat.befriend(aliceID, try await system.register(name), alias: alias)
                names.append(name)
            }
            let alice = try await system.login(aliceID, "alice")
            var listed: [String] = []
            var after: String? = nil
            var pages = 0
            while true {
                try await alice.send(.listFriends(ChatListFriends(requestId: "page", after: after)))
                guard case .friends(let page) = try await alice.next() else { throw ChatTestError("no friends") }
                pages += 1
                #expect(page.requestId == "page" && !page.friends.isEmpty)
                listed += page.friends.map(\.username)
                guard page.hasMore else { break }
                after = page.friends.last?.username
                #expect(pages < 10)
            }
            #expect(pages >= 3)
            let keys = names.map(Username.key)
            #expect(listed.map(Username.key) == keys.sorted { $0.utf8.lexicographicallyPrecedes($1.utf8) })
            // A cursor written in another case, or past the end, works as well.
            try await alice.send(.listFriends(ChatListFriends(after: listed[10].uppercased())))
            guard case .friends(let rest) = try await alice.next() else { throw ChatTestError("no friends") }
            #expect(rest.friends.first?.username == listed[11])
            try await alice.send(.listFriends(ChatListFriends(after: "\u{10FFFF}")))
            guard case .friends(let none) = try await alice.next() else { throw ChatTestError("no friends") }
            #expect(none.friends.isEmpty && !none.hasMore)
        }
    }

    @Test("a list longer than one frame is cut to fit, oldest requests first, never left unanswered")
    func longListsFit() async throws {
        try await ChatSystem.with { system in
            try await system.startChatServer(Self.server)
            let aliceID = try await system.register("alice")
            let words = String(repeating: "é", count: 255)
            for index in 0..<150 {
                let sender = try await system.register("fan\(index)")
                _ = try await system.storage.chat.createFriendRequest(
                    fromUserID: sender, toUserID: aliceID, message: words, alias: nil, now: Date()
                )
            }
            let alice = try await system.login(aliceID, "alice")
            try await alice.send(.listFriendRequests(ChatListFriendRequests(requestId: "all")))
            guard case .friendRequests(let lists) = try await alice.next() else { throw ChatTestError("no friend_requests") }
            #expect(lists.requestId == "all")
            #expect(lists.incoming.count > 50 && lists.incoming.count < 150)
            #expect(lists.incoming.first?.from.username == "fan0")
            #expect(lists.hasMore)
        }
    }

    @Test("a client that does not read is dropped without slowing its friend")
    func slowReader() async throws {
        try await ChatSystem.with { system in
            var configuration = Self.server
            configuration.outgoingQueueBytes = 64 * 1024
            configuration.rateBurst = 100_000
            configuration.ratePerSecond = 100_000
            configuration.inboundQueueFrames = 100_000
            try await system.startChatServer(configuration)
            let aliceID = try await system.register("alice")
            let bobID = try await system.register("bob")
            let alice = try await system.login(aliceID, "alice")
            let bob = try await system.login(bobID, "bob")
            _ = try await Self.befriend(alice, bob, secondID: bobID)
            let bobConnection = try #require(bob.tcp)
            try await bobConnection.stopReading()
            // Up to 16 MB of texts for Bob, who reads nothing: more than the socket buffers and his queue.
            let text = String(repeating: "x", count: 4000)
            for index in 0..<4000 {
                try await alice.send(.sendText(ChatSendText(clientMessageId: "m\(index)", toUserId: bobID, text: text)))
                if index % 100 == 99, alice.pending.contains(where: { if case .presence = $0 { true } else { false } }) { break }
            }
            let offline = try await alice.first(timeout: .seconds(10)) { if case .presence = $0 { true } else { false } }
            guard case .presence(let presence) = offline else { throw ChatTestError("no presence") }
            #expect(presence.userId == bobID && !presence.online)
        }
    }
}
