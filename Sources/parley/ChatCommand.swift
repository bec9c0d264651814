import ArgumentParser
import Dispatch
import Foundation
import ParleyChat
import ParleyClient
import ParleyCore
import Synchronization

/// `parley chat`: chat with friends in the terminal, as the user logged in with `parley account login`.
struct ChatCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "chat",
        abstract: "Chat with friends in the terminal (log in first with `parley account login`).",
        discussion: """
            Commands, one per line: /search NAME · /add NAME [MESSAGE] · /requests · /accept ID [ALIAS] · \
            /decline ID · /friends · /msg NAME TEXT · /history NAME (the last 50 texts) · /quit. Incoming texts, requests and \
            presence changes are printed as they arrive.
            """
    )

    @OptionGroup var options: ClientGatewayOptions

    func run() async throws {
        try await ClientConsole.run {
            guard let saved = try CredentialStore.standard().load() else {
                throw ParleyError(.unauthenticated, "You are not logged in: run `parley account login` first.")
            }
            let client = try ParleyHTTPClient(gateway: try self.options.gateway(saved: saved.gateway))
            let ticket = try await client.chatTicket(token: saved.token)
            let connection = try await ChatClientConnection.connect(host: ticket.host, port: ticket.port)
            try await connection.send(.authenticate(ChatAuthenticate(token: ticket.token)))
            let session = ChatTerminal(connection: connection)
            try await connection.send(.listFriends(ChatListFriends(requestId: "friends")))
            try await connection.send(.listFriendRequests(ChatListFriendRequests(requestId: "requests")))
            await withTaskGroup(of: Void.self) { group in
                group.addTask {
                    for await message in connection.messages { session.show(message) }
                    session.ended()
                    ClientConsole.print("The connection closed.")
                }
                group.addTask {
                    while !Task.isCancelled {
                        try? await Task.sleep(for: .seconds(session.heartbeatSeconds))
                        try? await connection.send(.heartbeat(ChatHeartbeat()))
                    }
                }
                group.addTask {
                    // Commands name friends: read them once the friends list is in.
                    await session.ready()
                    var quit = false
                    for await line in Self.standardInputLines() {
                        guard await session.command(line) else {
                            quit = true
                            break
                        }
                    }
                    // At the end of piped input, give the answers a moment to arrive.
                    if !quit { try? await Task.sleep(for: .seconds(1)) }
                    try? await connection.send(.logout(ChatLogout()))
                    try? await Task.sleep(for: .milliseconds(200))
                    await connection.close()
                }
                await group.next()
                group.cancelAll()
            }
        }
    }

    /// Lines of standard input, read on a thread of their own.
    static func standardInputLines() -> AsyncStream<String> {
        AsyncStream { continuation in
            DispatchQueue.global().async {
                while let line = readLine() { continuation.yield(line) }
                continuation.finish()
            }
        }
    }
}

/// The terminal client's state: friends by name, and what the server says, printed.
final class ChatTerminal: Sendable {
    private struct State {
        /// By lowercased username.
        var friends: [String: ChatFriend] = [:]
        var names: [Int64: String] = [:]
        var nextRequest = 0
        var me: ParleyChat.ChatUser?
        var heartbeatSeconds = 10
        /// Searches made by `/add`: request id → the message of the friend request to send.
        var adding: [String: (name: String, message: String)] = [:]
    }

    private let connection: ChatClientConnection
    private let state = Mutex(State())
    private let loaded = AsyncStream<Void>.makeStream()

    init(connection: ChatClientConnection) {
        self.connection = connection
    }

    /// Returns once the first friends list arrived (or the connection ended).
    func ready() async {
        for await _ in self.loaded.stream { return }
    }

    /// How often to send a heartbeat, as the server said.
    var heartbeatSeconds: Int { self.state.withLock { $0.heartbeatSeconds } }

    /// Text from other people, made safe for a terminal (no escape sequences).
    static func clean(_ text: String) -> String {
        PostListing.sanitize(text, keepNewlines: false)
    }

