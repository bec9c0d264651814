import Foundation
import Logging
import ParleyBalancer
import ParleyCore

/// What a chat server's connections share: the hub, the store (the backend, over JSON-RPC),
/// the ticket verifier and the configuration.
struct ChatServices: Sendable {
    let configuration: ChatServerConfiguration
    let hub: ChatHub
    let store: any ChatRepository
    let verifier: ChatTicketVerifier
    let logger: Logger
}

/// What a transport hands to a connection's session, in arrival order.
enum ChatInbound: Sendable {
    /// A message decoded from a frame.
    case message(ChatMessage)
    /// A frame that could not be carried out: its error answer (decoding, rate limit).
    case refused(ChatError)

    /// A client's frame as its session takes it: the decoded message; or refused, with the
    /// decoder's answer, or `rate_limited` (with the message's ids) when it was not `admitted`.
    init(admitted: Bool, decoding decode: () throws(ChatMessageDecodingError) -> ChatMessage) {
        let message: ChatMessage
        do {
            message = try decode()
        } catch {
            self = .refused(error.reply ?? ChatError(code: .invalidInput, message: error.message))
            return
        }
        guard admitted else {
            var refusal = ChatError(code: .rateLimited, message: "Too many messages: slow down and try again in a second.")
            refusal.requestId = ChatSession.requestId(of: message)
            if case .sendText(let body) = message { refusal.clientMessageId = body.clientMessageId }
            self = .refused(refusal)
            return
        }
        self = .message(message)
    }
}

/// One connection's conversation with the server: handles its messages one at a time, in order,
/// and answers in that order. Identity comes only from the ticket accepted by `authenticate`.
struct ChatSession: Sendable {
    let connection: ChatConnection
    let services: ChatServices
    /// The user, once authenticated.
    private(set) var user: ChatUser?

    init(connection: ChatConnection, services: ChatServices) {
        self.connection = connection
        self.services = services
    }

    private var hub: ChatHub { self.services.hub }
    private var store: any ChatRepository { self.services.store }

    /// ``handle(_:)`` in a child task. A task keeps the largest stack it ever had until it ends,
    /// and handling a message goes deep (a ticket check, a JSON-RPC round trip): run in the
    /// connection's own task, it would keep about 11 KB per idle connection for the connection's
    /// life (heaptrack); in a child task it is freed once the message is handled.
    mutating func handleInChildTask(_ inbound: ChatInbound) async -> Bool {
        let session = self
        let (keepGoing, updated) = await withTaskGroup(of: (Bool, ChatSession).self) { group in
            group.addTask {
                var session = session
                return (await session.handle(inbound), session)
            }
            return await group.next() ?? (false, session)
        }
        self = updated
        return keepGoing
    }

    /// Handles one inbound item. Returns `false` when the session is over (the connection closes).
    mutating func handle(_ inbound: ChatInbound) async -> Bool {
        switch inbound {
        case .refused(let error):
            if self.user == nil, error.code != .rateLimited {
                // Nothing but `authenticate` is read before authentication.
                self.refuseUnauthenticated(requestId: error.requestId)
                return false
            }
            self.connection.send(.error(error))
            return true
        case .message(let message):
            guard let user = self.user else {
                guard case .authenticate(let body) = message else {
                    self.refuseUnauthenticated(requestId: Self.requestId(of: message))
                    return false
                }
                return await self.authenticate(body)
            }
            do {
                return try await self.handle(message, as: user)
            } catch {
                self.connection.send(.error(self.chatError(error, for: message)))
                return true
            }
        }
    }

    // MARK: Session

