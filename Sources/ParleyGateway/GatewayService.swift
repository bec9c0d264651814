import JSONRPC
import ParleyCore
import Logging
import ServiceLifecycle
import ZooKeeperClient

/// The gateway role as a `Service`: connects a JSON-RPC client pool to the backend, then
/// serves HTTP until graceful shutdown.
public struct GatewayService: Service {
    let configuration: GatewayConfiguration
    let backend: @Sendable () async throws -> (host: String, port: Int)
    let zookeeper: ZooKeeperClient.Configuration?
    let contacts: @Sendable () async -> [(host: String, port: Int)]
    let onListening: @Sendable (Int) async -> Void

    /// Creates the service. `backend` gives the backend's JSON-RPC address when the gateway
    /// starts (in one process it waits for the backend to bind its port); `contacts` adds
    /// contacts replicas known only then. With `zookeeper`, the gateway calls whichever backend
    /// leads the election there (`ClusterBackend`) and `backend` is not used.
    public init(
        configuration: GatewayConfiguration,
        backend: @escaping @Sendable () async throws -> (host: String, port: Int),
        zookeeper: ZooKeeperClient.Configuration? = nil,
        contacts: @escaping @Sendable () async -> [(host: String, port: Int)] = { [] },
        onListening: @escaping @Sendable (Int) async -> Void = { _ in }
    ) {
        self.configuration = configuration
        self.backend = backend
        self.zookeeper = zookeeper
        self.contacts = contacts
        self.onListening = onListening
    }

    /// Serves until graceful shutdown, then closes the backend connections.
    public func run() async throws {
        var configuration = self.configuration
        configuration.contactsServers += await self.contacts()
        try await runWithBackend(zookeeper: self.zookeeper, address: self.backend, logger: configuration.logger) { backend in
            try await buildGateway(backend: backend, configuration: configuration, onListening: self.onListening)
        }
    }
}

/// Runs the service `make` builds on the backend, until it ends: with `zookeeper`, the cluster's
/// leader, followed through the election (the service stops first, then the election watch);
/// else the backend at `address()`, through a JSON-RPC client closed at the end. Gateways and
/// chat servers reach the backend this way.
public func runWithBackend(
    zookeeper: ZooKeeperClient.Configuration?,
    address: @Sendable () async throws -> (host: String, port: Int),
    logger: Logger,
    _ make: (any Backend & ChatRepository) async throws -> any Service
) async throws {
    if let zookeeper {
        let cluster = ClusterBackend(zookeeper: zookeeper, logger: logger)
        let service = try await make(cluster)
        let group = ServiceGroup(services: [cluster, service], logger: logger)
        try await withGracefulShutdownHandler {
            try await group.run()
        } onGracefulShutdown: {
            Task { await group.triggerGracefulShutdown() }
        }
        return
    }
    let (host, port) = try await address()
    var logger = logger
    logger[metadataKey: "jsonrpc.backend"] = "\(host):\(port)"
    // Longer than the backend's own database timeouts (connect 5 s + query 10 s), so a slow
    // write is not reported as failed while it still commits.
    let client = JSONRPCClient(configuration: .init(host: host, port: port, requestTimeout: .seconds(20), logger: logger))
    do {
        try await make(RPCBackend(client: client, logger: logger)).run()
    } catch {
        await client.shutdown()
        throw error
    }
    await client.shutdown()
}
