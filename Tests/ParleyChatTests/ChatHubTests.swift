import NIOCore
import NIOEmbedded
import Testing

@testable import ParleyChat

/// The router's rules for who is a user's session, and who hears of presence changes.
@Suite struct ChatHubTests {
    /// A TCP connection over an embedded channel, whose written frames the test reads back.
    struct Client {
        let channel = EmbeddedChannel()
        let connection: ChatConnection

        init() {
            self.connection = ChatConnection(transport: .tcp(self.channel), outgoingQueueBytes: 1 << 20)
        }

        /// The messages written to this client so far.
        func received() throws -> [ChatMessage] {
            var messages: [ChatMessage] = []
            while let frame = try self.channel.readOutbound(as: ChatFrame.self) {
                messages.append(try ChatMessage.decode(frame: frame))
            }
            return messages
        }

        func presence() throws -> [ChatPresence] {
            try self.received().compactMap { if case .presence(let presence) = $0 { presence } else { nil } }
        }
    }

    @Test("the newest connection stays the session, whichever authentication ends first")
    func newestLoginWins() {
        let hub = ChatHub()
        let older = Client()
        let newer = Client()
        #expect(older.connection.id < newer.connection.id)
        #expect(hub.attach(newer.connection, userID: 1, friends: []) == nil)
        // The older one's authentication ended last (a slow backend): it is the one to kick.
        #expect(hub.attach(older.connection, userID: 1, friends: []) === older.connection)
        #expect(hub.session(of: 1) === newer.connection)
        // The other way round, the newer one replaces the older one.
        let hub2 = ChatHub()
        #expect(hub2.attach(older.connection, userID: 1, friends: []) == nil)
        #expect(hub2.attach(newer.connection, userID: 1, friends: []) === older.connection)
        #expect(hub2.session(of: 1) === newer.connection)
    }

    @Test("a connection that closed while authenticating does not become the session, nor kick it")
    func closedConnectionIsNotAttached() throws {
        let hub = ChatHub()
        let live = Client()
        let gone = Client()
        #expect(hub.attach(live.connection, userID: 1, friends: []) == nil)
        gone.connection.closedByPeer()
        #expect(hub.attach(gone.connection, userID: 1, friends: []) == nil)
        #expect(hub.session(of: 1) === live.connection)
        // A user whose only connection closed while authenticating is not online.
        #expect(hub.attach(gone.connection, userID: 2, friends: []) == nil)
        #expect(!hub.isOnline(2))
    }

    @Test("a takeover keeps the friendships made during the old session, so friends hear when the user leaves")
    func takeoverKeepsFriendsMadeMeanwhile() throws {
        let hub = ChatHub()
        let friend = Client()
        let first = Client()
        let second = Client()
        #expect(hub.attach(friend.connection, userID: 2, friends: []) == nil)
        #expect(hub.attach(first.connection, userID: 1, friends: []) == nil)
        // The second session read user 1's friends before this friendship was stored.
        hub.befriend(1, 2)
        #expect(hub.attach(second.connection, userID: 1, friends: []) === first.connection)
        second.connection.authenticated(as: 1)
        hub.closed(second.connection)
        #expect(try friend.presence() == [ChatPresence(userId: 1, online: false)])
    }

    @Test("an answer that showed stale presence is followed by a presence that corrects it")
    func presenceIsCorrectedAfterAnAnswer() throws {
        let hub = ChatHub()
        let friend = Client()
        let me = Client()
        #expect(hub.attach(friend.connection, userID: 2, friends: [1]) == nil)
        #expect(hub.attach(me.connection, userID: 1, friends: [2]) == nil)
        _ = try me.received()
        // User 2 is online; user 3 is not: only the answer's wrong flag is corrected.
        hub.correctPresence(shown: [2: false, 3: false], on: me.connection)
        #expect(try me.presence() == [ChatPresence(userId: 2, online: true)])
        hub.correctPresence(shown: [2: true, 3: false], on: me.connection)
        #expect(try me.received().isEmpty)
        friend.connection.authenticated(as: 2)
        hub.closed(friend.connection)
        _ = try me.received()
        hub.correctPresence(shown: [2: true], on: me.connection)
        #expect(try me.presence() == [ChatPresence(userId: 2, online: false)])
    }

    @Test("late friendships are kept for users who may be attaching, and old ones make room when the limit is reached")
    func lateFriendsMakeRoom() {
        let hub = ChatHub()
        let start = ContinuousClock.now
        // Neither side is attached here: both are remembered.
        hub.befriend(1, 2, now: start)
        #expect(hub.lateFriendsCount == 2)
        let limit = ChatHub.lateFriendsLimit
        for user in stride(from: Int64(3), to: Int64(limit) + 1, by: 2) {
            hub.befriend(user, user + 1, now: start)
        }
        #expect(hub.lateFriendsCount == limit)
        // Full of fresh ones: a new one is not recorded.
        hub.befriend(Int64(limit) + 1, Int64(limit) + 2, now: start + .seconds(1))
        #expect(hub.lateFriendsCount == limit)
        // A minute later, the old ones make room.
        hub.befriend(Int64(limit) + 1, Int64(limit) + 2, now: start + ChatHub.lateFriendsLifetime + .seconds(1))
        #expect(hub.lateFriendsCount == 2)
        // Attaching merges and forgets them.
        let client = Client()
        #expect(hub.attach(client.connection, userID: Int64(limit) + 1, friends: []) == nil)
        #expect(hub.lateFriendsCount == 1)
    }
}
