import Synchronization

/// ZooKeeper's leader election recipe, without herd effect, for one candidate.
///
/// Each candidate creates an ephemeral sequential znode `n_<id>_<sequence>` under the election
/// path (created if missing), holding its payload (such as its advertised address). The lowest
/// sequence number leads. Every other candidate watches only the znode just before its own: when
/// that one goes away, only its successor wakes up, reads the children again, and either leads or
/// watches its new predecessor. A follower also watches the leader's znode, so that it can name
/// the leader: a change of leader wakes every follower once, any other departure only one.
///
/// **Epoch.** Each leadership has an epoch, ``Role/leader(epoch:)`` and ``Leader/epoch``: the
/// `czxid` of the leader's znode (the zxid of the transaction that created it). Zxids grow strictly
/// across the whole ensemble, and the next leader's znode was always created after the current
/// leader's (it has a higher sequence number), so every new leadership has a higher epoch; unlike
/// the sequence number, it keeps growing if the election znode is deleted and created again. Use it
/// for fencing: record it where the leader writes and refuse writes with an older one.
///
/// **Creating twice.** When the connection drops while the create is in flight, the create may or
/// may not have happened. The `<id>` in the name (random, one per ``LeaderElection``) lets the
/// candidate find its znode before creating again, as ZooKeeper's "protected" create; should it
/// ever find two, it deletes all but the lowest.
///
/// **Session.** When the session is disconnected the candidate reports ``Role/unknown`` at once
/// (a leader can no longer know that it leads, and another candidate leads once the session
/// expires); when it is reconnected with the same session, it checks again and reports its role.
/// When the session expires (or the client is closed), it reports ``Role/unknown`` and ``run()``
/// throws ``ZooKeeperError/Code/sessionExpired``: create a new client and a new election to rejoin.
///
/// ```swift
/// while !Task.isCancelled {
///     let client = try await ZooKeeperClient.connect(configuration: configuration)
///     let election = LeaderElection(client: client, path: "/app/election", payload: Array(address.utf8))
///     async let roles: Void = { for await role in election.roles() { apply(role) } }()
///     do { try await election.run() } catch let error as ZooKeeperError where error.code == .sessionExpired {}
///     await roles
///     await client.close()
/// }
/// ```
public final class LeaderElection: Sendable {
    private enum Phase {
        case idle, running, finished
    }

    private struct State {
        var phase = Phase.idle
        var role = Role.unknown
        var subscribers: [UInt64: AsyncStream<Role>.Continuation] = [:]
        var nextSubscriber: UInt64 = 0
        /// Whether the session is connected, as its events last said.
        var connected = false
        /// Incremented on each disconnection, so that a check begun before cannot report a role.
        var generation: UInt64 = 0
        var resigned = false
        var ownPath: String?
        var finishWaiters: [CheckedContinuation<Void, Never>] = []
        var predecessorWatchEvents = 0
    }

    /// The client whose session the candidate's znode belongs to.
    public let client: ZooKeeperClient
    /// The election znode, whose children are the candidates.
    public let path: String
    /// The bytes this candidate publishes in its znode.
    public let payload: [UInt8]
    /// The start of this candidate's znode names: `n_<32 hex digits>_`.
    let prefix: String
    let signal = ElectionSignal()
    private let state = Mutex(State())

    /// Creates a candidate; it joins the election when ``run()`` is called.
    ///
    /// - Parameters:
    ///   - client: A connected client; the candidate's znode lives as long as its session.
    ///   - path: The election znode, such as `/app/election`; created (with its parents) if missing.
    ///   - payload: What the candidate publishes, such as its advertised address.
    public init(client: ZooKeeperClient, path: String, payload: [UInt8]) {
        self.client = client
        self.path = path
        self.payload = payload
        let id = (0..<2).map { _ in
            let hex = String(UInt64.random(in: .min ... .max), radix: 16)
            return String(repeating: "0", count: 16 - hex.count) + hex
        }
        self.prefix = "n_" + id.joined() + "_"
    }

    /// The role now. ``Role/leader(epoch:)`` only while the client is connected (see
    /// ``ZooKeeperClient/state``), so that a process that was paused does not take itself for
    /// leader before the session's events were handled.
    public var role: Role {
        let role = self.state.withLock { $0.role }
        if role.isLeader, self.client.state != .connected { return .unknown }
        return role
    }

    /// The path of this candidate's znode once created, such as `/app/election/n_…_0000000007`.
    public var ownPath: String? {
        self.state.withLock { $0.ownPath }
    }

    /// How many times the watch on the predecessor fired (for tests of the herd effect).
    var predecessorWatchEvents: Int {
        self.state.withLock { $0.predecessorWatchEvents }
    }

    /// A stream of the candidate's roles, starting with the current one, each different from the
    /// one before; it ends when ``run()`` returns. Each call makes a new stream; each keeps the
    /// newest 16 roles if not read.
    public func roles() -> AsyncStream<Role> {
        let (stream, continuation) = AsyncStream.makeStream(of: Role.self, bufferingPolicy: .bufferingNewest(16))
        let finished = self.state.withLock { state -> Bool in
            continuation.yield(state.role)
            guard state.phase != .finished else { return true }
            state.nextSubscriber += 1
            let id = state.nextSubscriber
            state.subscribers[id] = continuation
            continuation.onTermination = { _ in
                _ = self.state.withLock { $0.subscribers.removeValue(forKey: id) }
            }
            return false
        }
        if finished { continuation.finish() }
        return stream
    }

