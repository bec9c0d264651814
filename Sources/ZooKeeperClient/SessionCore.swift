import Logging
import NIOCore
import Synchronization

/// The shared state of one ``ZooKeeperClient``: the session's state machine, the current
/// connection, the watches, the calls waiting for a connection and the session event
/// subscribers, behind one lock. The connection loop (``SessionCore/run()``) and the connection's
/// handler (as its ``ConnectionDelegate``) drive it; the client's calls read it.
final class SessionCore: ConnectionDelegate, Sendable {
    struct Waiter {
        var continuation: CheckedContinuation<any Channel, any Error>
        var timer: Scheduled<Void>
    }

    struct State {
        var machine: SessionStateMachine
        /// The connection, once its handshake succeeded, until it closes.
        var channel: (any Channel)?
        /// When a server last sent anything.
        var lastHeard = NIODeadline.now()
        var watches = WatchRegistry()
        var waiters: [UInt64: Waiter] = [:]
        var subscribers: [UInt64: AsyncStream<ZooKeeperSessionEvent>.Continuation] = [:]
        var nextID: UInt64 = 0
        /// ``ZooKeeperClient/connect(configuration:eventLoopGroup:resuming:)`` waiting for the first connection.
        var firstConnection: CheckedContinuation<Void, any Error>?
        var loop: Task<Void, Never>?

        mutating func makeID() -> UInt64 {
            self.nextID += 1
            return self.nextID
        }
    }

    let configuration: ZooKeeperClient.Configuration
    /// The servers, in the order they are tried.
    let servers: [ZooKeeperClient.Server]
    let eventLoop: any EventLoop
    let state: Mutex<State>
    var logger: Logger { self.configuration.logger }

    init(configuration: ZooKeeperClient.Configuration, eventLoop: any EventLoop, resuming session: ZooKeeperSession?) {
        self.configuration = configuration
        self.servers = configuration.shuffleServers ? configuration.servers.shuffled() : configuration.servers
        self.eventLoop = eventLoop
        self.state = Mutex(State(machine: SessionStateMachine(
            serverCount: configuration.servers.count,
            requestedTimeout: configuration.sessionTimeout,
            connectTimeout: configuration.connectTimeout,
            resuming: session
        )))
    }

    // MARK: - Waiting for a connection

