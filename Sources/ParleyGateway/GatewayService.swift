import JSONRPC
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
        if let zookeeper = self.zookeeper {
            let cluster = ClusterBackend(zookeeper: zookeeper, logger: configuration.logger)
            let app = try await buildGateway(backend: cluster, configuration: configuration, onListening: self.onListening)
            // The gateway stops first (last in the group), then the election watch.
            let group = ServiceGroup(services: [cluster, app], logger: configuration.logger)
            try await withGracefulShutdownHandler {
                try await group.run()
            } onGracefulShutdown: {
                Task { await group.triggerGracefulShutdown() }
            }
            return
        }
        let address = try await self.backend()
        var logger = self.configuration.logger
        logger[metadataKey: "jsonrpc.backend"] = "\(address.host):\(address.port)"
        // Longer than the backend's own database timeouts (connect 5 s + query 10 s), so a slow
        // write is not reported as failed while it still commits.
        let client = JSONRPCClient(
            configuration: .init(host: address.host, port: address.port, requestTimeout: .seconds(20), logger: logger)
        )
        let app = try await buildGateway(
            backend: RPCBackend(client: client, logger: logger), configuration: configuration, onListening: self.onListening
        )
        do {
            try await app.run()
        } catch {
            await client.shutdown()
            throw error
        }
        await client.shutdown()
    }
}