    /// Leaves the election: reports ``Role/unknown`` at once, stops ``run()``, which deletes the
    /// candidate's znode, and returns when it has. Before ``run()``, makes it return at once.
    public func resign() async {
        self.state.withLock { $0.resigned = true }
        self.publish(.unknown, force: true)
        await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
            let running = self.state.withLock { state -> Bool in
                state.resigned = true
                guard state.phase == .running else { return false }
                state.finishWaiters.append(continuation)
                return true
            }
            if running {
                self.signal.notify(.resign)
            } else {
                continuation.resume()
            }
        }
    }

    /// Joins the election and follows it until the candidate resigns, the task is cancelled, or
    /// the session ends. Roles are reported through ``roles()`` and ``role``. Call it once.
    ///
    /// Returns after ``resign()`` or when cancelled, having deleted the candidate's znode.
    /// - Throws: ``ZooKeeperError`` with ``ZooKeeperError/Code/sessionExpired`` when the session
    ///   expired or the client was closed (rejoin with a new client), or another
    ///   ``ZooKeeperError`` the server answered (such as ``ZooKeeperError/Code/noAuth``), after
    ///   deleting the znode; ``ZooKeeperError/Code/badArguments`` for an invalid path or a
    ///   second call.
    public func run() async throws {
        let phase = self.state.withLock { state -> Phase in
            defer { if state.phase == .idle { state.phase = .running } }
            return state.phase
        }
        guard phase == .idle else {
            throw ZooKeeperError(code: .badArguments, path: self.path, detail: "LeaderElection.run() called twice")
        }
        do {
            try ZooKeeperClient.validate(self.path)
            try await self.runLoop()
            await self.removeOwnNodes()
            self.finish()
        } catch let error as ZooKeeperError where error.code == .sessionExpired {
            self.finish()
            throw error
        } catch {
            await self.removeOwnNodes()
            self.finish()
            throw error
        }
    }

    // MARK: - State

    /// Records a session event; a disconnection or the end of the session makes the role unknown.
    func handle(_ event: ZooKeeperSessionEvent) {
        switch event {
        case .connected, .reconnected:
            self.state.withLock { $0.connected = true }
        case .disconnected, .expired, .closed:
            self.state.withLock { state in
                state.connected = false
                state.generation += 1
            }
            self.publish(.unknown, force: true)
        }
    }

    /// The generation to pass to ``publish(_:generation:)`` for a check starting now, and whether
    /// the candidate resigned.
    func startCheck() -> (generation: UInt64, resigned: Bool) {
        self.state.withLock { ($0.generation, $0.resigned) }
    }

    var isResigned: Bool {
        self.state.withLock { $0.resigned }
    }

    func setOwnPath(_ path: String) {
        self.state.withLock { $0.ownPath = path }
    }

    func countPredecessorWatchEvent() {
        self.state.withLock { $0.predecessorWatchEvents += 1 }
    }

    /// Reports `role` if the session was not disconnected since `generation` was taken (or if
    /// `force`), and the candidate is running and has not resigned (or if `force`).
    func publish(_ role: Role, generation: UInt64? = nil, force: Bool = false) {
        let subscribers = self.state.withLock { state -> [AsyncStream<Role>.Continuation] in
            if !force {
                guard state.phase == .running, !state.resigned, state.connected,
                    generation == nil || generation == state.generation
                else { return [] }
            }
            guard state.role != role else { return [] }
            state.role = role
            return Array(state.subscribers.values)
        }
        for subscriber in subscribers { subscriber.yield(role) }
    }

    /// Reports ``Role/unknown``, ends the streams and wakes `resign()`.
    private func finish() {
        self.publish(.unknown, force: true)
        let (subscribers, waiters) = self.state.withLock { state in
            state.phase = .finished
            defer {
                state.subscribers.removeAll()
                state.finishWaiters.removeAll()
            }
            return (Array(state.subscribers.values), state.finishWaiters)
        }
        for subscriber in subscribers { subscriber.finish() }
        for waiter in waiters { waiter.resume() }
    }

    /// Deletes every znode of this candidate, in a task of its own so that it runs when the
    /// calling task was cancelled. Best effort: the session's end deletes them anyway.
    private func removeOwnNodes() async {
        let (client, path, prefix) = (self.client, self.path, self.prefix)
        await Task {
            guard client.state != .expired, client.state != .closed,
                let children = try? await client.getChildren(path: path)
            else { return }
            for child in children where child.hasPrefix(prefix) {
                try? await client.delete(path: path + "/" + child)
            }
        }.value
        self.state.withLock { $0.ownPath = nil }
    }

    /// The names of the candidates (children with a sequence number), lowest sequence number first.
    static func candidates(_ children: [String]) -> [String] {
        children
            .compactMap { name in ZooKeeperClient.sequenceNumber(of: name).map { (name, $0) } }
            .sorted { $0.1 < $1.1 }
            .map(\.0)
    }
}