    private func name(_ id: Int64) -> String {
        self.state.withLock { state in
            state.names[id] ?? (id == state.me?.userId ? state.me?.username : nil)
        } ?? "user \(id)"
    }

    private func remember(_ friend: ChatFriend) {
        self.state.withLock {
            $0.friends[friend.username.lowercased()] = friend
            $0.names[friend.userId] = friend.username
        }
    }

    /// The connection is gone: nothing to wait for.
    func ended() {
        self.loaded.continuation.finish()
    }

    /// Prints one message from the server.
    func show(_ message: ChatMessage) {
        switch message {
        case .authenticated(let body):
            self.state.withLock {
                $0.me = body.user
                $0.heartbeatSeconds = max(1, body.heartbeatSeconds)
            }
            ClientConsole.print("Connected to \(Self.clean(body.serverName)) as \(Self.clean(body.user.username)). Type /help for commands.")
        case .friends(let body):
            body.friends.forEach(self.remember)
            if body.hasMore, let last = body.friends.last {
                // The list goes on past one frame: ask for the next page.
                let next = ChatListFriends(requestId: body.requestId, after: last.username)
                Task { [connection] in try? await connection.send(.listFriends(next)) }
            } else if body.requestId == "friends" {
                self.loaded.continuation.finish()
            }
            guard body.requestId != "friends" || !body.friends.isEmpty else { return }
            if body.friends.isEmpty { ClientConsole.print("No friends yet: /add NAME asks someone.") }
            for friend in body.friends {
                ClientConsole.print(
                    "  \(Self.clean(friend.username))\(friend.alias.map { " (\(Self.clean($0)))" } ?? "") · \(friend.online ? "online" : "offline")\(friend.unread > 0 ? " · \(friend.unread) unread" : "")"
                )
            }
        case .friendRequests(let body):
            for request in body.incoming {
                ClientConsole.print("Request #\(request.friendRequestId) from \(Self.clean(request.from.username)): \(Self.clean(request.message)) — /accept \(request.friendRequestId) or /decline \(request.friendRequestId)")
            }
            for request in body.outgoing where body.requestId != "requests" {
                ClientConsole.print("Waiting for \(Self.clean(request.to.username)) to answer #\(request.friendRequestId).")
            }
            if body.hasMore { ClientConsole.print("More requests wait: answer these, then /requests lists the next.") }
        case .friendRequestReceived(let body):
            let request = body.request
            ClientConsole.print("Request #\(request.friendRequestId) from \(Self.clean(request.from.username)): \(Self.clean(request.message)) — /accept \(request.friendRequestId) or /decline \(request.friendRequestId)")
        case .friendRequestSent(let body):
            ClientConsole.print("Friend request sent to \(Self.clean(body.request.to.username)).")
        case .friendRequestResolved(let body):
            if let friend = body.friend {
                self.remember(friend)
                ClientConsole.print("You and \(Self.clean(friend.username)) are friends now.")
            } else {
                ClientConsole.print("Friend request #\(body.friendRequestId) was declined.")
            }
        case .searchResults(let body):
            if let requestId = body.requestId, let adding = self.state.withLock({ $0.adding.removeValue(forKey: requestId) }) {
                guard let user = body.users.first(where: { $0.username.lowercased() == adding.name.lowercased() }) else {
                    ClientConsole.print("There is no user \(Self.clean(adding.name)).")
                    return
                }
                Task { try? await self.connection.send(.sendFriendRequest(ChatSendFriendRequest(toUserId: user.userId, message: adding.message))) }
                return
            }
            if body.users.isEmpty { ClientConsole.print("Nobody found.") }
            for user in body.users {
                ClientConsole.print("  \(Self.clean(user.username)) · \(user.relation.rawValue.replacingOccurrences(of: "_", with: " "))")
            }
        case .presence(let body):
            ClientConsole.print("\(Self.clean(self.name(body.userId))) is \(body.online ? "online" : "offline").")
        case .message(let body):
            ClientConsole.print("\(Self.clean(self.name(body.fromUserId))): \(Self.clean(body.text))")
        case .syncResult(let body):
            for text in body.messages {
                ClientConsole.print("  #\(text.seq) \(Self.clean(self.name(text.fromUserId))): \(Self.clean(text.text))")
            }
            if body.messages.isEmpty { ClientConsole.print("  (no messages)") }
        case .error(let body):
            ClientConsole.print("error: \(Self.clean(body.message))")
            if body.closing { self.loaded.continuation.finish() }
        case .kicked(let body):
            ClientConsole.print("Disconnected: \(Self.clean(body.message))")
        case .textAck, .heartbeatAck, .ok:
            break
        default:
            break
        }
    }

