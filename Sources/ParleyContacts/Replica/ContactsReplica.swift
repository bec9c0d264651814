import Logging
import NIOCore
import NIOPosix
import NIOServerSupport
import ServiceLifecycle

/// A contacts replica (seed 003, `protocols/contacts.md`): serves clients, keeps its data in
/// its own SQLite file, and stays in sync with its peers. A ServiceLifecycle `Service`.
///
/// It listens for clients and peers on one port, dials every configured peer (greeting,
/// AskForUpdate, HeartBeats, redial with capped exponential back-off), and forwards each
/// client change to every connected peer once it is written. On graceful shutdown it stops
/// accepting, closes its connections and writes what is still queued; cancelled, it stops
/// at once, like a crash, keeping what it had written.
///
/// Metrics (dimension `replica`): gauges `contacts_clock`, `contacts_entries` and
/// `contacts_peers_up`; counters `contacts_bad_frames_total` and
/// `contacts_peer_overflows_total`.
public final class ContactsReplica: Service, Sendable {
    /// The configuration the replica was created with.
    public let configuration: ContactsReplicaConfiguration
    let core: ContactsReplicaCore
    let peers: ContactsPeerManager
    let eventLoopGroup: any EventLoopGroup
    let name: ContactsText
    var logger: Logger { self.configuration.logger }
    private let listening = ContactsListeningState()

    /// Opens (creating it when missing) the replica's SQLite file and loads its data.
    ///
    /// - Throws: ``ContactsFieldError`` when the name does not fit the protocol's 255 bytes
    ///   (or is empty); SQLite's errors when the file cannot be opened or read.
    public init(
        configuration: ContactsReplicaConfiguration,
        eventLoopGroup: any EventLoopGroup = MultiThreadedEventLoopGroup.singleton
    ) async throws {
        self.name = try ContactsText(configuration.name, field: .connectName)
        for peer in configuration.peers {
            _ = try ContactsText(peer.name, field: .connectName)
        }
        self.configuration = configuration
        self.eventLoopGroup = eventLoopGroup
        let logger = configuration.logger
        let database = try await ContactsDatabase.open(
            directory: configuration.dataDirectory, replica: configuration.name, logger: logger
        )
        let state: ContactsState
        do {
            state = try await database.load(logger: logger)
        } catch {
            try? await database.close()
            throw error
        }
        logger.info(
            "contacts loaded",
            metadata: [
                "contacts.database": "\(database.location)", "contacts.entries": "\(state.liveCount)",
                "contacts.tombstones": "\(state.tombstoneCount)", "contacts.clock": "\(state.clock)",
            ]
        )
        self.peers = ContactsPeerManager(configured: configuration.peers.map(\.name), replica: configuration.name, logger: logger)
        self.core = ContactsReplicaCore(
            state: state, database: database, peers: self.peers, name: configuration.name,
            maximumPending: configuration.maximumPendingWrites, logger: logger
        )
    }

    /// The address the replica listens on, once ``run()`` has bound it; useful with port 0.
    /// `nil` if binding failed or the replica has stopped.
    public func boundAddress() async -> SocketAddress? {
        await self.listening.address()
    }

    /// The replica's clock, entry count and the peers it has a link to.
    public func status() async -> ContactsReplicaStatus {
        let counts = await self.core.counts
        return ContactsReplicaStatus(
            name: self.configuration.name, clock: counts.clock, entries: counts.live,
            tombstones: counts.tombstones, peersUp: await self.peers.peersUp
        )
    }

    /// Serves until graceful shutdown or cancellation. Runs once per replica.
    ///
    /// - Throws: If the address cannot be bound.
    public func run() async throws {
        let server: NIOAsyncChannel<AcceptedConnection<[ContactsReplicaInbound], ByteBuffer>, Never>
        do {
            server = try await self.bind()
        } catch {
            self.logger.error(
                "cannot listen",
                metadata: ["contacts.address": "\(self.configuration.host):\(self.configuration.port)", "error": "\(error)"]
            )
            self.listening.stop()
            await self.core.close(flushing: false)
            throw error
        }
        if let address = server.channel.localAddress {
            self.listening.publish(address)
            self.logger.info("listening", metadata: ["contacts.address": "\(address)", "contacts.replica": "\(self.configuration.name)"])
        }

        let graceful = await withTaskGroup(of: Void.self) { group -> Bool in
            group.addTask { await self.core.runFlusher() }
            group.addTask { await self.acceptConnections(server) }
            for peer in self.configuration.peers {
                group.addTask { await self.dial(peer) }
            }
            let graceful: Bool
            do {
                try await gracefulShutdown()
                graceful = true
            } catch {
                graceful = false
            }
            server.channel.close(promise: nil)
            group.cancelAll()
            await group.waitForAll()
            return graceful
        }
        self.listening.stop()
        await self.core.close(flushing: graceful)
        self.logger.info("stopped", metadata: ["contacts.replica": "\(self.configuration.name)"])
    }

    /// Closes every link to the peer named `peer` (they are redialled as usual).
    func disconnect(peer: String) async {
        await self.peers.disconnect(peer: peer)
    }

    private func bind() async throws -> NIOAsyncChannel<AcceptedConnection<[ContactsReplicaInbound], ByteBuffer>, Never> {
        let readTimeout = self.configuration.readTimeout
        let silence = self.configuration.heartbeatInterval * 3
        return try await ServerBootstrap(group: self.eventLoopGroup)
            .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
            .serverChannelOption(.backlog, value: 256)
            .childChannelOption(.tcpOption(.tcp_nodelay), value: 1)
            // A client that sends its requests and then shuts down its side still gets the answers.
            .childChannelOption(.allowRemoteHalfClosure, value: true)
            .bind(host: self.configuration.host, port: self.configuration.port) { channel in
                channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.addHandler(
                        ByteToMessageHandler(
                            ContactsReplicaFrameDecoder(ContactsReplicaFrameReader(), readTimeout: readTimeout, silenceTimeout: silence)
                        )
                    )
                    try channel.pipeline.syncOperations.addHandler(ContactsFrameBatcher<ContactsReplicaInbound>())
                    return AcceptedConnection(try NIOAsyncChannel<[ContactsReplicaInbound], ByteBuffer>(wrappingChannelSynchronously: channel))
                }
            }
    }
}
