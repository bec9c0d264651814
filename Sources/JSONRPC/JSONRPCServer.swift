import Logging
import Metrics
import NIOCore
import NIOPosix
import NIOServerSupport
import ServiceLifecycle
import Synchronization

/// A JSON-RPC 1.0 server over TCP, wire-compatible with Go's `net/rpc/jsonrpc`, run as a
/// ServiceLifecycle `Service`.
///
/// Each connection may have many calls in flight (up to
/// ``Configuration/maxConcurrentRequestsPerConnection``; beyond that the server stops reading from
/// it); responses are written as calls complete, in any order, matched by id. A connection that
/// sends something that is not a JSON value, or a message over the size limit, is closed without
/// affecting others. On graceful shutdown the server stops accepting and reading, lets calls in
/// flight finish for up to ``Configuration/shutdownGracePeriod``, then closes.
///
/// A request whose id and method can be read (as Go writes them: an unsigned integer id, a plain
/// method name) but which is not valid JSON after them is answered with an `invalid_params`
/// error naming the fault; one whose id cannot be read closes the connection.
///
/// Metrics: a `Timer` `jsonrpc_server_request_duration_seconds` and a `Counter`
/// `jsonrpc_server_requests_total`, both with dimensions `method` (unregistered names collapse to
/// `unknown`) and `outcome` (`ok` or `error`).
public final class JSONRPCServer: Service, Sendable {
    /// How the server listens and the limits it enforces.
    public struct Configuration: Sendable {
        /// The address to bind, such as `"127.0.0.1"` or `"0.0.0.0"`.
        public var host: String
        /// The port to bind; 0 picks a free port (see ``JSONRPCServer/boundAddress()``).
        public var port: Int
        /// The largest request accepted, in bytes; a larger one closes the connection.
        public var maximumMessageLength: Int
        /// A connection with no call in flight that sends no complete message for this long is closed.
        public var idleTimeout: Duration
        /// Calls allowed in flight on one connection; when reached, the server stops reading from it.
        public var maxConcurrentRequestsPerConnection: Int
        /// How long graceful shutdown waits for calls in flight before cancelling them.
        public var shutdownGracePeriod: Duration
        /// The logger; metadata keys are prefixed `jsonrpc.`.
        public var logger: Logger

        /// Creates a configuration; every limit has a default.
        public init(
            host: String = "127.0.0.1",
            port: Int = 1234,
            maximumMessageLength: Int = JSONValueFrameDecoder.defaultMaximumFrameLength,
            idleTimeout: Duration = .seconds(60),
            maxConcurrentRequestsPerConnection: Int = 64,
            shutdownGracePeriod: Duration = .seconds(10),
            logger: Logger = Logger(label: "jsonrpc.server")
        ) {
            self.host = host
            self.port = port
            self.maximumMessageLength = maximumMessageLength
            self.idleTimeout = idleTimeout
            self.maxConcurrentRequestsPerConnection = maxConcurrentRequestsPerConnection
            self.shutdownGracePeriod = shutdownGracePeriod
            self.logger = logger
        }
    }

    /// The configuration the server was created with.
    public let configuration: Configuration
    let handlers: JSONRPCHandlerRegistry
    let eventLoopGroup: any EventLoopGroup
    var logger: Logger { self.configuration.logger }
    private let listening = ListeningState()
    /// The timer and counter of each method and outcome seen (methods are the registered ones and
    /// `unknown`, so this stays small).
    let metrics = Mutex<[MetricsKey: (Metrics.Timer, Counter)]>([:])

    /// Creates a server; it listens once ``run()`` is called.
    ///
    /// - Parameters:
    ///   - configuration: Where to listen and the limits to enforce.
    ///   - handlers: The methods served.
    ///   - eventLoopGroup: The event loops for network I/O; handlers run on Swift concurrency's pool
    ///     (answers at once on the event loop).
    public init(
        configuration: Configuration,
        handlers: JSONRPCHandlerRegistry,
        eventLoopGroup: any EventLoopGroup = MultiThreadedEventLoopGroup.singleton
    ) {
        precondition(configuration.maxConcurrentRequestsPerConnection > 0, "maxConcurrentRequestsPerConnection must be positive")
        self.configuration = configuration
        self.handlers = handlers
        self.eventLoopGroup = eventLoopGroup
    }

    /// The address the server listens on, once ``run()`` has bound it; useful with port 0.
    ///
    /// Waits until the server is listening. Returns `nil` if binding failed, the server has stopped,
    /// or the calling task is cancelled while waiting.
    public func boundAddress() async -> SocketAddress? {
        await self.listening.address()
    }

