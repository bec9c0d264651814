import Foundation
import JSONRPC
import Logging
import NIOCore
import ParleyCore
import ServiceLifecycle
import Synchronization
import ZooKeeperClient

/// The backend of a cluster: whichever backend leads the election in ZooKeeper
/// (`/parley/backend/election`), followed as it changes.
///
/// A call that fails because of a switch is tried again on the next leader, for up to
/// ``failoverWait``: always when the old leader answered `not_leader` (nothing was applied), and on
/// a lost or refused connection when the call is idempotent (reads, and posts, which carry a
/// request id the backend applies once). While no backend leads, calls wait for one, then fail with
/// 503 "no backend leads". A `Service`: run it beside the gateway.
public final class ClusterBackend: Backend, Service {
    /// How long a call waits for a leader before it fails.
    public static let failoverWait = Duration.seconds(6)
    /// How long one try of an idempotent call may take before it is tried again (on the next
    /// leader, if there is one by then): a leader that froze must not hold it for the whole
    /// request timeout.
    public static let attemptLimit = Duration.seconds(3)

    private struct State {
        var leader: (host: String, port: Int)?
        var backends: [String: RPCBackend] = [:]
        var clients: [JSONRPCClient] = []
        var generation = 0
        /// Whether the election could be read from ZooKeeper lately.
        var zookeeperReachable = true
    }

    let zookeeper: ZooKeeperClient.Configuration
    let requestTimeout: Duration
    let logger: Logger
    private let state = Mutex(State())

    /// Follows the election in the ensemble of `zookeeper`.
    public init(zookeeper: ZooKeeperClient.Configuration, requestTimeout: Duration = .seconds(20), logger: Logger) {
        self.zookeeper = zookeeper
        self.requestTimeout = requestTimeout
        self.logger = logger
    }

    /// Watches the election until shutdown; with ZooKeeper down it keeps the last leader it saw
    /// (that backend refuses calls itself once it no longer leads).
    public func run() async throws {
        await cancelWhenGracefulShutdown {
            while !Task.isCancelled {
                do {
                    let client = try await ZooKeeperClient.connect(configuration: self.zookeeper)
                    do {
                        for try await leader in LeaderObserver(client: client, path: BackendAPI.electionPath) {
                            self.follow(leader)
                        }
                    } catch {
                        await client.close()
                        throw error
                    }
                    await client.close()
                } catch is CancellationError {
                    break
                } catch {
                    self.state.withLock { $0.zookeeperReachable = false }
                    self.logger.warning("lost the election's view in ZooKeeper; retrying", metadata: ["error": "\(error)"])
                }
                try? await Task.sleep(for: .milliseconds(300))
            }
        }
        let clients = self.state.withLock { state -> [JSONRPCClient] in
            defer { state.clients = [] }
            return state.clients
        }
        for client in clients { await client.shutdown() }
    }

    /// The leader's address from its znode, `HOST:PORT`.
    private func follow(_ leader: LeaderElection.Leader?) {
        let address = leader.flatMap { Self.address(String(decoding: $0.payload, as: UTF8.self)) }
        self.logger.notice("backend leader", metadata: ["cluster.leader": "\(address.map { "\($0.host):\($0.port)" } ?? "none")"])
        self.state.withLock { state in
            state.leader = address
            state.generation += 1
            state.zookeeperReachable = true
        }
    }

    static func address(_ text: String) -> (host: String, port: Int)? {
        guard let colon = text.lastIndex(of: ":"), let port = Int(text[text.index(after: colon)...]) else { return nil }
        return (String(text[..<colon]).trimmingCharacters(in: CharacterSet(charactersIn: "[]")), port)
    }

    /// The current leader's backend and the generation it belongs to.
    private func current() -> (RPCBackend?, Int) {
        self.state.withLock { state in
            guard let leader = state.leader else { return (nil, state.generation) }
            let key = "\(leader.host):\(leader.port)"
            if let backend = state.backends[key] { return (backend, state.generation) }
            var logger = self.logger
            logger[metadataKey: "jsonrpc.backend"] = "\(key)"
            let client = JSONRPCClient(
                configuration: .init(host: leader.host, port: leader.port, requestTimeout: self.requestTimeout, logger: logger)
            )
            let backend = RPCBackend(client: client, logger: logger)
            state.clients.append(client)
            state.backends[key] = backend
            return (backend, state.generation)
        }
    }

