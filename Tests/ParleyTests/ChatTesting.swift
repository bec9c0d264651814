import Foundation
import HummingbirdWSClient
import JSONRPC
import Logging
import NIOCore
import NIOWebSocket
import ParleyBackend
import ParleyBalancer
import ParleyChat
import ParleyCore
import ParleyGateway
import ParleyStorage
import ServiceLifecycle
import Synchronization
import Testing

/// A chat system in one test: a backend on an in-memory SQLite database, a balancer, chat servers,
/// all on 127.0.0.1 with free ports, talking their real protocols (JSON-RPC, gRPC, chat frames).
final class ChatSystem: Sendable {
    static let secret = try! ChatSecret("0123456789abcdef0123456789abcdef-chat-test-secret")
    static let quiet: Logger = {
        var logger = Logger(label: "parley.chat.test")
        logger.logLevel = .critical
        return logger
    }()

    let storage: SQLiteStorage
    let store: RPCBackend
    let balancer: BalancerClient
    let balancerServer: BalancerServer
    private let rpc: JSONRPCClient
    private let group: Mutex<[String: (ServiceGroup, Task<Void, Never>)]> = Mutex([:])
    private let servers: Mutex<[String: ChatServer]> = Mutex([:])
    private let background: Task<Void, any Error>

    private init(
        storage: SQLiteStorage, store: RPCBackend, rpc: JSONRPCClient, balancer: BalancerClient, balancerServer: BalancerServer,
        background: Task<Void, any Error>
    ) {
        self.storage = storage
        self.balancerServer = balancerServer
        self.store = store
        self.rpc = rpc
        self.balancer = balancer
        self.background = background
    }

    /// Runs `body` with a backend and a balancer running; chat servers are added with `startChatServer`.
    static func with(_ body: (ChatSystem) async throws -> Void) async throws {
        let storage = try await SQLiteStorage.open(path: ":memory:", logger: Self.quiet)
        let backend = BackendServer(storage: storage, configuration: .init(port: 0, bcryptCost: 4, logger: Self.quiet))
        let balancerServer = BalancerServer(
            configuration: .init(port: 0, secret: Self.secret, registry: .init(reportInterval: .milliseconds(200), lease: .seconds(5))),
            logger: Self.quiet
        )
        let services: [any Service] = [backend, balancerServer]
        let background = Task {
            try await withThrowingDiscardingTaskGroup { group in
                for service in services { group.addTask { try await service.run() } }
            }
        }
        let backendPort = try #require(await backend.boundAddress()?.port)
        let balancerPort = try await balancerServer.boundPort()
        let rpc = JSONRPCClient(configuration: .init(host: "127.0.0.1", port: backendPort, requestTimeout: .seconds(10), logger: Self.quiet))
        let balancer = try BalancerClient(host: "127.0.0.1", port: balancerPort, timeout: .seconds(5), logger: Self.quiet)
        let balancerTask = Task { try await balancer.run() }
        let system = ChatSystem(
            storage: storage, store: RPCBackend(client: rpc, logger: Self.quiet), rpc: rpc, balancer: balancer,
            balancerServer: balancerServer, background: background
        )
        do {
            try await body(system)
        } catch {
            await system.stop(balancerTask)
            throw error
        }
        await system.stop(balancerTask)
    }

    private func stop(_ balancerTask: Task<Void, any Error>) async {
        for name in self.group.withLock({ Array($0.keys) }) {
            await self.stopChatServer(name)
        }
        balancerTask.cancel()
        _ = await balancerTask.result
        await self.rpc.shutdown()
        self.background.cancel()
        _ = await self.background.result
        // Cancelled, the backend may not have closed it.
        try? await self.storage.close()
    }

    /// Starts a chat server registered with the balancer; returns it once both ports are bound.
    @discardableResult
    func startChatServer(_ configuration: ChatServerConfiguration, store: (any ChatRepository)? = nil) async throws -> ChatServer {
        var configuration = configuration
        configuration.tcpPort = 0
        configuration.webSocketPort = 0
        let server = try await ChatServer.bind(
            configuration: configuration, store: store ?? self.store, secret: Self.secret, balancer: self.balancer, logger: Self.quiet
        )
        let group = ServiceGroup(services: [server], logger: Self.quiet)
        let task = Task { _ = try? await group.run() }
        self.group.withLock { $0[configuration.name] = (group, task) }
        self.servers.withLock { $0[configuration.name] = server }
        _ = try await server.webSocketPort()
        // Registered with the balancer?
        let deadline = ContinuousClock.now + .seconds(5)
        while !self.balancerServer.registry.servers().contains(where: { $0.info.name == configuration.name }) {
            guard ContinuousClock.now < deadline else { throw ChatTestError("\(configuration.name) did not register") }
            try await Task.sleep(for: .milliseconds(10))
        }
        return server
    }

    /// Stops a chat server gracefully, as SIGTERM does (its clients are kicked with `shutting_down`).
    func stopChatServer(_ name: String) async {
        guard let (group, task) = self.group.withLock({ $0.removeValue(forKey: name) }) else { return }
        await group.triggerGracefulShutdown()
        await task.value
    }