    /// Listens and serves until graceful shutdown or cancellation.
    ///
    /// - Throws: If the address cannot be bound, or the listening socket fails.
    public func run() async throws {
        let serverChannel: NIOAsyncChannel<AcceptedConnection<Request, ByteBuffer>, Never>
        do {
            serverChannel = try await self.bind()
        } catch {
            self.logger.error(
                "cannot listen",
                metadata: ["jsonrpc.address": "\(self.configuration.host):\(self.configuration.port)", "error": "\(error)"]
            )
            self.listening.stop()
            throw error
        }
        defer { self.listening.stop() }
        if let address = serverChannel.channel.localAddress {
            self.listening.publish(address)
            self.logger.info("listening", metadata: ["jsonrpc.address": "\(address)"])
        }

        let gracePeriod = self.configuration.shutdownGracePeriod
        try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask {
                try await self.acceptConnections(serverChannel)
            }
            group.addTask {
                // Bounds graceful shutdown: once it starts, calls in flight get the grace period.
                try await gracefulShutdown()
                try await Task.sleep(for: gracePeriod)
                self.logger.warning("shutdown grace period expired; cancelling calls in flight")
            }
            do {
                try await group.next()
            } catch is CancellationError {
                // Cancellation is one of the ways to stop the server.
            }
            group.cancelAll()
        }
        self.logger.info("stopped")
    }

    private func bind() async throws -> NIOAsyncChannel<AcceptedConnection<Request, ByteBuffer>, Never> {
        let maximumMessageLength = self.configuration.maximumMessageLength
        let idleTimeout = TimeAmount(self.configuration.idleTimeout)
        let logger = self.logger
        return try await ServerBootstrap(group: self.eventLoopGroup)
            .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
            .serverChannelOption(.backlog, value: 256)
            .childChannelOption(.tcpOption(.tcp_nodelay), value: 1)
            // Input closing (the peer's FIN, or ours on graceful shutdown) must not close the
            // connection before the calls in flight have answered.
            .childChannelOption(.allowRemoteHalfClosure, value: true)
            .bind(host: self.configuration.host, port: self.configuration.port) { channel in
                channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.addHandler(
                        ByteToMessageHandler(JSONValueFrameDecoder(maximumFrameLength: maximumMessageLength))
                    )
                    try channel.pipeline.syncOperations.addHandler(
                        IdleConnectionHandler(timeout: idleTimeout, logger: logger)
                    )
                    try channel.pipeline.syncOperations.addHandler(AnswerAtOnceHandler(server: self))
                    return AcceptedConnection(try NIOAsyncChannel<Request, ByteBuffer>(wrappingChannelSynchronously: channel))
                }
            }
    }

    /// Accepts connections until the listening socket closes (graceful shutdown or cancellation),
    /// then waits for every connection to finish.
    private func acceptConnections(
        _ serverChannel: NIOAsyncChannel<AcceptedConnection<Request, ByteBuffer>, Never>
    ) async throws {
        try await withTaskCancellationOrGracefulShutdownHandler {
            try await withThrowingDiscardingTaskGroup { group in
                try await serverChannel.executeThenClose { inbound in
                    for try await connection in inbound {
                        group.addTask {
                            await self.handleConnection(connection.take())
                        }
                    }
                }
            }
        } onCancelOrGracefulShutdown: {
            serverChannel.channel.close(promise: nil)
        }
    }
}

/// The listening address, published by ``JSONRPCServer/run()`` to ``JSONRPCServer/boundAddress()``.
private final class ListeningState: Sendable {
    private enum State {
        case starting(waiters: [Int: CheckedContinuation<SocketAddress?, Never>], nextID: Int)
        case listening(SocketAddress)
        case stopped
    }

    private let state = Mutex(State.starting(waiters: [:], nextID: 0))

    func publish(_ address: SocketAddress) {
        self.finish(with: .listening(address), resuming: address)
    }

    func stop() {
        self.finish(with: .stopped, resuming: nil)
    }

    private func finish(with newState: State, resuming address: SocketAddress?) {
        let waiters = self.state.withLock { state -> [CheckedContinuation<SocketAddress?, Never>] in
            defer { state = newState }
            if case .starting(let waiters, _) = state {
                return Array(waiters.values)
            }
            return []
        }
        for waiter in waiters {
            waiter.resume(returning: address)
        }
    }

    func address() async -> SocketAddress? {
        let id = Mutex<Int?>(nil)
        return await withTaskCancellationHandler {
            await withCheckedContinuation { (continuation: CheckedContinuation<SocketAddress?, Never>) in
                let immediate = self.state.withLock { state -> SocketAddress?? in
                    switch state {
                    case .listening(let address):
                        return .some(address)
                    case .stopped:
                        return .some(nil)
                    case .starting(var waiters, let nextID):
                        if Task.isCancelled {
                            return .some(nil)
                        }
                        waiters[nextID] = continuation
                        state = .starting(waiters: waiters, nextID: nextID + 1)
                        id.withLock { $0 = nextID }
                        return .none
                    }
                }
                if let immediate {
                    continuation.resume(returning: immediate)
                }
            }
        } onCancel: {
            let waiter = self.state.withLock { state -> CheckedContinuation<SocketAddress?, Never>? in
                guard case .starting(var waiters, let nextID) = state, let waiterID = id.withLock({ $0 }) else {
                    return nil
                }
                let waiter = waiters.removeValue(forKey: waiterID)
                state = .starting(waiters: waiters, nextID: nextID)
                return waiter
            }
            waiter?.resume(returning: nil)
        }
    }
}