    /// Waits until the leader changes from `generation`, at most until `deadline`.
    private func waitForChange(from generation: Int, until deadline: ContinuousClock.Instant) async {
        while ContinuousClock.now < deadline, self.state.withLock({ $0.generation }) == generation, !Task.isCancelled {
            try? await Task.sleep(for: .milliseconds(50))
        }
    }

    /// Runs `body` on the leader, following a switch as described on the type.
    func onLeader<T: Sendable>(idempotent: Bool, _ body: @escaping @Sendable (RPCBackend) async throws -> T) async throws -> T {
        let deadline = ContinuousClock.now.advanced(by: Self.failoverWait)
        var lastError: ParleyError?
        while true {
            let (backend, generation) = self.current()
            if let backend {
                do {
                    return try await idempotent ? Self.limited(Self.attemptLimit) { try await body(backend) } : body(backend)
                } catch let error as ParleyError where error.code == .notLeader || (idempotent && error.code == .unavailable) {
                    lastError = error
                }
            }
            guard ContinuousClock.now < deadline else {
                if self.state.withLock({ !$0.zookeeperReachable }) { throw Self.noCoordinator }
                throw lastError.map { $0.code == .notLeader ? Self.noLeader : $0 } ?? Self.noLeader
            }
            // Wait for the next leader; try again now and then, since a failed backend may come back.
            await self.waitForChange(from: generation, until: min(deadline, ContinuousClock.now.advanced(by: .milliseconds(250))))
        }
    }

    static let noLeader = ParleyError(.unavailable, "No backend leads right now (a new leader is being elected); try again in a moment.")
    static let noCoordinator = ParleyError(
        .unavailable, "No backend leads right now: ZooKeeper, which elects the leader, cannot be reached; try again in a moment."
    )

    /// `body`, or `.unavailable` once `limit` has passed (the call is cancelled).
    static func limited<T: Sendable>(_ limit: Duration, _ body: @escaping @Sendable () async throws -> T) async throws -> T {
        try await withThrowingTaskGroup(of: T.self) { group in
            group.addTask { try await body() }
            group.addTask {
                try await Task.sleep(for: limit)
                throw ParleyError(.unavailable, "The backend did not answer in time.")
            }
            defer { group.cancelAll() }
            return try await group.next()!
        }
    }

    public func register(_ params: BackendAPI.RegisterParams) async throws -> User {
        try await self.onLeader(idempotent: false) { try await $0.register(params) }
    }
    public func login(_ params: BackendAPI.LoginParams) async throws -> BackendAPI.LoginResult {
        try await self.onLeader(idempotent: true) { try await $0.login(params) }
    }
    public func check(_ params: BackendAPI.CheckParams) async throws -> BackendAPI.Availability {
        try await self.onLeader(idempotent: true) { try await $0.check(params) }
    }
    public func resetPassword(_ params: BackendAPI.ResetParams) async throws {
        try await self.onLeader(idempotent: false) { try await $0.resetPassword(params) }
    }
    public func profile(token: String) async throws -> Profile {
        try await self.onLeader(idempotent: true) { try await $0.profile(token: token) }
    }
    public func updateProfile(_ params: BackendAPI.ProfileParams) async throws -> Profile {
        try await self.onLeader(idempotent: true) { try await $0.updateProfile(params) }
    }
    public func session(token: String) async throws -> BackendAPI.SessionInfo {
        try await self.onLeader(idempotent: true) { try await $0.session(token: token) }
    }
    public func logout(token: String) async throws {
        try await self.onLeader(idempotent: true) { try await $0.logout(token: token) }
    }
    public func post(_ params: BackendAPI.PostParams) async throws -> Post {
        try await self.onLeader(idempotent: params.requestID != nil) { try await $0.post(params) }
    }
    public func list(_ params: BackendAPI.ListParams) async throws -> BackendAPI.PostPage {
        try await self.onLeader(idempotent: true) { try await $0.list(params) }
    }
    public func listJSON(_ params: BackendAPI.ListParams) async throws -> ByteBuffer {
        try await self.onLeader(idempotent: true) { try await $0.listJSON(params) }
    }
    public func postJSON(_ params: BackendAPI.PostParams) async throws -> ByteBuffer {
        try await self.onLeader(idempotent: params.requestID != nil) { try await $0.postJSON(params) }
    }
}