    /// Carries out one typed line; `false` to quit.
    func command(_ line: String) async -> Bool {
        let words = line.split(separator: " ", maxSplits: 2, omittingEmptySubsequences: true).map(String.init)
        guard let verb = words.first else { return true }
        let id = self.state.withLock { state in
            state.nextRequest += 1
            return "c\(state.nextRequest)"
        }
        do {
            switch verb {
            case "/quit", "/exit":
                return false
            case "/help":
                ClientConsole.print("/search NAME · /add NAME [MESSAGE] · /requests · /accept ID [ALIAS] · /decline ID · /friends · /msg NAME TEXT · /history NAME · /quit")
            case "/search" where words.count > 1:
                try await self.connection.send(.searchUsers(ChatSearchUsers(requestId: id, query: words[1])))
            case "/add" where words.count > 1:
                self.state.withLock { $0.adding[id] = (words[1], words.count > 2 ? words[2] : "") }
                try await self.connection.send(.searchUsers(ChatSearchUsers(requestId: id, query: words[1])))
            case "/requests":
                try await self.connection.send(.listFriendRequests(ChatListFriendRequests(requestId: id)))
            case "/accept" where words.count > 1:
                guard let request = Int64(words[1]) else { throw ParleyError(.invalidInput, "/accept takes a request number") }
                try await self.connection.send(
                    .acceptFriendRequest(ChatAcceptFriendRequest(requestId: id, friendRequestId: request, alias: words.count > 2 ? words[2] : nil))
                )
            case "/decline" where words.count > 1:
                guard let request = Int64(words[1]) else { throw ParleyError(.invalidInput, "/decline takes a request number") }
                try await self.connection.send(.declineFriendRequest(ChatDeclineFriendRequest(requestId: id, friendRequestId: request)))
            case "/friends":
                try await self.connection.send(.listFriends(ChatListFriends(requestId: id)))
            case "/msg" where words.count > 2:
                let friend = try self.friend(words[1])
                try await self.connection.send(.sendText(ChatSendText(clientMessageId: UUID().uuidString, toUserId: friend.userId, text: words[2])))
            case "/history" where words.count > 1:
                let friend = try self.friend(words[1])
                // The last 50 texts as of the friends list, and any newer.
                let after = max(0, friend.lastSeq - 50)
                try await self.connection.send(.sync(ChatSync(requestId: id, conversationId: friend.conversationId, afterSeq: after)))
            default:
                ClientConsole.print("Unknown command or missing argument; /help lists them.")
            }
        } catch let error as ParleyError {
            ClientConsole.print("error: \(error.message)")
        } catch {
            ClientConsole.print("error: \(error)")
            return false
        }
        return true
    }

    /// A friend by username, or by the alias given them.
    private func friend(_ name: String) throws -> ChatFriend {
        let key = name.lowercased()
        let found = self.state.withLock { state in
            state.friends[key] ?? state.friends.values.first { $0.alias?.lowercased() == key }
        }
        guard let friend = found else {
            throw ParleyError(.notFound, "\(Self.clean(name)) is not one of your friends (/friends lists them).")
        }
        return friend
    }
}
