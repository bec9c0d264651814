import Foundation
import Logging
import ParleyCore
import ServiceLifecycle
import ZooKeeperClient

/// How a backend joins a cluster: ZooKeeper, and the address other roles reach it at.
public struct ClusterConfiguration: Sendable {

    /// The ensemble, its session timeout and request limits.
    public var zookeeper: ZooKeeperClient.Configuration
    /// `HOST:PORT` of this backend's JSON-RPC server as gateways reach it, published in the
    /// election; `nil` for the host it listens on and the port it bound.
    public var advertise: String?

    /// Creates the configuration.
    public init(zookeeper: ZooKeeperClient.Configuration, advertise: String?) {
        self.zookeeper = zookeeper
        self.advertise = advertise
    }
}

/// Takes part in the backend election (ZooKeeper's recipe, at `BackendAPI.electionPath`) and keeps
/// the storage's `WriteFence` in step with the role:
///
/// - leader: records its epoch in the database (refused if a newer leader recorded a higher one),
///   then serves and writes with it;
/// - follower: every call is refused with `not_leader` naming the leader;
/// - session disconnected or expired: stops serving at once (it can no longer know it leads),
///   then joins again with a new session;
/// - graceful shutdown: resigns, so the next backend leads without waiting for a session timeout.
final class BackendLeadership: Service, Sendable {
    let storage: any Storage
    let zookeeper: ZooKeeperClient.Configuration
    let advertise: String
    let logger: Logger

    init(storage: any Storage, zookeeper: ZooKeeperClient.Configuration, advertise: String, logger: Logger) {
        self.storage = storage
        self.zookeeper = zookeeper
        self.advertise = advertise
        self.logger = logger
    }

    func run() async throws {
        let logger = self.logger
        while !Task.isCancelled && !Task.isShuttingDownGracefully {
            let client: ZooKeeperClient
            do {
                client = try await ZooKeeperClient.connect(configuration: self.zookeeper)
            } catch {
                logger.warning("cannot reach ZooKeeper; not serving", metadata: ["error": "\(error)"])
                try? await Task.sleep(for: .milliseconds(500))
                continue
            }
            let election = LeaderElection(
                client: client, path: BackendAPI.electionPath, payload: Array(self.advertise.utf8)
            )
            await withGracefulShutdownHandler {
                await withTaskGroup(of: Void.self) { group in
                    group.addTask {
                        for await role in election.roles() { await self.apply(role, election: election, logger: logger) }
                    }
                    do {
                        try await election.run()
                    } catch {
                        logger.warning("left the election; joining again", metadata: ["error": "\(error)"])
                    }
                    group.cancelAll()
                }
            } onGracefulShutdown: {
                Task { await election.resign() }
            }
            self.storage.fence.set(.following(leader: nil))
            await client.close()
        }
    }

    /// Moves the fence to what `role` allows.
    func apply(_ role: LeaderElection.Role, election: LeaderElection, logger: Logger) async {
        switch role {
        case .leader(let epoch):
            // Record the epoch before serving; retry while the database is unreachable and the
            // candidate still leads.
            while election.role == role {
                do {
                    if try await self.storage.claimLeadership(epoch: epoch) {
                        logger.notice("leading", metadata: ["cluster.epoch": "\(epoch)"])
                    } else {
                        logger.error("a newer leader recorded a higher epoch; not serving", metadata: ["cluster.epoch": "\(epoch)"])
                    }
                    return
                } catch {
                    logger.warning("cannot record the leadership epoch; retrying", metadata: ["error": "\(error)"])
                    try? await Task.sleep(for: .milliseconds(200))
                }
            }
        case .follower(let leader):
            let address = String(decoding: leader.payload, as: UTF8.self)
            self.storage.fence.set(.following(leader: address))
            logger.info("following", metadata: ["cluster.leader": "\(address)", "cluster.epoch": "\(leader.epoch)"])
        case .unknown:
            self.storage.fence.set(.following(leader: nil))
            logger.info("role unknown; not serving")
        }
    }
}
