import Foundation
import ParleyCore
import PostgresNIO
import Testing

@testable import ParleyStorage

extension StorageConformance {
    /// Issue 6: the `ChatRepository` contract.
    static let chat: [ConformanceCheck] = [
        ConformanceCheck(name: "chat: a user by id", run: Self.chatUserByID),
        ConformanceCheck(name: "chat: search by key prefix, exact first, never the caller", run: Self.searchByPrefix),
        ConformanceCheck(name: "chat: search takes '_' and '%' literally", run: Self.searchEscapes),
        ConformanceCheck(name: "chat: search tells how each user stands to the caller", run: Self.searchRelations),
        ConformanceCheck(name: "chat: requests to oneself, to nobody, to a friend are refused", run: Self.requestRefusals),
        ConformanceCheck(name: "chat: one pending request per pair, either way", run: Self.onePendingPerPair),
        ConformanceCheck(name: "chat: a declined request allows a new one", run: Self.declineThenAskAgain),
        ConformanceCheck(name: "chat: only the target answers a pending request", run: Self.onlyTargetAnswers),
        ConformanceCheck(name: "chat: accepting makes friends with each side's alias", run: Self.acceptMakesFriends),
        ConformanceCheck(name: "chat: pending lists, both ways, oldest first", run: Self.pendingLists),
        ConformanceCheck(name: "chat: an accept stopped half-way heals", run: Self.halfwayAcceptHeals),
        ConformanceCheck(name: "chat: texts are numbered 1, 2, 3 per conversation", run: Self.textsNumbered),
        ConformanceCheck(name: "chat: a client message id stores once", run: Self.clientMessageIDOnce),
        ConformanceCheck(name: "chat: texts only between friends", run: Self.textsOnlyBetweenFriends),
        ConformanceCheck(name: "chat: texts page with hasMore and lastSeq", run: Self.textsPaging),
        ConformanceCheck(name: "chat: the read mark is capped and never goes back", run: Self.readMark),
        ConformanceCheck(name: "chat: 20 concurrent texts in one conversation get 1…20", run: Self.concurrentTexts),
        ConformanceCheck(name: "chat: an accept and a decline at once: one wins, and friends only if it is the accept", run: Self.acceptRacesDecline),
        ConformanceCheck(name: "chat: a stale leader or a follower writes no chat rows", run: Self.chatFencing),
    ]

    /// Makes `a` and `b` friends (`a` asks, `b` accepts) and returns the accepted request.
    @discardableResult
    static func befriend(_ a: User, _ b: User, in storage: any Storage) async throws -> AcceptedFriendRequest {
        let request = try await Self.ask(a, b, in: storage)
        return try await storage.chat.acceptFriendRequest(id: request.id, userID: b.id, alias: nil, now: Self.now)
    }

    /// `from` asks `to` to be friends.
    @discardableResult
    static func ask(
        _ from: User, _ to: User, message: String = "", alias: String? = nil, in storage: any Storage
    ) async throws -> FriendRequest {
        try await storage.chat.createFriendRequest(fromUserID: from.id, toUserID: to.id, message: message, alias: alias, now: Self.now)
    }

    /// `from` sends `text` to `to`.
    @discardableResult
    static func send(_ from: User, _ to: User, _ clientMessageID: String, _ text: String = "t", in storage: any Storage) async throws
        -> TextReceipt
    {
        try await storage.chat.sendText(fromUserID: from.id, toUserID: to.id, clientMessageID: clientMessageID, text: text, now: Self.now)
    }

    /// The user as chat shows them, with the nickname registration gives (the username).
    static func chatUser(_ user: User) -> ChatUser {
        ChatUser(id: user.id, username: user.username, nickname: user.username)
    }

    /// Runs `sql` on the storage's database directly, for states the public API cannot make.
    static func execute(_ sql: String, in storage: any Storage) async throws {
        switch storage {
        case let sqlite as SQLiteStorage: _ = try await sqlite.connection.query(sql)
        case let postgres as PostgresStorage: _ = try await postgres.database.query(PostgresQuery(unsafeSQL: sql))
        default: Issue.record("no raw SQL for \(type(of: storage))")
        }
    }

    static func chatUserByID(_ storage: any Storage) async throws {
        let alice = try await Self.register("Alice", in: storage)
        #expect(try await storage.chat.user(id: alice.id) == Self.chatUser(alice))
        _ = try await storage.users.updateProfile(userID: alice.id, draft: try ProfileDraft(nickname: "Ali", description: ""))
        #expect(try await storage.chat.user(id: alice.id) == ChatUser(id: alice.id, username: "Alice", nickname: "Ali"))
        #expect(try await storage.chat.user(id: alice.id + 1000) == nil)
    }