    private mutating func authenticate(_ body: ChatAuthenticate) async -> Bool {
        let ticket: ChatTicket
        do {
            ticket = try self.services.verifier.verify(body.token)
        } catch {
            self.services.logger.info("chat ticket refused", metadata: ["error": "\(error)"])
            self.refuseUnauthenticated(requestId: body.requestId, message: "The ticket is not valid here: get a new one.")
            return false
        }
        let stored: ParleyCore.ChatUser
        let friends: [Friendship]
        do {
            guard let found = try await self.store.user(id: ticket.userID) else {
                self.refuseUnauthenticated(requestId: body.requestId, message: "The account no longer exists.")
                return false
            }
            stored = found
            friends = try await self.store.friends(userID: ticket.userID)
        } catch {
            // The backend is away: the client may try `authenticate` again.
            self.connection.send(.error(self.chatError(error, requestId: body.requestId)))
            return true
        }
        let user = ChatUser(userId: stored.id, username: stored.username, nickname: stored.nickname)
        self.user = user
        let configuration = self.services.configuration
        // The answer first: no push may reach the client before it.
        self.connection.send(
            .authenticated(
                ChatAuthenticated(
                    requestId: body.requestId, user: user, serverName: configuration.name,
                    heartbeatSeconds: configuration.heartbeatSeconds, idleTimeoutSeconds: configuration.idleTimeoutSeconds
                )
            )
        )
        self.connection.authenticated(as: stored.id)
        let replaced = self.hub.attach(self.connection, userID: stored.id, friends: Set(friends.map(\.friend.id)))
        replaced?.close(
            after: .kicked(ChatKicked(reason: .loggedInElsewhere, message: "You logged in on another connection.")),
            webSocketCode: 1000
        )
        return true
    }

    private func refuseUnauthenticated(requestId: String?, message: String = "Send authenticate with a ticket first.") {
        self.connection.close(
            after: .error(ChatError(code: .unauthenticated, message: message, requestId: requestId, closing: true)),
            webSocketCode: 1008
        )
    }

    // MARK: Requests