    /// A registered account.
    func register(_ name: String) async throws -> Int64 {
        try await self.storage.users.create(username: try Username(name), passwordHash: "unused", now: Date()).id
    }

    /// A ticket from the balancer for a user.
    func ticket(_ userID: Int64, _ username: String) async throws -> ChatAssignment {
        try await self.balancer.assign(userID: userID, username: username)
    }

    /// Connects over TCP with a new ticket and authenticates.
    func login(_ userID: Int64, _ username: String) async throws -> ChatTestClient {
        let assignment = try await self.ticket(userID, username)
        let client = try await ChatTestClient.tcp(host: assignment.host, port: assignment.tcpPort)
        try await client.send(.authenticate(ChatAuthenticate(requestId: "auth", token: assignment.token)))
        let answer = try await client.next()
        guard case .authenticated(let body) = answer else {
            throw ChatTestError("authenticate answered \(answer)")
        }
        client.serverName = body.serverName
        return client
    }

    /// Connects over WebSocket with a new ticket and authenticates.
    func loginWebSocket(_ userID: Int64, _ username: String) async throws -> ChatTestClient {
        let assignment = try await self.ticket(userID, username)
        let client = try await ChatTestClient.webSocket(url: assignment.websocketURL)
        try await client.send(.authenticate(ChatAuthenticate(token: assignment.token)))
        let answer = try await client.next()
        guard case .authenticated(let body) = answer else {
            throw ChatTestError("authenticate answered \(answer)")
        }
        client.serverName = body.serverName
        return client
    }
}

struct ChatTestError: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}

/// A test's chat client, TCP or WebSocket: sends messages and collects what the server sends.
final class ChatTestClient: Sendable {
    private struct Inbox {
        var messages: [ChatMessage] = []
        var closed = false
        var closeCode: Int?
    }

    private let inbox = Mutex(Inbox())
    private let sender: @Sendable (ChatMessage) async throws -> Void
    private let closer: @Sendable () async -> Void
    private let name = Mutex<String?>(nil)
    /// The TCP connection, for raw bytes.
    let tcp: ChatClientConnection?

    /// The chat server that authenticated this client.
    var serverName: String? {
        get { self.name.withLock { $0 } }
        set { self.name.withLock { $0 = newValue } }
    }

    private init(
        tcp: ChatClientConnection?, sender: @escaping @Sendable (ChatMessage) async throws -> Void,
        closer: @escaping @Sendable () async -> Void
    ) {
        self.tcp = tcp
        self.sender = sender
        self.closer = closer
    }

    static func tcp(host: String, port: Int) async throws -> ChatTestClient {
        let connection = try await ChatClientConnection.connect(host: host, port: port)
        let client = ChatTestClient(tcp: connection, sender: { try await connection.send($0) }, closer: { await connection.close() })
        Task {
            for await message in connection.messages { client.received(message) }
            client.ended(code: nil)
        }
        return client
    }

    static func webSocket(url: String) async throws -> ChatTestClient {
        let (outgoing, continuation) = AsyncStream<String>.makeStream()
        let client = ChatTestClient(
            tcp: nil,
            sender: { message in continuation.yield(try message.encodeWebSocketText()) },
            closer: { continuation.finish() }
        )
        let connected = AsyncStream<Void>.makeStream()
        Task {
            let frame = try? await WebSocketClient.connect(url: url, logger: ChatSystem.quiet) { inbound, outbound, _ in
                connected.continuation.yield()
                try await withThrowingTaskGroup(of: Void.self) { group in
                    group.addTask {
                        for await text in outgoing { try await outbound.write(.text(text)) }
                        try await outbound.close(.normalClosure, reason: nil)
                    }
                    for try await message in inbound.messages(maxSize: 1 << 20) {
                        if case .text(let text) = message, let decoded = try? ChatMessage.decode(webSocketText: text, direction: .serverToClient) {
                            client.received(decoded)
                        }
                    }
                    group.cancelAll()
                }
            }
            connected.continuation.finish()
            client.ended(code: frame.map { Int(UInt16(webSocketErrorCode: $0.closeCode)) })
        }
        for await _ in connected.stream { break }
        return client
    }

    private func received(_ message: ChatMessage) {
        self.inbox.withLock { $0.messages.append(message) }
    }

    private func ended(code: Int?) {
        self.inbox.withLock {
            $0.closed = true
            $0.closeCode = code
        }
    }

    func send(_ message: ChatMessage) async throws {
        try await self.sender(message)
    }

    func close() async {
        await self.closer()
    }

    /// The next message in arrival order.
    func next(timeout: Duration = .seconds(5), line: Int = #line) async throws -> ChatMessage {
        try await self.first(timeout: timeout, line: line) { _ in true }
    }