    static func searchByPrefix(_ storage: any Storage) async throws {
        let caller = try await Self.register("Alfred", in: storage)
        let al = try await Self.register("Al", in: storage)
        let alba = try await Self.register("alba", in: storage)
        try await Self.register("ALICE", in: storage)
        let zoe = try await Self.register("Zoe", in: storage)
        try await Self.register("Jos\u{E9}", in: storage)

        func names(_ prefix: String, limit: Int = 10, caller: User = caller) async throws -> [String] {
            try await storage.chat.searchUsers(prefix: Username.key(prefix), callerID: caller.id, limit: limit).map(\.user.username)
        }
        // By key, whatever the case; never the caller (Alfred); the exact match first.
        #expect(try await names("AL") == ["Al", "alba", "ALICE"])
        #expect(try await names("ali") == ["ALICE"])
        #expect(try await names("al", limit: 2) == ["Al", "alba"])
        #expect(try await names("al", limit: 0) == [])
        #expect(try await names("alfred") == [])
        #expect(try await names("alfred", caller: zoe) == ["Alfred"])
        #expect(try await names("z") == ["Zoe"])
        #expect(try await names("JOSE\u{301}") == ["Jos\u{E9}"])
        #expect(try await names("x") == [])
        // Every user starts with the empty prefix.
        #expect(try await names("") == ["Al", "alba", "ALICE", "Jos\u{E9}", "Zoe"])
        // An exact match comes before longer keys. (In code point order, which both engines use
        // here, it would anyway: this cannot tell the exact-first term of the ORDER BY missing.)
        let exact = try await storage.chat.searchUsers(prefix: "alba", callerID: caller.id, limit: 10)
        #expect(exact.map(\.user) == [Self.chatUser(alba)])
        #expect(exact.first?.relation == ChatRelation.none)

        // The nickname as the profile says.
        _ = try await storage.users.updateProfile(userID: al.id, draft: try ProfileDraft(nickname: "Big Al", description: ""))
        let found = try await storage.chat.searchUsers(prefix: "al", callerID: caller.id, limit: 1)
        #expect(found == [ChatUserMatch(user: ChatUser(id: al.id, username: "Al", nickname: "Big Al"), relation: .none)])
    }

    static func searchEscapes(_ storage: any Storage) async throws {
        let caller = try await Self.register("caller", in: storage)
        try await Self.register("a_b", in: storage)
        try await Self.register("axb", in: storage)
        try await Self.register("a.b", in: storage)
        try await Self.register("a-b", in: storage)
        func names(_ prefix: String) async throws -> [String] {
            try await storage.chat.searchUsers(prefix: prefix, callerID: caller.id, limit: 10).map(\.user.username)
        }
        #expect(try await names("a_") == ["a_b"])
        #expect(try await names("a_b") == ["a_b"])
        #expect(try await names("a%") == [])
        #expect(try await names("%") == [])
        #expect(try await names("_") == [])
        #expect(try await names("a.") == ["a.b"])
        #expect(try await names("a-") == ["a-b"])
        #expect(try await names("a") == ["a-b", "a.b", "a_b", "axb"])
    }

