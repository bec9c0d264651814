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
        try await runWithBackend(zookeeper: self.zookeeper, address: self.backend, logger: logger) { store in
            try await self.bind(store: store, logger: logger)
        }
    }

    private func bind(store: any ChatRepository, logger: Logger) async throws -> ChatServer {
        let server: ChatServer
        do {
            server = try await ChatServer.bind(
                configuration: self.configuration, store: store, secret: self.secret, balancer: self.balancer, logger: logger
            )
        } catch {
            logger.error(
                "chat server cannot listen",
                metadata: ["chat.tcp": "\(self.configuration.host):\(self.configuration.tcpPort)", "error": "\(error)"]
            )
            throw error
        }
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
