import Logging
import NIOCore
import NIOPosix
import Synchronization

/// A Redis client over SwiftNIO, speaking RESP2 (the default) or RESP3.
///
/// Keeps a small pool of ``Configuration/poolSize`` connections to one server, opened on first use.
/// Every new connection authenticates (`AUTH`, or `HELLO 3`) and selects the database before it
/// carries commands. Commands are spread over the connections round robin, and each connection
/// carries many commands at once (pipelining); Redis answers them in order. A connection that fails
/// is dropped and opened again by the next command that needs it, so the client recovers by itself
/// when the server comes back; there is no background reconnect loop.
///
/// Every command has a timeout. Safe to use from many tasks at once. Call ``shutdown()`` when done.
///
/// ```swift
/// let redis = RedisClient(configuration: .init(host: "127.0.0.1", password: secret))
/// let stored = try await redis.set("code:alice", "123456", expiry: .seconds(180), onlyIfAbsent: true)
/// ```
public final class RedisClient: Sendable {
    enum Slot {
        case idle
        case connecting(id: UInt64, EventLoopFuture<any Channel>)
        case ready(id: UInt64, any Channel)
    }

    struct PoolState {
        var slots: [Slot]
        var nextSlot = 0
        var nextConnectionID: UInt64 = 0
        var isShutdown = false
    }

    enum ConnectionAction {
        case use(any Channel)
        case wait(EventLoopFuture<any Channel>)
        case connect(slot: Int, id: UInt64, EventLoopPromise<any Channel>)
        case shutDown
    }

    /// The configuration the client was created with.
    public let configuration: Configuration
    let eventLoopGroup: any EventLoopGroup
    let state: Mutex<PoolState>

    /// Creates a client; no connection is opened until the first command.
    ///
    /// - Parameters:
    ///   - configuration: The server's address, the credentials and the limits.
    ///   - eventLoopGroup: The event loops for network I/O.
    public init(
        configuration: Configuration,
        eventLoopGroup: any EventLoopGroup = MultiThreadedEventLoopGroup.singleton
    ) {
        precondition(configuration.poolSize > 0, "poolSize must be positive")
        precondition(configuration.database >= 0, "database must not be negative")
        self.configuration = configuration
        self.eventLoopGroup = eventLoopGroup
        self.state = Mutex(PoolState(slots: Array(repeating: .idle, count: configuration.poolSize)))
    }

    deinit {
        for case .ready(_, let channel) in self.state.withLock({ $0.slots }) {
            channel.close(promise: nil)
        }
    }

    /// Sends one command and returns its reply.
    ///
    /// A command that could not be written because its connection had just closed is retried once
    /// on a new connection; a command in flight when its connection is lost is not (the server may
    /// have run it).
    ///
    /// - Parameters:
    ///   - command: The command.
    ///   - timeout: How long to wait for the reply once sent; ``Configuration/commandTimeout`` if `nil`.
    /// - Returns: The reply. An error reply is thrown, not returned.
    /// - Throws: ``RedisClientError`` (``RedisClientError/Code/server(_:)`` for an error reply), or
    ///   `CancellationError` if the calling task is cancelled.
    public func send(_ command: RESPCommand, timeout: Duration? = nil) async throws -> RESPValue {
        let replies = try await self.execute([command], name: command.name, timeout: timeout)
        guard let reply = replies.first else {
            throw RedisClientError.protocolError("no reply to \(command.name) from \(self.address)")
        }
        if case .error(let message) = reply {
            throw RedisClientError(code: .server(message), detail: command.name)
        }
        return reply
    }

    /// Sends one command given as text arguments, such as `["SET", "key", "value"]`; see the `RESPCommand` variant.
    public func send(_ arguments: [String], timeout: Duration? = nil) async throws -> RESPValue {
        try await self.send(RESPCommand(arguments), timeout: timeout)
    }

    /// Sends one command given as binary arguments; see the `RESPCommand` variant.
    public func send(_ arguments: [ByteBuffer], timeout: Duration? = nil) async throws -> RESPValue {
        try await self.send(RESPCommand(arguments), timeout: timeout)
    }

    /// Sends many commands at once on one connection and returns their replies, in order.
    ///
    /// The commands are written together and not interleaved with other callers' commands; they
    /// are not a transaction (wrap them in `MULTI`/`EXEC` for that). Error replies are returned as
    /// ``RESPValue/error(_:)`` in their place, not thrown, since the others may have succeeded.
    ///
    /// - Parameters:
    ///   - commands: The commands.
    ///   - timeout: How long to wait for all replies once sent; ``Configuration/commandTimeout`` if `nil`.
    /// - Throws: ``RedisClientError`` if the connection fails or times out, or `CancellationError`.
    public func pipeline(_ commands: [RESPCommand], timeout: Duration? = nil) async throws -> [RESPValue] {
        try await self.execute(commands, name: "a pipeline of \(commands.count) commands", timeout: timeout)
    }

    /// Sends many commands given as text arguments; see the `RESPCommand` variant.
    public func pipeline(_ commands: [[String]], timeout: Duration? = nil) async throws -> [RESPValue] {
        try await self.pipeline(commands.map(RESPCommand.init), timeout: timeout)
    }

    /// Closes every connection; commands in flight fail with ``RedisClientError/Code/connectionFailed``
    /// and later commands with ``RedisClientError/Code/closed``.
    public func shutdown() async {
        let channels = self.state.withLock { state -> [any Channel] in
            state.isShutdown = true
            let channels = state.slots.compactMap { slot -> (any Channel)? in
                if case .ready(_, let channel) = slot { return channel }
                return nil
            }
            state.slots = Array(repeating: .idle, count: state.slots.count)
            return channels
        }
        for channel in channels {
            channel.close(promise: nil)
            try? await channel.closeFuture.get()
        }
    }

    var address: String {
        "\(self.configuration.host):\(self.configuration.port)"
    }

    /// Sends `commands` on a connection of the pool, retrying once if they could not be written.
    private func execute(_ commands: [RESPCommand], name: String, timeout: Duration?) async throws -> [RESPValue] {
        let timeout = TimeAmount(timeout ?? self.configuration.commandTimeout)
        for attempt in 1...2 {
            let channel = try await self.connection()
            let promise = channel.eventLoop.makePromise(of: [RESPValue].self)
            do {
                return try await withTaskCancellationHandler {
                    try await Self.write(commands, name: name, timeout: timeout, on: channel, promise: promise).get()
                } onCancel: {
                    promise.fail(CancellationError())
                }
            } catch let error as NotSentError {
                self.configuration.logger.debug(
                    "command not sent, connection closed",
                    metadata: ["redis.command": "\(name)", "redis.attempt": "\(attempt)", "error": "\(error.underlying)"]
                )
            }
        }
        throw RedisClientError.connectionFailed("\(self.address): the connection closed before \(name) could be sent")
    }

    /// Writes a request to `channel`; the returned future completes with the replies.
    static func write(
        _ commands: [RESPCommand],
        name: String,
        timeout: TimeAmount,
        on channel: any Channel,
        promise: EventLoopPromise<[RESPValue]>
    ) -> EventLoopFuture<[RESPValue]> {
        let request = RedisRequest(commands: commands, name: name, timeout: timeout, promise: promise)
        channel.writeAndFlush(request).whenFailure { error in
            // Fails the request if the pipeline never saw it; otherwise the handler already completed it.
            promise.fail(NotSentError(underlying: error))
        }
        return promise.futureResult
    }
}