    private func handle(_ message: ChatMessage, as user: ChatUser) async throws -> Bool {
        let me = user.userId
        switch message {
        case .authenticate(let body):
            throw ChatError(code: .invalidInput, message: "This connection is already authenticated.", requestId: body.requestId)
        case .heartbeat:
            self.connection.send(.heartbeatAck(ChatHeartbeatAck(serverTime: Self.milliseconds(Date()))))
        case .logout(let body):
            self.connection.close(after: .ok(ChatOK(requestId: body.requestId)), webSocketCode: 1000)
            return false
        case .searchUsers(let body):
            let matches = try await self.store.searchUsers(
                prefix: Username.key(body.query.trimmingCharacters(in: .whitespaces)), callerID: me,
                limit: body.limit ?? ChatLimits.defaultSearchLimit
            )
            let users = matches.map {
                ChatUserMatch(
                    userId: $0.user.id, username: $0.user.username, nickname: $0.user.nickname,
                    relation: ChatRelation(rawValue: $0.relation.rawValue) ?? .none
                )
            }
            self.connection.send(.searchResults(ChatSearchResults(requestId: body.requestId, users: users)))
        case .sendFriendRequest(let body):
            guard body.toUserId != me else {
                throw ChatError(code: .selfRequest, message: "You cannot befriend yourself.", requestId: body.requestId)
            }
            let request = try await self.store.createFriendRequest(
                fromUserID: me, toUserID: body.toUserId, message: body.message, alias: body.alias, now: Date()
            )
            self.connection.send(
                .friendRequestSent(ChatFriendRequestSent(requestId: body.requestId, request: Self.request(request, withAlias: true)))
            )
            self.hub.session(of: body.toUserId)?.send(
                .friendRequestReceived(ChatFriendRequestReceived(request: Self.request(request, withAlias: false)))
            )
        case .listFriendRequests(let body):
            let lists = try await self.store.pendingFriendRequests(userID: me)
            let answer = ChatFriendRequests(
                requestId: body.requestId,
                incoming: lists.incoming.map { Self.request($0, withAlias: false) },
                outgoing: lists.outgoing.map { Self.request($0, withAlias: true) }
            )
            // One frame holds at most 64 KiB: the newest requests wait for a later list.
            self.connection.send(.friendRequests(answer)) { message in
                guard case .friendRequests(var answer) = message, !(answer.incoming.isEmpty && answer.outgoing.isEmpty) else { return nil }
                if answer.incoming.count >= answer.outgoing.count { answer.incoming.removeLast() } else { answer.outgoing.removeLast() }
                answer.hasMore = true
                return .friendRequests(answer)
            }
        case .acceptFriendRequest(let body):
            let accepted = try await self.store.acceptFriendRequest(id: body.friendRequestId, userID: me, alias: body.alias, now: Date())
            let senderID = accepted.request.from.id
            self.hub.befriend(me, senderID)
            let senderSession = self.hub.session(of: senderID)
            self.connection.send(
                .friendRequestResolved(
                    ChatFriendRequestResolved(
                        requestId: body.requestId, friendRequestId: body.friendRequestId, outcome: .accepted,
                        friend: Self.friend(accepted.accepterView, online: senderSession != nil)
                    )
                )
            )
            self.hub.correctPresence(shown: [senderID: senderSession != nil], on: self.connection)
            if let senderSession {
                senderSession.send(
                    .friendRequestResolved(
                        ChatFriendRequestResolved(
                            friendRequestId: body.friendRequestId, outcome: .accepted,
                            friend: Self.friend(accepted.senderView, online: true)
                        )
                    )
                )
                self.hub.correctPresence(shown: [me: true], on: senderSession)
            }
        case .declineFriendRequest(let body):
            let declined = try await self.store.declineFriendRequest(id: body.friendRequestId, userID: me, now: Date())
            self.connection.send(
                .friendRequestResolved(
                    ChatFriendRequestResolved(requestId: body.requestId, friendRequestId: body.friendRequestId, outcome: .declined)
                )
            )
            self.hub.session(of: declined.from.id)?.send(
                .friendRequestResolved(ChatFriendRequestResolved(friendRequestId: body.friendRequestId, outcome: .declined))
            )
        case .listFriends(let body):
            var friends = try await self.store.friends(userID: me)
            if let after = body.after.map(Username.key) {
                // The store lists friends by the bytes of their keys (SQLite, and PostgreSQL's "C" collation).
                friends.removeAll { !after.utf8.lexicographicallyPrecedes(Username.key($0.friend.username).utf8) }
            }
            let answer = ChatFriends(
                requestId: body.requestId, friends: friends.map { Self.friend($0, online: self.hub.isOnline($0.friend.id)) }
            )
            // One frame holds at most 64 KiB (some 300 friends): the rest on the next page.
            self.connection.send(.friends(answer)) { message in
                guard case .friends(var answer) = message, !answer.friends.isEmpty else { return nil }
                answer.friends.removeLast(max(1, answer.friends.count / 10))
                answer.hasMore = true
                return .friends(answer)
            }
            self.hub.correctPresence(
                shown: Dictionary(answer.friends.map { ($0.userId, $0.online) }, uniquingKeysWith: { first, _ in first }), on: self.connection
            )
        case .sendText(let body):
            let receipt = try await self.store.sendText(
                fromUserID: me, toUserID: body.toUserId, clientMessageID: body.clientMessageId, text: body.text, now: Date()
            )
            let text = receipt.text
            self.connection.send(
                .textAck(
                    ChatTextAck(
                        clientMessageId: body.clientMessageId, conversationId: text.conversationID, seq: text.seq,
                        sentAt: text.sentAt, duplicate: receipt.duplicate
                    )
                )
            )
            // Pushed again on a resend too: the first try may have been stored without its push
            // (an answer lost on the way back); a receiver ignores a seq it holds.
            self.hub.session(of: receipt.receiverID)?.send(.message(Self.message(text, viewer: receipt.receiverID)))
        case .sync(let body):
            let page = try await self.store.texts(
                conversationID: body.conversationId, userID: me, afterSeq: body.afterSeq,
                limit: body.limit ?? ChatLimits.defaultSyncLimit
            )
            let result = ChatSyncResult(
                requestId: body.requestId, conversationId: body.conversationId,
                messages: page.texts.map { Self.message($0, viewer: me) }, lastSeq: page.lastSeq, hasMore: page.hasMore
            )
            // One frame holds at most 64 KiB: texts are dropped from the end, and `hasMore` set,
            // until it fits; one text always fits (its limits keep it far below the frame's).
            self.connection.send(.syncResult(result)) { message in
                guard case .syncResult(var result) = message, result.messages.count > 1 else { return nil }
                result.messages.removeLast(max(1, result.messages.count / 10))
                result.hasMore = true
                return .syncResult(result)
            }
        case .markRead(let body):
            try await self.store.markRead(conversationID: body.conversationId, userID: me, seq: body.seq)
            self.connection.send(.ok(ChatOK(requestId: body.requestId)))
        case .authenticated, .heartbeatAck, .kicked, .ok, .error, .searchResults, .friendRequestSent, .friendRequestReceived,
            .friendRequests, .friendRequestResolved, .friends, .presence, .textAck, .message, .syncResult:
            // The decoder refuses server types from clients; this is only reached when it did not.
            throw ChatError(code: .invalidInput, message: "\(message.type.name) is sent by the server only.", requestId: Self.requestId(of: message))
        }
        return true
    }

