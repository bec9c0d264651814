import Foundation
import Hummingbird
import HummingbirdCore
import HummingbirdWebSocket
import NIOWebSocket
import Logging
import NIOCore
import NIOPosix
import ParleyBalancer
import ParleyCore
import ServiceLifecycle

/// A chat server (`parley serve chat`): clients with a ticket from the balancer connect over TCP
/// frames or WebSocket (`/chat`); everything stored goes to `store` (the backend, over JSON-RPC).
///
/// Create it with ``bind(configuration:store:verifier:balancer:logger:)``, which binds the TCP
/// port (so ``tcpPort`` is known at once), then run it in a service group. It registers with the
/// balancer once both ports are bound and reports its connection count until shutdown. On
/// graceful shutdown every client gets `kicked` (`shutting_down`) and is closed.
public final class ChatServer: Service, Sendable {
    /// The configuration it was started with.
    public let configuration: ChatServerConfiguration
    /// The bound TCP port.
    public let tcpPort: Int

    private let services: ChatServices
    private let listener: any Channel
    /// TCP connections with frames to handle and no task handling them.
    private let ready: AsyncStream<ChatInbox>
    private let balancer: (any ChatServerReporting)?
    private let webSocketBound: EventLoopPromise<Int>

    /// Binds the TCP port and prepares the server; ``run()`` serves.
    ///
    /// - Parameters:
    ///   - store: The chat store: the backend (its JSON-RPC client), or storage directly in tests.
    ///   - verifier: Checks tickets; bound to `configuration.name`.
    ///   - balancer: Where to register and report load; `nil` for none.
    public static func bind(
        configuration: ChatServerConfiguration,
        store: any ChatRepository,
        secret: ChatSecret,
        balancer: (any ChatServerReporting)?,
        logger: Logger = Logger(label: "parley.chat")
    ) async throws -> ChatServer {
        let services = ChatServices(
            configuration: configuration, hub: ChatHub(), store: store,
            verifier: ChatTicketVerifier(secret: secret, serverName: configuration.name), logger: logger
        )
        let (ready, readyContinuation) = AsyncStream<ChatInbox>.makeStream()
        let listener = try await ServerBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
            .serverChannelOption(.backlog, value: 1024)
            .childChannelOption(.tcpOption(.tcp_nodelay), value: 1)
            // Most frames are small: start reads at 512 bytes (NIO's default is 2 KiB), grow as needed.
            .childChannelOption(.recvAllocator, value: AdaptiveRecvByteBufferAllocator(minimum: 64, initial: 512, maximum: 65_536))
            .childChannelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    let connection = ChatConnection(transport: .tcp(channel), outgoingQueueBytes: configuration.outgoingQueueBytes)
                    let inbox = ChatInbox(
                        session: ChatSession(connection: connection, services: services), channel: channel,
                        limit: configuration.inboundQueueFrames, ready: readyContinuation
                    )
                    try channel.pipeline.syncOperations.addHandlers(
                        ByteToMessageHandler(ChatFrameDecoder(), maximumBufferSize: ChatFrame.headerLength + ChatFrame.maximumBodyLength),
                        MessageToByteHandler(ChatFrameEncoder()),
                        ChatTCPHandler(inbox: inbox, configuration: configuration)
                    )
                    services.hub.opened(connection)
                }
            }
            .bind(host: configuration.host, port: configuration.tcpPort).get()
        let tcpPort = listener.localAddress?.port ?? configuration.tcpPort
        return ChatServer(
            configuration: configuration, tcpPort: tcpPort, services: services, listener: listener, ready: ready,
            balancer: balancer
        )
    }

    private init(
        configuration: ChatServerConfiguration, tcpPort: Int, services: ChatServices, listener: any Channel,
        ready: AsyncStream<ChatInbox>, balancer: (any ChatServerReporting)?
    ) {
        self.configuration = configuration
        self.tcpPort = tcpPort
        self.services = services
        self.listener = listener
        self.ready = ready
        self.balancer = balancer
        self.webSocketBound = MultiThreadedEventLoopGroup.singleton.next().makePromise(of: Int.self)
    }

    /// The bound WebSocket port, once ``run()`` has bound it.
    public func webSocketPort() async throws -> Int {
        try await self.webSocketBound.futureResult.get()
    }

    /// Serves until cancelled or shut down gracefully.
    public func run() async throws {
        let logger = self.services.logger
        logger.info(
            "chat server listening",
            metadata: ["chat.name": "\(self.configuration.name)", "chat.tcp": "\(self.configuration.host):\(self.tcpPort)"]
        )
        let webSocket = self.webSocketApplication()
        // Finished on graceful shutdown, or when the WebSocket server fails.
        let (stop, stopNow) = AsyncStream<Never>.makeStream()
        // Connections whose end no session task saw (tasks are cancelled at shutdown) end here.
        defer { for connection in self.services.hub.connections { self.ended(connection) } }
        try await withThrowingDiscardingTaskGroup { group in
            group.addTask {
                do {
                    try await webSocket.runService()
                } catch {
                    // Without its WebSocket port the server must not run half-way: it stops, and
                    // the error ends the group once the others are stopped.
                    logger.error("chat WebSocket server failed", metadata: ["error": "\(error)"])
                    self.webSocketBound.fail(error)
                    stopNow.finish()
                    throw error
                }
                self.webSocketBound.fail(CancellationError())
            }
            group.addTask {
                await withDiscardingTaskGroup { sessions in
                    for await inbox in self.ready {
                        sessions.addTask {
                            if await inbox.drain() { self.ended(inbox.connection) }
                        }
                    }
                }
            }
            group.addTask { await self.sweep() }
            if let balancer = self.balancer {
                group.addTask { await self.report(to: balancer) }
            }
            // Until graceful shutdown, cancellation or a failed WebSocket server.
            await withGracefulShutdownHandler {
                for await _ in stop {}
            } onGracefulShutdown: {
                stopNow.finish()
            }
            await self.shutDown()
            group.cancelAll()
        }
        logger.info("chat server stopped", metadata: ["chat.name": "\(self.configuration.name)"])
    }

    /// Tells every client the server is going and closes them; stops accepting.
    private func shutDown() async {
        try? await self.listener.close()
        for connection in self.services.hub.connections {
            connection.close(
                after: .kicked(ChatKicked(reason: .shuttingDown, message: "The chat server is shutting down: reconnect.")),
                webSocketCode: 1001
            )
        }
        // Give the kicks a moment to be written.
        try? await Task.sleep(for: .milliseconds(200))
    }

    // MARK: Connections

    /// A connection's session is over: closes the connection and takes its user offline.
    private func ended(_ connection: ChatConnection) {
        connection.drop()
        self.services.hub.closed(connection)
    }

    /// Closes connections that did not authenticate in time, and authenticated ones silent for
    /// longer than the idle timeout.
    private func sweep() async {
        let configuration = self.configuration
        let idle = Duration.seconds(configuration.idleTimeoutSeconds)
        while !Task.isCancelled {
            try? await Task.sleep(for: configuration.sweepInterval)
            let now = ContinuousClock.now
            for connection in self.services.hub.connections where !connection.isClosed {
                if connection.userID == nil {
                    if now - connection.openedAt > configuration.authenticationDeadline {
                        connection.close(
                            after: .error(
                                ChatError(code: .unauthenticated, message: "No authenticate in time.", closing: true)
                            ),
                            webSocketCode: 1008
                        )
                    }
                } else if let silent = connection.silentSince, now - silent > idle {
                    connection.close(
                        after: .kicked(ChatKicked(reason: .idleTimeout, message: "Nothing heard for \(configuration.idleTimeoutSeconds) s.")),
                        webSocketCode: 1000
                    )
                }
            }
        }
    }

    // MARK: WebSocket

    private func webSocketApplication() -> some ApplicationProtocol {
        let configuration = self.configuration
        let router = Router()
        router.get("/healthz") { _, _ in "ok\n" }
        return Application(
            router: router,
            server: HTTPServerBuilder { responder in
                UpgradeDeadlineChannel(
                    inner: HTTP1WebSocketUpgradeChannel(
                        responder: responder,
                        configuration: .init(
                            ws: .init(maxFrameSize: ChatFrame.maximumBodyLength, autoPing: .disabled, closeTimeout: .seconds(5), validateUTF8: true)
                        )
                    ) { request, channel, _ in
                        guard request.path == "/chat" else { return .dontUpgrade }
                        UpgradeDeadlineHandler.remove(from: channel)
                        return .upgrade([:]) { inbound, outbound, _ in
                            await self.serveWebSocket(inbound: inbound, outbound: outbound, channel: channel)
                        }
                    },
                    deadline: configuration.authenticationDeadline
                )
            },
            configuration: .init(address: .hostname(configuration.host, port: configuration.webSocketPort), serverName: "parley-chat"),
            onServerRunning: { channel in
                self.webSocketBound.succeed(channel.localAddress?.port ?? configuration.webSocketPort)
            },
            logger: self.services.logger
        )
    }

    private func serveWebSocket(inbound: WebSocketInboundStream, outbound: WebSocketOutboundWriter, channel: any Channel) async {
        let configuration = self.configuration
        let (outbox, continuation) = AsyncStream<ChatConnection.WebSocketOutput>.makeStream()
        let connection = ChatConnection(
            transport: .webSocket(channel: channel, outbox: continuation), outgoingQueueBytes: configuration.outgoingQueueBytes
        )
        self.services.hub.opened(connection)
        await withDiscardingTaskGroup { group in
            group.addTask {
                for await output in outbox {
                    switch output {
                    case .text(let text, let bytes):
                        try? await outbound.write(.text(text))
                        connection.release(bytes)
                    case .close(let code):
                        try? await outbound.close(WebSocketErrorCode(codeNumber: Int(code)), reason: nil)
                        return
                    }
                }
            }
            var session = ChatSession(connection: connection, services: self.services)
            do {
                for try await message in inbound.messages(maxSize: ChatFrame.maximumBodyLength) {
                    let admitted = connection.admitFrame(burst: configuration.rateBurst, perSecond: configuration.ratePerSecond)
                    let item: ChatInbound
                    switch message {
                    case .text(let text):
                        item = ChatInbound(admitted: admitted) { () throws(ChatMessageDecodingError) in
                            try ChatMessage.decode(webSocketText: text, direction: .clientToServer)
                        }
                    case .binary:
                        item = .refused(ChatError(code: .invalidInput, message: "Send text messages."))
                    }
                    // Nothing more is read while a message is handled: the wait is not the client's silence.
                    connection.readingPaused(true)
                    let keepGoing = await session.handleInChildTask(item)
                    connection.readingPaused(false)
                    guard !connection.isClosed, keepGoing else { break }
                }
            } catch {
                // The peer went away or broke the WebSocket protocol: the session is over.
            }
            continuation.finish()
            self.ended(connection)
        }
    }

    // MARK: Balancer

    /// Registers with the balancer and reports the connection count until cancelled.
    private func report(to balancer: any ChatServerReporting) async {
        do {
            let webSocketPort = try await self.webSocketPort()
            let info = try ChatServerInfo(
                name: self.configuration.name, host: self.configuration.advertisedHost ?? self.configuration.host,
                tcpPort: self.tcpPort, websocketPort: webSocketPort, grpcPort: self.configuration.grpcPort
            )
            let hub = self.services.hub
            let heartbeat = ChatServerHeartbeat(client: balancer, server: info, logger: self.services.logger) {
                hub.connectionCount
            }
            try await heartbeat.run()
        } catch {
            if !(error is CancellationError) {
                self.services.logger.error("cannot register with the balancer", metadata: ["error": "\(error)"])
            }
        }
    }
}
