import Foundation
import JSONRPC
import Logging
import NIOCore
import ParleyCore
import ParleyVerifier
import ServiceLifecycle

/// How to run a backend.
public struct BackendConfiguration: Sendable {
    /// Address the JSON-RPC server listens on.
    public var host: String
    /// Port of the JSON-RPC server; 0 picks a free one.
    public var port: Int
    /// How long a session lasts without being used.
    public var sessionTTL: Duration
    /// bcrypt cost factor for new password hashes (each step doubles the work).
    public var bcryptCost: UInt8
    /// How often expired sessions are deleted.
    public var sessionSweepInterval: Duration
    /// Checks the email codes of registrations and password resets; without one, accounts are
    /// made without an email address and passwords cannot be reset.
    public var verifier: (any CodeVerifying)?
    /// The cluster to join (leader election through ZooKeeper); `nil` serves alone, unfenced.
    public var cluster: ClusterConfiguration?
    /// The logger.
    public var logger: Logger

    /// Creates a configuration; defaults listen on 127.0.0.1:1234.
    public init(
        host: String = "127.0.0.1",
        port: Int = 1234,
        sessionTTL: Duration = .seconds(3600),
        bcryptCost: UInt8 = 10,
        sessionSweepInterval: Duration = .seconds(600),
        verifier: (any CodeVerifying)? = nil,
        cluster: ClusterConfiguration? = nil,
        logger: Logger = Logger(label: "parley.backend")
    ) {
        self.verifier = verifier
        self.cluster = cluster
        self.host = host
        self.port = port
        self.sessionTTL = sessionTTL
        self.bcryptCost = bcryptCost
        self.sessionSweepInterval = sessionSweepInterval
        self.logger = logger
    }
}

/// The backend role: the `Account` and `Board` JSON-RPC services over a storage it owns.
///
/// Run it in a `ServiceGroup`; on graceful shutdown it stops accepting calls, lets the
/// calls in flight finish, then closes the storage.
public final class BackendServer: Service, Sendable {
    /// The JSON-RPC server.
    public let rpc: JSONRPCServer
    let storage: any Storage
    let configuration: BackendConfiguration

    /// Creates the backend over an opened, migrated storage, which it closes when it stops.
    public init(storage: any Storage, configuration: BackendConfiguration) {
        let accounts = AccountService(
            users: storage.users, sessions: storage.sessions, verifier: configuration.verifier,
            sessionTTL: configuration.sessionTTL, bcryptCost: configuration.bcryptCost
        )
        let board = BoardService(posts: storage.posts, accounts: accounts, fence: storage.fence)
        self.rpc = JSONRPCServer(
            configuration: .init(host: configuration.host, port: configuration.port, logger: configuration.logger),
            handlers: backendHandlers(accounts: accounts, board: board, chat: ChatService(chat: storage.chat), fence: storage.fence)
        )
        self.storage = storage
        self.configuration = configuration
        // In a cluster nothing is served before the election says this backend leads.
        if configuration.cluster != nil { storage.fence.set(.following(leader: nil)) }
    }

    /// The address the JSON-RPC server listens on, once running.
    public func boundAddress() async -> SocketAddress? {
        await self.rpc.boundAddress()
    }

    /// Serves until graceful shutdown, sweeping expired sessions meanwhile; closes the storage last.
    public func run() async throws {
        do {
            try await withThrowingTaskGroup(of: Void.self) { group in
                group.addTask { await self.sweepSessions() }
                if let cluster = self.configuration.cluster {
                    group.addTask {
                        guard let port = await self.rpc.boundAddress()?.port else { return }
                        let leadership = BackendLeadership(
                            storage: self.storage, zookeeper: cluster.zookeeper,
                            advertise: cluster.advertise ?? "\(self.configuration.host):\(port)", logger: self.configuration.logger
                        )
                        try await leadership.run()
                    }
                }
                defer { group.cancelAll() }
                try await self.rpc.run()
            }
        } catch {
            try? await self.storage.close()
            throw error
        }
        try await self.storage.close()
    }

    func sweepSessions() async {
        while true {
            do {
                try await Task.sleep(for: self.configuration.sessionSweepInterval)
            } catch {
                return
            }
            // Only the leader keeps the database tidy.
            if case .following = self.storage.fence.current { continue }
            do {
                let removed = try await self.storage.sessions.deleteExpired(now: Date())
                if removed > 0 { self.configuration.logger.debug("expired sessions removed", metadata: ["count": "\(removed)"]) }
            } catch {
                self.configuration.logger.warning("cannot remove expired sessions", metadata: ["error": "\(error)"])
            }
        }
    }
}