    // MARK: Conversions

    static func message(_ text: ChatText, viewer: Int64) -> ChatTextMessage {
        ChatTextMessage(
            conversationId: text.conversationID, seq: text.seq, fromUserId: text.senderID, text: text.text, sentAt: text.sentAt,
            clientMessageId: text.senderID == viewer ? text.clientMessageID : nil
        )
    }

    static func user(_ user: ParleyCore.ChatUser) -> ChatUser {
        ChatUser(userId: user.id, username: user.username, nickname: user.nickname)
    }

    static func request(_ request: FriendRequest, withAlias: Bool) -> ChatFriendRequest {
        ChatFriendRequest(
            friendRequestId: request.id, from: Self.user(request.from), to: Self.user(request.to), message: request.message,
            alias: withAlias ? request.alias : nil, createdAt: request.createdAt
        )
    }

    static func friend(_ friendship: Friendship, online: Bool) -> ChatFriend {
        ChatFriend(
            userId: friendship.friend.id, username: friendship.friend.username, nickname: friendship.friend.nickname,
            alias: friendship.alias, online: online, conversationId: friendship.conversationID, lastSeq: friendship.lastSeq,
            readSeq: friendship.readSeq, unread: friendship.unread
        )
    }

    static func milliseconds(_ date: Date) -> Int64 {
        Int64((date.timeIntervalSince1970 * 1000).rounded(.down))
    }

    // MARK: Errors

    /// The error frame for a failed request: the store's `ParleyError`s keep their code (a backend
    /// that does not lead is `unavailable`); anything else is `internal`, logged.
    private func chatError(_ error: any Error, for message: ChatMessage) -> ChatError {
        var answer = self.chatError(error, requestId: Self.requestId(of: message))
        if case .sendText(let body) = message {
            answer.clientMessageId = body.clientMessageId
        }
        return answer
    }

    private func chatError(_ error: any Error, requestId: String?) -> ChatError {
        switch error {
        case var error as ChatError:
            error.requestId = error.requestId ?? requestId
            return error
        case let error as ParleyError:
            let code: ChatErrorCode =
                switch error.code {
                case .notLeader: .unavailable
                default: ChatErrorCode(rawValue: error.code.rawValue) ?? .internal
                }
            if code == .internal {
                self.services.logger.error("chat request failed", metadata: ["error": "\(error)"])
            }
            return ChatError(code: code, message: code == .internal ? "Something went wrong on our side." : error.message, requestId: requestId)
        default:
            self.services.logger.error("chat request failed", metadata: ["error": "\(type(of: error)): \(error)"])
            return ChatError(code: .internal, message: "Something went wrong on our side.", requestId: requestId)
        }
    }

    /// The `requestId` of a client request, if it has one.
    static func requestId(of message: ChatMessage) -> String? {
        switch message {
        case .authenticate(let body): body.requestId
        case .logout(let body): body.requestId
        case .searchUsers(let body): body.requestId
        case .sendFriendRequest(let body): body.requestId
        case .listFriendRequests(let body): body.requestId
        case .acceptFriendRequest(let body): body.requestId
        case .declineFriendRequest(let body): body.requestId
        case .listFriends(let body): body.requestId
        case .sync(let body): body.requestId
        case .markRead(let body): body.requestId
        default: nil
        }
    }
}