    static func searchRelations(_ storage: any Storage) async throws {
        let me = try await Self.register("me", in: storage)
        let friend = try await Self.register("u-friend", in: storage)
        let asked = try await Self.register("u-asked", in: storage)
        let asking = try await Self.register("u-asking", in: storage)
        let declined = try await Self.register("u-declined", in: storage)
        try await Self.register("u-none", in: storage)
        try await Self.befriend(me, friend, in: storage)
        try await Self.ask(me, asked, in: storage)
        try await Self.ask(asking, me, in: storage)
        let no = try await Self.ask(declined, me, in: storage)
        _ = try await storage.chat.declineFriendRequest(id: no.id, userID: me.id, now: Self.now)

        let matches = try await storage.chat.searchUsers(prefix: "u-", callerID: me.id, limit: 10)
        let relations = Dictionary(uniqueKeysWithValues: matches.map { ($0.user.username, $0.relation) })
        #expect(
            relations == [
                "u-friend": .friend, "u-asked": .requestSent, "u-asking": .requestReceived, "u-declined": .none, "u-none": .none,
            ]
        )
        // And the other way round.
        let theirs = try await storage.chat.searchUsers(prefix: "me", callerID: asked.id, limit: 10)
        #expect(theirs.map(\.relation) == [.requestReceived])
        #expect(try await storage.chat.searchUsers(prefix: "me", callerID: friend.id, limit: 10).map(\.relation) == [.friend])
    }

    static func requestRefusals(_ storage: any Storage) async throws {
        let alice = try await Self.register("Alice", in: storage)
        let bob = try await Self.register("Bob", in: storage)
        await #expect(throws: ParleyError(.selfRequest, "You cannot send a friend request to yourself.")) {
            try await Self.ask(alice, alice, in: storage)
        }
        let unknown = await #expect(throws: ParleyError.self) {
            try await storage.chat.createFriendRequest(
                fromUserID: alice.id, toUserID: bob.id + 1000, message: "", alias: nil, now: Self.now
            )
        }
        #expect(unknown?.code == .notFound)
        try await Self.befriend(alice, bob, in: storage)
        for (from, to) in [(alice, bob), (bob, alice)] {
            let friends = await #expect(throws: ParleyError.self) {
                try await Self.ask(from, to, in: storage)
            }
            #expect(friends?.code == .alreadyFriends)
        }
        #expect(try await storage.chat.pendingFriendRequests(userID: alice.id) == FriendRequestLists(incoming: [], outgoing: []))
        #expect(try await storage.chat.pendingFriendRequests(userID: bob.id) == FriendRequestLists(incoming: [], outgoing: []))
    }

    static func onePendingPerPair(_ storage: any Storage) async throws {
        let alice = try await Self.register("Alice", in: storage)
        let bob = try await Self.register("Bob", in: storage)
        let carol = try await Self.register("Carol", in: storage)
        let first = try await storage.chat.createFriendRequest(
            fromUserID: alice.id, toUserID: bob.id, message: "Hi Bob! 🙂", alias: "Bobby", now: Self.now
        )
        #expect(first.from == Self.chatUser(alice))
        #expect(first.to == Self.chatUser(bob))
        #expect(first.message == "Hi Bob! 🙂")
        #expect(first.alias == "Bobby")
        #expect(first.status == .pending)
        #expect(first.createdAt == Self.nowInMilliseconds)

        await #expect(throws: ParleyError(.alreadyRequested, "You have already asked them.")) {
            try await Self.ask(alice, bob, message: "again", in: storage)
        }
        await #expect(throws: ParleyError(.alreadyRequested, "They have already asked you: accept their request.")) {
            try await Self.ask(bob, alice, in: storage)
        }
        // Other pairs are free.
        let fromCarol = try await Self.ask(carol, bob, in: storage)
        try await Self.ask(alice, carol, in: storage)
        #expect(try await storage.chat.pendingFriendRequests(userID: alice.id).outgoing.map(\.to.id) == [bob.id, carol.id])
        #expect(try await storage.chat.pendingFriendRequests(userID: bob.id).incoming == [first, fromCarol])
    }

    /// The pending request from `a` to `b`.
    static func pendingFrom(_ a: User, to b: User, in storage: any Storage) async throws -> FriendRequest? {
        try await storage.chat.pendingFriendRequests(userID: b.id).incoming.first { $0.from.id == a.id }
    }

    static func declineThenAskAgain(_ storage: any Storage) async throws {
        let alice = try await Self.register("Alice", in: storage)
        let bob = try await Self.register("Bob", in: storage)
        let first = try await Self.ask(alice, bob, message: "1", in: storage)
        var declined = try await storage.chat.declineFriendRequest(id: first.id, userID: bob.id, now: Self.now)
        #expect(declined.status == .declined)
        // Declining again (a retry) gets the same answer; the sender may not.
        #expect(try await storage.chat.declineFriendRequest(id: first.id, userID: bob.id, now: Self.now) == declined)
        let bySender = await #expect(throws: ParleyError.self) {
            try await storage.chat.declineFriendRequest(id: first.id, userID: alice.id, now: Self.now)
        }
        #expect(bySender?.code == .notFound)
        declined.status = .pending
        #expect(declined == first)
        #expect(try await storage.chat.pendingFriendRequests(userID: bob.id) == FriendRequestLists(incoming: [], outgoing: []))
        #expect(try await storage.chat.friends(userID: bob.id).isEmpty)

        // Either side may ask again, and a declined one can't be answered again.
        let second = try await Self.ask(bob, alice, message: "2", in: storage)
        #expect(second.id != first.id)
        #expect(try await storage.chat.pendingFriendRequests(userID: alice.id).incoming == [second])
        await #expect(throws: ParleyError.self) {
            try await storage.chat.acceptFriendRequest(id: first.id, userID: bob.id, alias: nil, now: Self.now)
        }
        let accepted = try await storage.chat.acceptFriendRequest(id: second.id, userID: alice.id, alias: nil, now: Self.now)
        #expect(accepted.request.status == .accepted)
        #expect(try await storage.chat.friends(userID: bob.id).map(\.friend.id) == [alice.id])
    }

    static func onlyTargetAnswers(_ storage: any Storage) async throws {
        let alice = try await Self.register("Alice", in: storage)
        let bob = try await Self.register("Bob", in: storage)
        let carol = try await Self.register("Carol", in: storage)
        let request = try await Self.ask(alice, bob, in: storage)
        let forbidden = ParleyError.Code.forbidden
        let notFound = ParleyError.Code.notFound

        // The sender may not answer; others, and unknown ids, are not found.
        let bySender = await #expect(throws: ParleyError.self) {
            try await storage.chat.acceptFriendRequest(id: request.id, userID: alice.id, alias: nil, now: Self.now)
        }
        #expect(bySender?.code == forbidden)
        let declineBySender = await #expect(throws: ParleyError.self) {
            try await storage.chat.declineFriendRequest(id: request.id, userID: alice.id, now: Self.now)
        }
        #expect(declineBySender?.code == forbidden)
        for (id, user) in [(request.id, carol.id), (request.id + 1000, bob.id)] {
            let accept = await #expect(throws: ParleyError.self) {
                try await storage.chat.acceptFriendRequest(id: id, userID: user, alias: nil, now: Self.now)
            }
            #expect(accept?.code == notFound)
            let decline = await #expect(throws: ParleyError.self) {
                try await storage.chat.declineFriendRequest(id: id, userID: user, now: Self.now)
            }
            #expect(decline?.code == notFound)
        }
        #expect(try await Self.pendingFrom(alice, to: bob, in: storage) == request)

        // Once answered, it is not pending: the target accepting again (a retry whose answer was
        // lost) gets the same answer; declining it, or the sender answering, is not found.
        let accepted = try await storage.chat.acceptFriendRequest(id: request.id, userID: bob.id, alias: nil, now: Self.now)
        #expect(try await storage.chat.acceptFriendRequest(id: request.id, userID: bob.id, alias: "Ignored", now: Self.now) == accepted)
        for user in [bob.id, alice.id] {
            if user != bob.id {
                let again = await #expect(throws: ParleyError.self) {
                    try await storage.chat.acceptFriendRequest(id: request.id, userID: user, alias: nil, now: Self.now)
                }
                #expect(again?.code == notFound)
            }
            let decline = await #expect(throws: ParleyError.self) {
                try await storage.chat.declineFriendRequest(id: request.id, userID: user, now: Self.now)
            }
            #expect(decline?.code == notFound)
        }
        #expect(try await storage.chat.friends(userID: alice.id).count == 1)
    }

    static func acceptMakesFriends(_ storage: any Storage) async throws {
        // Bob's id is the higher one in the first pair and the lower one in the second.
        let alice = try await Self.register("Alice", in: storage)
        let bob = try await Self.register("Bob", in: storage)
        let carol = try await Self.register("Carol", in: storage)
        let asked = try await Self.ask(alice, bob, message: "hi", alias: "Bobby", in: storage)
        let accepted = try await storage.chat.acceptFriendRequest(id: asked.id, userID: bob.id, alias: "Ally", now: Self.now)
        var expected = asked
        expected.status = .accepted
        #expect(accepted.request == expected)
        #expect(accepted.accepterView.friend == Self.chatUser(alice))
        #expect(accepted.accepterView.alias == "Ally")
        #expect(accepted.senderView.friend == Self.chatUser(bob))
        #expect(accepted.senderView.alias == "Bobby")
        #expect(accepted.accepterView.conversationID == accepted.senderView.conversationID)
        for view in [accepted.accepterView, accepted.senderView] {
            #expect(view.lastSeq == 0)
            #expect(view.readSeq == 0)
        }

        // The other way round: Carol asks Bob with no alias, Bob names her.
        let second = try await Self.ask(carol, bob, in: storage)
        let both = try await storage.chat.acceptFriendRequest(id: second.id, userID: bob.id, alias: "Caz", now: Self.now)
        #expect(both.accepterView.alias == "Caz")
        #expect(both.senderView.alias == nil)
        #expect(both.accepterView.conversationID != accepted.accepterView.conversationID)
        let third = try await Self.ask(alice, carol, alias: "C", in: storage)
        let none = try await storage.chat.acceptFriendRequest(id: third.id, userID: carol.id, alias: nil, now: Self.now)
        #expect(none.accepterView.alias == nil)
        #expect(none.senderView.alias == "C")

        // The friend lists, by username key, each with the viewer's own alias.
        #expect(try await storage.chat.friends(userID: bob.id) == [accepted.accepterView, both.accepterView])
        #expect(try await storage.chat.friends(userID: alice.id) == [accepted.senderView, none.senderView])
        #expect(try await storage.chat.friends(userID: carol.id) == [none.accepterView, both.senderView])
        #expect(try await storage.chat.friends(userID: carol.id + 1000).isEmpty)
    }

    static func pendingLists(_ storage: any Storage) async throws {
        let me = try await Self.register("Me", in: storage)
        let others = try await (1...4).asyncMap { try await Self.register("Other\($0)", in: storage) }
        let in1 = try await Self.ask(others[0], me, in: storage)
        let out1 = try await Self.ask(me, others[1], alias: "x", in: storage)
        let in2 = try await Self.ask(others[2], me, in: storage)
        let out2 = try await Self.ask(me, others[3], in: storage)
        // Requests between others are not mine.
        let between = try await Self.ask(others[0], others[1], in: storage)
        let lists = { (user: User) in try await storage.chat.pendingFriendRequests(userID: user.id) }
        #expect(try await lists(me) == FriendRequestLists(incoming: [in1, in2], outgoing: [out1, out2]))
        #expect(try await lists(others[1]) == FriendRequestLists(incoming: [out1, between], outgoing: []))
        #expect(try await lists(others[0]) == FriendRequestLists(incoming: [], outgoing: [in1, between]))

        _ = try await storage.chat.acceptFriendRequest(id: in1.id, userID: me.id, alias: nil, now: Self.now)
        _ = try await storage.chat.declineFriendRequest(id: out2.id, userID: others[3].id, now: Self.now)
        #expect(try await storage.chat.pendingFriendRequests(userID: me.id) == FriendRequestLists(incoming: [in2], outgoing: [out1]))
    }

    static func halfwayAcceptHeals(_ storage: any Storage) async throws {
        let alice = try await Self.register("Alice", in: storage)
        let bob = try await Self.register("Bob", in: storage)
        let request = try await Self.ask(alice, bob, alias: "Bobby", in: storage)
        // The first step of an accept ran, the second did not: a friendship beside a pending request.
        try await Self.execute(
            """
            INSERT INTO conversations (user_low, user_high, alias_low, alias_high, created_at)
            SELECT user_low, user_high, 'low', 'high', 0 FROM friend_requests WHERE id = \(request.id)
            """,
            in: storage
        )
        // Lists and new requests see friends.
        #expect(try await storage.chat.pendingFriendRequests(userID: alice.id) == FriendRequestLists(incoming: [], outgoing: []))
        #expect(try await storage.chat.pendingFriendRequests(userID: bob.id) == FriendRequestLists(incoming: [], outgoing: []))
        #expect(try await storage.chat.searchUsers(prefix: "bob", callerID: alice.id, limit: 5).map(\.relation) == [.friend])
        for (from, to) in [(alice, bob), (bob, alice)] {
            let again = await #expect(throws: ParleyError.self) {
                try await Self.ask(from, to, in: storage)
            }
            #expect(again?.code == .alreadyFriends)
        }
        let friendship = try #require(try await storage.chat.friends(userID: alice.id).first)

        // Accepting again completes it with the friendship made then.
        let accepted = try await storage.chat.acceptFriendRequest(id: request.id, userID: bob.id, alias: "Ally", now: Self.now)
        #expect(accepted.request.status == .accepted)
        #expect(accepted.senderView == friendship)
        #expect(accepted.accepterView.conversationID == friendship.conversationID)
        #expect(try await storage.chat.friends(userID: bob.id) == [accepted.accepterView])
        #expect(try await storage.chat.acceptFriendRequest(id: request.id, userID: bob.id, alias: nil, now: Self.now) == accepted)
    }

    static func textsNumbered(_ storage: any Storage) async throws {
        let alice = try await Self.register("Alice", in: storage)
        let bob = try await Self.register("Bob", in: storage)
        let carol = try await Self.register("Carol", in: storage)
        let ab = try await Self.befriend(alice, bob, in: storage).senderView.conversationID
        let ac = try await Self.befriend(carol, alice, in: storage).accepterView.conversationID

        let first = try await Self.send(alice, bob, "a1", "Hi 🙂", in: storage)
        #expect(
            first == TextReceipt(
                text: ChatText(
                    conversationID: ab, seq: 1, senderID: alice.id, text: "Hi 🙂", clientMessageID: "a1", sentAt: Self.nowInMilliseconds
                ),
                receiverID: bob.id, duplicate: false
            )
        )
        let second = try await Self.send(bob, alice, "b1", "Hello", in: storage)
        #expect(second.text.seq == 2)
        #expect(second.receiverID == alice.id)
        #expect(second.duplicate == false)
        let other = try await Self.send(alice, carol, "a2", "x", in: storage)
        #expect(other.text.conversationID == ac)
        #expect(other.text.seq == 1)
        let third = try await Self.send(alice, bob, "a3", "?", in: storage)
        #expect(third.text.seq == 3)

        let page = try await storage.chat.texts(conversationID: ab, userID: bob.id, afterSeq: 0, limit: 10)
        #expect(page == ChatPage(texts: [first.text, second.text, third.text], lastSeq: 3, hasMore: false))
        #expect(try await storage.chat.friends(userID: bob.id).map(\.lastSeq) == [3])
        #expect(try await storage.chat.friends(userID: alice.id).map(\.lastSeq) == [3, 1])
    }

    static func clientMessageIDOnce(_ storage: any Storage) async throws {
        let alice = try await Self.register("Alice", in: storage)
        let bob = try await Self.register("Bob", in: storage)
        let carol = try await Self.register("Carol", in: storage)
        let ab = try await Self.befriend(alice, bob, in: storage).senderView.conversationID
        try await Self.befriend(alice, carol, in: storage)

        let first = try await Self.send(alice, bob, "m1", "one", in: storage)
        var duplicate = first
        duplicate.duplicate = true
        // The same id again, even with other words, later, or to another friend: the first one wins.
        #expect(try await Self.send(alice, bob, "m1", "one", in: storage) == duplicate)
        let changed = try await storage.chat.sendText(
            fromUserID: alice.id, toUserID: bob.id, clientMessageID: "m1", text: "other words", now: Self.now.addingTimeInterval(9)
        )
        #expect(changed == duplicate)
        #expect(try await Self.send(alice, carol, "m1", "c", in: storage) == duplicate)
        let unknown = try await storage.chat.sendText(
            fromUserID: alice.id, toUserID: carol.id + 1000, clientMessageID: "m1", text: "?", now: Self.now
        )
        #expect(unknown == duplicate)
        // Another sender's ids are their own.
        let reply = try await Self.send(bob, alice, "m1", "two", in: storage)
        #expect(reply.duplicate == false)
        #expect(reply.text.seq == 2)

        let page = try await storage.chat.texts(conversationID: ab, userID: alice.id, afterSeq: 0, limit: 10)
        #expect(page.texts == [first.text, reply.text])
        #expect(try await storage.chat.friends(userID: carol.id).map(\.lastSeq) == [0])
    }

    static func textsOnlyBetweenFriends(_ storage: any Storage) async throws {
        let alice = try await Self.register("Alice", in: storage)
        let bob = try await Self.register("Bob", in: storage)
        let carol = try await Self.register("Carol", in: storage)
        try await Self.ask(alice, bob, in: storage)
        let pairs = [(alice.id, bob.id), (bob.id, alice.id), (alice.id, carol.id), (alice.id, alice.id), (alice.id, alice.id + 1000)]
        for (index, (from, to)) in pairs.enumerated() {
            let error = await #expect(throws: ParleyError.self) {
                try await storage.chat.sendText(fromUserID: from, toUserID: to, clientMessageID: "c\(index)", text: "hi", now: Self.now)
            }
            #expect(error?.code == .notFriends)
        }
        let friends = try await Self.befriend(carol, alice, in: storage)
        let sent = try await Self.send(alice, carol, "c2", "hi", in: storage)
        #expect(sent.text.seq == 1)
        #expect(sent.text.conversationID == friends.senderView.conversationID)
    }

    static func textsPaging(_ storage: any Storage) async throws {
        let alice = try await Self.register("Alice", in: storage)
        let bob = try await Self.register("Bob", in: storage)
        let carol = try await Self.register("Carol", in: storage)
        let conversation = try await Self.befriend(alice, bob, in: storage).senderView.conversationID
        var texts: [ChatText] = []
        for number in 1...5 {
            let from = number.isMultiple(of: 2) ? bob : alice
            let to = number.isMultiple(of: 2) ? alice : bob
            texts.append(
                try await storage.chat.sendText(
                    fromUserID: from.id, toUserID: to.id, clientMessageID: "t\(number)", text: "text \(number)",
                    now: Self.now.addingTimeInterval(Double(number))
                ).text
            )
        }
        func page(_ after: Int64, _ limit: Int, user: User = alice) async throws -> ChatPage {
            try await storage.chat.texts(conversationID: conversation, userID: user.id, afterSeq: after, limit: limit)
        }
        #expect(try await page(0, 2) == ChatPage(texts: Array(texts[0..<2]), lastSeq: 5, hasMore: true))
        #expect(try await page(2, 2, user: bob) == ChatPage(texts: Array(texts[2..<4]), lastSeq: 5, hasMore: true))
        #expect(try await page(3, 2) == ChatPage(texts: Array(texts[3..<5]), lastSeq: 5, hasMore: false))
        #expect(try await page(4, 2) == ChatPage(texts: [texts[4]], lastSeq: 5, hasMore: false))
        #expect(try await page(5, 2) == ChatPage(texts: [], lastSeq: 5, hasMore: false))
        #expect(try await page(0, 0) == ChatPage(texts: [], lastSeq: 5, hasMore: true))
        #expect(try await page(-1, 100) == ChatPage(texts: texts, lastSeq: 5, hasMore: false))
        #expect(try await page(0, 5) == ChatPage(texts: texts, lastSeq: 5, hasMore: false))
        #expect(texts.map(\.sentAt) == (1...5).map { Self.nowInMilliseconds + Int64($0) * 1000 })

        // An empty conversation; someone else's; one that does not exist.
        let empty = try await Self.befriend(carol, bob, in: storage).senderView.conversationID
        let nothing = try await storage.chat.texts(conversationID: empty, userID: carol.id, afterSeq: 0, limit: 10)
        #expect(nothing == ChatPage(texts: [], lastSeq: 0, hasMore: false))
        for (id, user) in [(conversation, carol), (empty, alice), (conversation + 1000, alice)] {
            let error = await #expect(throws: ParleyError.self) {
                try await storage.chat.texts(conversationID: id, userID: user.id, afterSeq: 0, limit: 10)
            }
            #expect(error?.code == .notFound)
        }
    }

    static func readMark(_ storage: any Storage) async throws {
        let alice = try await Self.register("Alice", in: storage)
        let bob = try await Self.register("Bob", in: storage)
        let carol = try await Self.register("Carol", in: storage)
        let conversation = try await Self.befriend(alice, bob, in: storage).senderView.conversationID
        // Nothing to read yet: the mark stays at 0.
        try await storage.chat.markRead(conversationID: conversation, userID: bob.id, seq: 5)
        #expect(try await storage.chat.friends(userID: bob.id).map(\.readSeq) == [0])
        for number in 1...3 {
            try await Self.send(alice, bob, "\(number)", in: storage)
        }
        /// Alice's and Bob's read marks.
        func marks() async throws -> [Int64] {
            try await storage.chat.friends(userID: alice.id).map(\.readSeq) + storage.chat.friends(userID: bob.id).map(\.readSeq)
        }
        try await storage.chat.markRead(conversationID: conversation, userID: bob.id, seq: 2)
        #expect(try await marks() == [0, 2])
        try await storage.chat.markRead(conversationID: conversation, userID: bob.id, seq: 1)
        #expect(try await marks() == [0, 2])
        try await storage.chat.markRead(conversationID: conversation, userID: bob.id, seq: 99)
        #expect(try await marks() == [0, 3])
        try await storage.chat.markRead(conversationID: conversation, userID: alice.id, seq: 1)
        #expect(try await marks() == [1, 3])
        try await storage.chat.markRead(conversationID: conversation, userID: alice.id, seq: -4)
        #expect(try await marks() == [1, 3])

        // Unread: the friend's texts after the mark, never one's own. Alice sent 1–3, Bob sends 4, Alice 5.
        _ = try await Self.send(bob, alice, "b4", in: storage)
        _ = try await Self.send(alice, bob, "a5", in: storage)
        func unread() async throws -> [Int64] {
            try await storage.chat.friends(userID: alice.id).map(\.unread) + storage.chat.friends(userID: bob.id).map(\.unread)
        }
        #expect(try await unread() == [1, 1])
        try await storage.chat.markRead(conversationID: conversation, userID: alice.id, seq: 5)
        try await storage.chat.markRead(conversationID: conversation, userID: bob.id, seq: 5)
        #expect(try await unread() == [0, 0])

        for (id, user) in [(conversation, carol), (conversation + 1000, alice)] {
            let error = await #expect(throws: ParleyError.self) {
                try await storage.chat.markRead(conversationID: id, userID: user.id, seq: 1)
            }
            #expect(error?.code == .notFound)
        }
    }

    static func concurrentTexts(_ storage: any Storage) async throws {
        let alice = try await Self.register("Alice", in: storage)
        let bob = try await Self.register("Bob", in: storage)
        let conversation = try await Self.befriend(alice, bob, in: storage).senderView.conversationID
        // Reads at once first, so that a pool opens its connections and the texts race for real.
        try await withThrowingTaskGroup(of: Void.self) { group in
            for _ in 0..<20 {
                group.addTask { _ = try await storage.chat.friends(userID: alice.id) }
            }
            try await group.waitForAll()
        }
        let receipts = try await withThrowingTaskGroup(of: TextReceipt.self) { group in
            for number in 0..<20 {
                let (from, to) = number.isMultiple(of: 2) ? (alice.id, bob.id) : (bob.id, alice.id)
                group.addTask {
                    try await storage.chat.sendText(
                        fromUserID: from, toUserID: to, clientMessageID: "c\(number)", text: "\(number)", now: Self.now
                    )
                }
            }
            return try await group.reduce(into: [TextReceipt]()) { $0.append($1) }
        }
        #expect(receipts.map(\.text.seq).sorted() == Array(1...20))
        #expect(receipts.allSatisfy { !$0.duplicate })
        let page = try await storage.chat.texts(conversationID: conversation, userID: alice.id, afterSeq: 0, limit: 100)
        #expect(page.texts.map(\.seq) == Array(1...20))
        #expect(page.lastSeq == 20)
        #expect(Set(page.texts) == Set(receipts.map(\.text)))
    }

    static func acceptRacesDecline(_ storage: any Storage) async throws {
        let alice = try await Self.register("Alice", in: storage)
        for round in 0..<20 {
            let bob = try await Self.register("Bob\(round)", in: storage)
            let request = try await Self.ask(alice, bob, in: storage)
            async let accept = Result { try await storage.chat.acceptFriendRequest(id: request.id, userID: bob.id, alias: nil, now: Self.now) }
            async let decline = Result { try await storage.chat.declineFriendRequest(id: request.id, userID: bob.id, now: Self.now) }
            let (accepted, declined) = await (accept, decline)
            let friends = try await storage.chat.friends(userID: bob.id)
            switch (accepted, declined) {
            case (.success, .failure(let error)):
                #expect((error as? ParleyError)?.code == .notFound, "round \(round): \(error)")
                #expect(friends.map(\.friend.id) == [alice.id], "round \(round)")
            case (.failure(let error), .success):
                #expect((error as? ParleyError)?.code == .notFound, "round \(round): \(error)")
                #expect(friends.isEmpty, "round \(round)")
            default:
                Issue.record("round \(round): accept \(accepted), decline \(declined): exactly one must win")
            }
        }
    }

    static func chatFencing(_ storage: any Storage) async throws {
        #expect(try await storage.claimLeadership(epoch: 5))
        let alice = try await Self.register("Alice", in: storage)
        let bob = try await Self.register("Bob", in: storage)
        let carol = try await Self.register("Carol", in: storage)
        let conversation = try await Self.befriend(alice, bob, in: storage).senderView.conversationID
        try await Self.send(alice, bob, "m1", in: storage)
        let pending = try await Self.ask(carol, alice, in: storage)

        /// Every chat write, each of which would succeed (or fail for a reason of its own) if it were not fenced.
        let writes: [(String, @Sendable () async throws -> Void)] = [
            ("request", { try await Self.ask(bob, carol, in: storage) }),
            ("request to nobody", {
                _ = try await storage.chat.createFriendRequest(fromUserID: bob.id, toUserID: 9999, message: "", alias: nil, now: Self.now)
            }),
            ("accept", { _ = try await storage.chat.acceptFriendRequest(id: pending.id, userID: alice.id, alias: nil, now: Self.now) }),
            ("decline", { _ = try await storage.chat.declineFriendRequest(id: pending.id, userID: alice.id, now: Self.now) }),
            ("accept unknown", { _ = try await storage.chat.acceptFriendRequest(id: 9999, userID: alice.id, alias: nil, now: Self.now) }),
            ("send", { try await Self.send(bob, alice, "m2", in: storage) }),
            ("send to a stranger", { try await Self.send(bob, carol, "m3", in: storage) }),
            ("mark read", { try await storage.chat.markRead(conversationID: conversation, userID: bob.id, seq: 1) }),
            ("mark read elsewhere", { try await storage.chat.markRead(conversationID: conversation + 1000, userID: bob.id, seq: 1) }),
        ]
        func expectNothingChanged() async throws {
            #expect(try await storage.chat.pendingFriendRequests(userID: alice.id).incoming == [pending])
            #expect(try await storage.chat.pendingFriendRequests(userID: bob.id) == FriendRequestLists(incoming: [], outgoing: []))
            #expect(try await storage.chat.friends(userID: bob.id).map(\.readSeq) == [0])
            #expect(try await storage.chat.texts(conversationID: conversation, userID: bob.id, afterSeq: 0, limit: 10).lastSeq == 1)
            #expect(try await storage.chat.friends(userID: carol.id).isEmpty)
        }

        // Another backend takes over with epoch 7; this one still believes it leads in epoch 5:
        // the database refuses, and says so before any reason of the write's own.
        #expect(try await storage.claimLeadership(epoch: 7))
        storage.fence.set(.leading(epoch: 5))
        for (name, write) in writes {
            let error = await #expect(throws: ParleyError.self, "\(name)") { try await write() }
            #expect(error == WriteFence.superseded, "\(name)")
        }
        try await expectNothingChanged()

        // A follower refuses before the database.
        storage.fence.set(.following(leader: "10.0.0.2:1234"))
        for (name, write) in writes {
            let error = await #expect(throws: ParleyError.self, "\(name)") { try await write() }
            #expect(error == WriteFence.notLeader("10.0.0.2:1234"), "\(name)")
        }
        try await expectNothingChanged()

        // The new leader writes; its refusals are the writes' own.
        storage.fence.set(.leading(epoch: 7))
        let unknown = await #expect(throws: ParleyError.self) {
            try await storage.chat.acceptFriendRequest(id: 9999, userID: alice.id, alias: nil, now: Self.now)
        }
        #expect(unknown?.code == .notFound)
        let stranger = await #expect(throws: ParleyError.self) {
            try await Self.send(bob, carol, "m3", in: storage)
        }
        #expect(stranger?.code == .notFriends)
        _ = try await storage.chat.acceptFriendRequest(id: pending.id, userID: alice.id, alias: nil, now: Self.now)
        #expect(try await Self.send(bob, alice, "m2", in: storage).text.seq == 2)
        try await storage.chat.markRead(conversationID: conversation, userID: bob.id, seq: 2)
        #expect(try await storage.chat.friends(userID: bob.id).map(\.readSeq) == [2])
    }
}

extension Sequence {
    /// The results of `transform` on each element, one after the other.
    func asyncMap<T>(_ transform: (Element) async throws -> T) async rethrows -> [T] {
        var results: [T] = []
        for element in self { results.append(try await transform(element)) }
        return results
    }
}
