import Synchronization

/// Who is connected to this chat server, and where a message for a user goes.
///
/// The router of the design: today it knows the local sessions only; delivery between chat
/// servers will ask it first and forward what it cannot deliver. One session per user: a second
/// authentication takes over. It also keeps, for every online user, the ids of their friends,
/// so that presence changes reach the friends who are online.
final class ChatHub: Sendable {
    private struct Online {
        var connection: ChatConnection
        var friends: Set<Int64>
    }

    private struct State {
        /// Every open connection, authenticated or not, by connection id.
        var connections: [UInt64: ChatConnection] = [:]
        /// The session of each online user.
        var online: [Int64: Online] = [:]
        /// Friendships made while one side was not attached here (between reading its friends
        /// and attaching, say), merged into its friend set when it attaches, and when they were
        /// last added to. Bounded.
        var lateFriends: [Int64: (friends: Set<Int64>, since: ContinuousClock.Instant)] = [:]
    }

    /// At most this many users with late friendships are remembered.
    static let lateFriendsLimit = 100_000
    /// Late friendships older than this are forgotten when room is needed: an authentication
    /// reads a user's friends at most this long before it attaches (the backend's calls time
    /// out well before), and a later one reads them anew.
    static let lateFriendsLifetime = Duration.seconds(60)

    private let state = Mutex(State())

    /// The number of open connections.
    var connectionCount: Int { self.state.withLock { $0.connections.count } }

    /// Every open connection.
    var connections: [ChatConnection] { self.state.withLock { Array($0.connections.values) } }

    /// Adds a new, not yet authenticated connection.
    func opened(_ connection: ChatConnection) {
        self.state.withLock { $0.connections[connection.id] = connection }
    }

    /// Makes `connection` the session of `userID`, whose friends are `friends`, and tells the
    /// online friends it came online (unless the user was online already: a takeover changes no
    /// presence). Returns the connection to kick: the session it replaces, or `connection` itself
    /// when a connection opened after it is the session already (the newest login wins, whichever
    /// authentication ends first). A connection that closed while authenticating is not attached.
    func attach(_ connection: ChatConnection, userID: Int64, friends: Set<Int64>) -> ChatConnection? {
        self.state.withLock { state in
            guard !connection.isClosed else { return nil }
            let previous = state.online[userID]
            if let previous, previous.connection.id > connection.id {
                return connection
            }
            // A friendship made since `friends` was read is in the previous session's set.
            let friends = friends.union(state.lateFriends.removeValue(forKey: userID)?.friends ?? []).union(previous?.friends ?? [])
            state.online[userID] = Online(connection: connection, friends: friends)
            if let previous {
                return previous.connection
            }
            // Sent under the lock, so that presence changes of one user reach friends in order.
            for friend in friends {
                state.online[friend]?.connection.send(.presence(ChatPresence(userId: userID, online: true)))
            }
            return nil
        }
    }

    /// Removes a connection that closed. When it was its user's session, the user goes offline
    /// and the online friends are told.
    func closed(_ connection: ChatConnection) {
        self.state.withLock { state in
            state.connections[connection.id] = nil
            guard let userID = connection.userID, let current = state.online[userID],
                current.connection === connection
            else {
                return
            }
            state.online[userID] = nil
            for friend in current.friends {
                state.online[friend]?.connection.send(.presence(ChatPresence(userId: userID, online: false)))
            }
        }
    }

    /// The session of `userID` on this server, if online.
    func session(of userID: Int64) -> ChatConnection? {
        self.state.withLock { $0.online[userID]?.connection }
    }

    /// Whether `userID` has a session on this server.
    func isOnline(_ userID: Int64) -> Bool {
        self.state.withLock { $0.online[userID] != nil }
    }

    /// After an answer that showed friends' presence as `shown` was queued on `connection`:
    /// sends `presence` for each one whose presence differs now. A change pushed while the answer
    /// was being made may have been queued before it, and the answer would undo it.
    func correctPresence(shown: [Int64: Bool], on connection: ChatConnection) {
        self.state.withLock { state in
            for (friend, online) in shown where (state.online[friend] != nil) != online {
                connection.send(.presence(ChatPresence(userId: friend, online: !online)))
            }
        }
    }

    /// Records that two users became friends, for presence.
    func befriend(_ first: Int64, _ second: Int64, now: ContinuousClock.Instant = .now) {
        self.state.withLock { state in
            for (user, friend) in [(first, second), (second, first)] {
                if state.online[user] != nil {
                    state.online[user]?.friends.insert(friend)
                    continue
                }
                if state.lateFriends[user] == nil, state.lateFriends.count >= Self.lateFriendsLimit {
                    state.lateFriends = state.lateFriends.filter { now - $0.value.since < Self.lateFriendsLifetime }
                    guard state.lateFriends.count < Self.lateFriendsLimit else { continue }
                }
                state.lateFriends[user, default: ([], now)].friends.insert(friend)
                state.lateFriends[user]?.since = now
            }
        }
    }

    /// How many users' late friendships are remembered.
    var lateFriendsCount: Int { self.state.withLock { $0.lateFriends.count } }
}
