import Logging
import NIOCore
import NIOPosix

/// A ZooKeeper client over SwiftNIO, speaking ZooKeeper's own wire protocol (jute).
///
/// ``connect(configuration:eventLoopGroup:resuming:)`` opens a session on one server of the
/// ensemble. When that server fails, the client moves to another and resumes the same session
/// (same id and password), so ephemeral znodes and watches survive; it pings every third of the
/// negotiated session timeout and gives a connection up when it heard nothing for two thirds.
/// The session expires when a server says so on reconnection, or when no server could be reached
/// for the whole session timeout: the client is then finished (calls fail with
/// ``ZooKeeperError/Code/sessionExpired``) and the caller creates a new one.
/// ``sessionEvents()`` reports these changes.
///
/// Every operation has a timeout (``Configuration/requestTimeout``), which includes waiting for a
/// connection while disconnected. An operation in flight when the connection drops fails with
/// ``ZooKeeperError/Code/connectionLoss``: it may or may not have been applied.
///
/// Call ``close()`` when done: it ends the session on the server, so its ephemeral znodes vanish
/// at once. Safe to use from many tasks at once.
///
/// Recipes built on it: ``LeaderElection`` (a candidate) and ``LeaderObserver`` (following an
/// election without taking part).
public final class ZooKeeperClient: Sendable {
    /// The configuration the client was created with.
    public let configuration: Configuration
    let core: SessionCore

    private init(core: SessionCore) {
        self.configuration = core.configuration
        self.core = core
    }

    deinit {
        self.core.abandon(reason: "the client was dropped without close()")
    }

    /// Connects to one of the servers and opens a session (or takes over `session`).
    ///
    /// Tries each server once, in order (shuffled if ``Configuration/shuffleServers``), each attempt
    /// bounded by ``Configuration/connectTimeout``.
    ///
    /// - Parameters:
    ///   - configuration: The servers and timeouts.
    ///   - eventLoopGroup: The event loops for network I/O; the client uses one of them.
    ///   - session: An existing session to resume, such as another client's ``session``.
    /// - Throws: ``ZooKeeperError`` with ``ZooKeeperError/Code/connectionLoss`` when no server
    ///   answered (the detail lists why each failed), ``ZooKeeperError/Code/sessionExpired`` when
    ///   `session` is no longer valid, ``ZooKeeperError/Code/badArguments`` without servers;
    ///   `CancellationError` if the calling task is cancelled (the attempt is abandoned).
    public static func connect(
        configuration: Configuration,
        eventLoopGroup: any EventLoopGroup = MultiThreadedEventLoopGroup.singleton,
        resuming session: ZooKeeperSession? = nil
    ) async throws -> ZooKeeperClient {
        guard !configuration.servers.isEmpty else {
            throw ZooKeeperError(code: .badArguments, detail: "no ZooKeeper server given")
        }
        let core = SessionCore(configuration: configuration, eventLoop: eventLoopGroup.next(), resuming: session)
        do {
            try await core.start()
        } catch where Task.isCancelled {
            throw CancellationError()
        }
        return ZooKeeperClient(core: core)
    }

    /// The session: id, password and the negotiated timeout.
    public var session: ZooKeeperSession {
        // Set by the first successful handshake, before `connect` returns.
        self.core.state.withLock { $0.machine.session }!
    }

    /// Where the session stands now. ``ZooKeeperSessionState/connected`` only while a server was
    /// heard from within two thirds of the session timeout, so that a process that was paused
    /// (GC, SIGSTOP) does not take itself for connected before the client noticed.
    public var state: ZooKeeperSessionState {
        self.core.state.withLock { state in
            let current = state.machine.publicState
            if current == .connected, let timeout = state.machine.session?.timeout,
                state.lastHeard + TimeAmount(timeout * 2 / 3) < .now()
            {
                return .disconnected
            }
            return current
        }
    }

    /// The server the client is connected to, or `nil` while disconnected.
    public var connectedServer: Server? {
        self.core.state.withLock { $0.machine.connectedServer }.map { self.core.servers[$0] }
    }

    /// The zxid of the newest change this client has seen.
    public var lastZxid: Int64 {
        self.core.state.withLock { $0.machine.lastZxid }
    }

    /// A stream of the session's state changes, starting with the current state
    /// (``ZooKeeperSessionEvent/connected(_:)`` on a connected client): ``ZooKeeperSessionEvent/disconnected``,
    /// ``ZooKeeperSessionEvent/reconnected(_:)``, then ``ZooKeeperSessionEvent/expired`` or
    /// ``ZooKeeperSessionEvent/closed``, after which it ends. Each call makes a new stream; each
    /// keeps the newest 32 events if not read.
    public func sessionEvents() -> AsyncStream<ZooKeeperSessionEvent> {
        self.core.subscribe()
    }

    /// Ends the session and closes the connection: sends `closeSession` when connected (the
    /// server deletes the session's ephemeral znodes at once and answers), waits for the answer
    /// up to ``Configuration/requestTimeout``, then fails waiting calls and watches with
    /// ``ZooKeeperError/Code/sessionExpired`` and reports ``ZooKeeperSessionEvent/closed``.
    /// Calling it again does nothing.
    public func close() async {
        await self.core.close()
    }

    /// Sends `request` and returns the reply, checking its error code (`NONODE` is returned, not
    /// thrown, when `allowNoNode`).
    func perform(_ request: ZooKeeperRequest, watch: ZooKeeperWatch? = nil, allowNoNode: Bool = false) async throws -> ZooKeeperReply {
        let deadline = NIODeadline.now() + TimeAmount(self.configuration.requestTimeout)
        while true {
            let channel = try await self.core.channel(before: deadline, path: request.path)
            let reply = channel.eventLoop.makePromise(of: ZooKeeperReply.self)
            let outbound = ZooKeeperOutboundRequest(request: request, watch: watch, deadline: deadline, reply: reply)
            channel.writeAndFlush(outbound).whenFailure { error in
                // Only reached when the pipeline never saw the request; otherwise already completed.
                reply.fail(RequestNotSentError(reason: "\(error)"))
            }
            let result: ZooKeeperReply
            do {
                result = try await withTaskCancellationHandler {
                    try await reply.futureResult.get()
                } onCancel: {
                    reply.fail(CancellationError())
                }
            } catch is RequestNotSentError {
                // The connection closed before the request went out: wait for the next one.
                continue
            }
            let code = result.header.error
            if code == 0 || (allowNoNode && code == ZooKeeperError.Code.noNode.rawValue) {
                return result
            }
            throw ZooKeeperError(code: ZooKeeperError.Code(rawValue: code), path: request.path, detail: "\(request.opCode)")
        }
    }
}