    /// Takes the first message that matches, leaving the others in order.
    func first(timeout: Duration = .seconds(5), line: Int = #line, where predicate: (ChatMessage) -> Bool) async throws -> ChatMessage {
        let deadline = ContinuousClock.now + timeout
        while true {
            let (found, closed): (ChatMessage?, Bool) = self.inbox.withLock { inbox in
                if let index = inbox.messages.firstIndex(where: predicate) {
                    return (inbox.messages.remove(at: index), inbox.closed)
                }
                return (nil, inbox.closed)
            }
            if let found { return found }
            if closed { throw ChatTestError("line \(line): the connection closed while waiting; held: \(self.pending)") }
            if ContinuousClock.now > deadline {
                throw ChatTestError("line \(line): no matching message within \(timeout); held: \(self.pending)")
            }
            try await Task.sleep(for: .milliseconds(5))
        }
    }

    /// The messages received and not taken yet.
    var pending: [ChatMessage] { self.inbox.withLock { $0.messages } }

    /// Waits until the server closed the connection; returns the WebSocket close code, if any.
    @discardableResult
    func waitUntilClosed(timeout: Duration = .seconds(5)) async throws -> Int? {
        let deadline = ContinuousClock.now + timeout
        while ContinuousClock.now < deadline {
            if let code = self.inbox.withLock({ $0.closed ? .some($0.closeCode) : nil }) { return code }
            try await Task.sleep(for: .milliseconds(10))
        }
        throw ChatTestError("the connection is still open after \(timeout)")
    }

    var isClosed: Bool { self.inbox.withLock { $0.closed } }
}

extension ChatMessage {
    /// The error body, if this is an error.
    var errorBody: ChatError? {
        if case .error(let body) = self { return body }
        return nil
    }
}

/// The chat store of the backend, except that `pendingFriendRequests` waits while stalled, as a
/// backend that hangs does.
final class StallingChatStore: ChatRepository {
    private let store: any ChatRepository
    private let gate = Mutex<(stalled: Bool, waiting: [CheckedContinuation<Void, Never>])>((false, []))

    init(_ store: any ChatRepository) {
        self.store = store
    }

    func stall() {
        self.gate.withLock { $0.stalled = true }
    }

    func release() {
        let waiting = self.gate.withLock { gate in
            defer { gate = (false, []) }
            return gate.waiting
        }
        for continuation in waiting { continuation.resume() }
    }

    func pendingFriendRequests(userID: Int64) async throws -> ParleyCore.FriendRequestLists {
        await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
            let waits = self.gate.withLock { gate in
                if gate.stalled { gate.waiting.append(continuation) }
                return gate.stalled
            }
            if !waits { continuation.resume() }
        }
        return try await self.store.pendingFriendRequests(userID: userID)
    }

    func user(id: Int64) async throws -> ParleyCore.ChatUser? { try await self.store.user(id: id) }
    func searchUsers(prefix: String, callerID: Int64, limit: Int) async throws -> [ParleyCore.ChatUserMatch] {
        try await self.store.searchUsers(prefix: prefix, callerID: callerID, limit: limit)
    }
    func createFriendRequest(fromUserID: Int64, toUserID: Int64, message: String, alias: String?, now: Date) async throws -> ParleyCore.FriendRequest {
        try await self.store.createFriendRequest(fromUserID: fromUserID, toUserID: toUserID, message: message, alias: alias, now: now)
    }
    func acceptFriendRequest(id: Int64, userID: Int64, alias: String?, now: Date) async throws -> ParleyCore.AcceptedFriendRequest {
        try await self.store.acceptFriendRequest(id: id, userID: userID, alias: alias, now: now)
    }
    func declineFriendRequest(id: Int64, userID: Int64, now: Date) async throws -> ParleyCore.FriendRequest {
        try await self.store.declineFriendRequest(id: id, userID: userID, now: now)
    }
    func friends(userID: Int64) async throws -> [ParleyCore.Friendship] { try await self.store.friends(userID: userID) }
    func sendText(fromUserID: Int64, toUserID: Int64, clientMessageID: String, text: String, now: Date) async throws -> ParleyCore.TextReceipt {
        try await self.store.sendText(fromUserID: fromUserID, toUserID: toUserID, clientMessageID: clientMessageID, text: text, now: now)
    }
    func texts(conversationID: Int64, userID: Int64, afterSeq: Int64, limit: Int) async throws -> ParleyCore.ChatPage {
        try await self.store.texts(conversationID: conversationID, userID: userID, afterSeq: afterSeq, limit: limit)
    }
    func markRead(conversationID: Int64, userID: Int64, seq: Int64) async throws {
        try await self.store.markRead(conversationID: conversationID, userID: userID, seq: seq)
    }
}

extension ChatRepository {
    /// Makes two users friends straight in storage: `asker` asks, naming the other `alias`, and
    /// `accepter` accepts.
    func befriend(_ asker: Int64, _ accepter: Int64, alias: String?) async throws {
        let request = try await self.createFriendRequest(fromUserID: asker, toUserID: accepter, message: "hi", alias: alias, now: Date())
        _ = try await self.acceptFriendRequest(id: request.id, userID: accepter, alias: nil, now: Date())
    }
}