    /// The connection to send a request on, waiting for one until `deadline`.
    func channel(before deadline: NIODeadline, path: String?) async throws -> any Channel {
        let id = self.state.withLock { $0.makeID() }
        return try await withTaskCancellationHandler {
            try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<any Channel, any Error>) in
                let immediate = self.state.withLock { state -> Result<any Channel, any Error>? in
                    if let channel = state.channel, channel.isActive { return .success(channel) }
                    if let error = Self.finishedError(state.machine, path: path) { return .failure(error) }
                    if Task.isCancelled { return .failure(CancellationError()) }
                    let timer = self.eventLoop.scheduleTask(deadline: deadline) {
                        self.failWaiter(id, with: ZooKeeperError(
                            code: .operationTimeout,
                            path: path,
                            detail: "not connected to any server within the request timeout"
                        ))
                    }
                    state.waiters[id] = Waiter(continuation: continuation, timer: timer)
                    return nil
                }
                if let immediate { continuation.resume(with: immediate) }
            }
        } onCancel: {
            self.failWaiter(id, with: CancellationError())
        }
    }

    private func failWaiter(_ id: UInt64, with error: any Error) {
        let waiter = self.state.withLock { $0.waiters.removeValue(forKey: id) }
        waiter?.timer.cancel()
        waiter?.continuation.resume(throwing: error)
    }

    /// The error for a call on a session that is over, or `nil` while it lives.
    static func finishedError(_ machine: SessionStateMachine, path: String?) -> ZooKeeperError? {
        switch machine.phase {
        case .expired:
            return ZooKeeperError(code: .sessionExpired, path: path, detail: "the session expired; create a new client")
        case .closing, .closed:
            return ZooKeeperError(code: .sessionExpired, path: path, detail: "the client was closed")
        case .connecting, .connected, .disconnected:
            return nil
        }
    }

    // MARK: - Session events

    /// A stream of session events that starts with the current state.
    func subscribe() -> AsyncStream<ZooKeeperSessionEvent> {
        let (stream, continuation) = AsyncStream.makeStream(of: ZooKeeperSessionEvent.self, bufferingPolicy: .bufferingNewest(32))
        let finished = self.state.withLock { state -> Bool in
            switch state.machine.phase {
            case .connected(let server):
                continuation.yield(.connected(self.servers[server]))
            case .connecting, .disconnected:
                continuation.yield(.disconnected)
            case .expired:
                continuation.yield(.expired)
                return true
            case .closing, .closed:
                continuation.yield(.closed)
                return true
            }
            let id = state.makeID()
            state.subscribers[id] = continuation
            continuation.onTermination = { _ in
                _ = self.state.withLock { $0.subscribers.removeValue(forKey: id) }
            }
            return false
        }
        if finished { continuation.finish() }
        return stream
    }

    // MARK: - ConnectionDelegate (on the event loop)

    func frameReceived(zxid: Int64?) {
        self.state.withLock { state in
            state.lastHeard = .now()
            if let zxid { state.machine.saw(zxid: zxid) }
        }
    }

    func notificationReceived(_ event: WatcherEvent) {
        if event.type == -1 {
            if event.state == WatcherEvent.expiredState {
                self.expire(reason: "the server reported the session expired")
            }
            return
        }
        let type = ZooKeeperWatchEvent.EventType(rawValue: event.type)
        let watches = self.state.withLock { $0.watches.take(for: type, path: event.path) }
        for watch in watches {
            watch.complete(.success(ZooKeeperWatchEvent(type: type, path: event.path)))
        }
    }

    func register(_ watch: ZooKeeperWatch, nodeExists: Bool) {
        self.state.withLock { $0.watches.add(watch, nodeExists: nodeExists) }
    }

    func sessionExpiredByServer(_ detail: String) {
        self.expire(reason: detail)
    }

    func setWatchesRequest() -> ZooKeeperRequest? {
        self.state.withLock { $0.watches.setWatchesRequest(relativeZxid: $0.machine.lastZxid) }
    }

    // MARK: - Ending

    /// Ends the session as expired: fails waiting calls and watches, reports ``ZooKeeperSessionEvent/expired``.
    func expire(reason: String) {
        let error = ZooKeeperError.sessionExpired(reason)
        guard let ended = self.end(with: error, event: .expired, change: { $0.expire() }) else { return }
        self.logger.warning("ZooKeeper session expired", metadata: ["zookeeper.reason": "\(reason)"])
        ended.channel?.close(promise: nil)
    }

    /// What ``end(with:event:change:)`` took out of the state.
    struct Ended {
        var channel: (any Channel)?
        var loop: Task<Void, Never>?
    }

    /// Applies `change` to the machine; if it returns `true`, empties the state and fails or
    /// finishes everything waiting with `error` and `event`. Returns what the caller must stop.
    func end(
        with error: ZooKeeperError,
        event: ZooKeeperSessionEvent,
        change: (inout SessionStateMachine) -> Bool
    ) -> Ended? {
        let taken = self.state.withLock { state -> (Ended, [Waiter], [ZooKeeperWatch], [AsyncStream<ZooKeeperSessionEvent>.Continuation], CheckedContinuation<Void, any Error>?)? in
            guard change(&state.machine) else { return nil }
            let ended = Ended(channel: state.channel, loop: state.loop)
            state.channel = nil
            let waiters = Array(state.waiters.values)
            state.waiters.removeAll()
            let subscribers = Array(state.subscribers.values)
            state.subscribers.removeAll()
            for subscriber in subscribers { subscriber.yield(event) }
            let first = state.firstConnection
            state.firstConnection = nil
            return (ended, waiters, state.watches.takeAll(), subscribers, first)
        }
        guard let (ended, waiters, watches, subscribers, first) = taken else { return nil }
        for waiter in waiters {
            waiter.timer.cancel()
            waiter.continuation.resume(throwing: error)
        }
        for watch in watches { watch.complete(.failure(error)) }
        for subscriber in subscribers { subscriber.finish() }
        first?.resume(throwing: error)
        return ended
    }
}
