import JSONRPC
import Logging
import ParleyBalancer
import ParleyChat
import ParleyCore
import ParleyGateway
import ServiceLifecycle
import ZooKeeperClient

/// `parley serve chat` (and the chat server of `parley serve`): reaches the backend over JSON-RPC
/// (the cluster's leader with `--zookeeper`), binds, registers with the balancer, serves.
struct ChatRole: Service {
    let configuration: ChatServerConfiguration
    let secret: ChatSecret
    let balancer: any ChatServerReporting
    let zookeeper: ZooKeeperClient.Configuration?
    let backend: @Sendable () async throws -> (host: String, port: Int)

    func run() async throws {
        let logger = Logger(label: "parley.chat")
        if let zookeeper = self.zookeeper {
            let cluster = ClusterBackend(zookeeper: zookeeper, logger: logger)
            let server = try await self.bind(store: cluster, logger: logger)
            // The chat server stops first (last in the group), then the election watch.
            let group = ServiceGroup(services: [cluster, server], logger: logger)
            try await withGracefulShutdownHandler {
                try await group.run()
            } onGracefulShutdown: {
                Task { await group.triggerGracefulShutdown() }
            }
            return
        }
        let address = try await self.backend()
        let client = JSONRPCClient(
            configuration: .init(host: address.host, port: address.port, requestTimeout: .seconds(20), logger: logger)
        )
        do {
            try await self.bind(store: RPCBackend(client: client, logger: logger), logger: logger).run()
        } catch {
            await client.shutdown()
            throw error
        }
        await client.shutdown()
    }

    private func bind(store: any ChatRepository & Sendable, logger: Logger) async throws -> ChatServer {
        let server = try await ChatServer.bind(
            configuration: self.configuration, store: store, secret: self.secret, balancer: self.balancer, logger: logger
        )
        let host = self.configuration.host
        announce("chat server \(self.configuration.name) listening on \(host):\(server.tcpPort) (TCP)")
        Task {
            if let port = try? await server.webSocketPort() {
                announce("chat server \(self.configuration.name) listening on ws://\(host):\(port)/chat (WebSocket)")
            }
        }
        return server
    }
}
