import Logging
import ParleyCore
import ServiceLifecycle

/// A ``BalancerClient`` whose address is known only once the process runs (in `parley serve` the
/// balancer binds its port in the same service group): a `Service` that asks for the address, then
/// keeps the client's connection until shutdown. Calls made meanwhile wait for the client.
///
/// The same shape as `VerifierConnection`: put it in the service group after the balancer and
/// before the gateway and chat servers that call it.
public final class BalancerConnection: Service, ChatServerAssigning, ChatServerReporting {
    private let client: Task<BalancerClient, any Error>

    /// Creates the connection; `address` is called once, when the first of `run()` or a call needs it.
    public init(
        timeout: Duration = .seconds(5),
        logger: Logger = Logger(label: "parley.balancer.client"),
        address: @escaping @Sendable () async throws -> (host: String, port: Int)
    ) {
        self.client = Task {
            let (host, port) = try await address()
            return try BalancerClient(host: host, port: port, timeout: timeout, logger: logger)
        }
    }

    /// Keeps the connection to the balancer until cancelled or shut down gracefully.
    public func run() async throws {
        try await withTaskCancellationHandler {
            try await self.connected().run()
        } onCancel: {
            self.client.cancel()
        }
    }

    public func assign(userID: Int64, username: String) async throws -> ChatAssignment {
        try await self.connected().assign(userID: userID, username: username)
    }

    public func register(_ server: ChatServerInfo) async throws -> ChatServerRegistry.Terms {
        try await self.connected().register(server)
    }

    public func reportLoad(name: String, connections: Int) async throws {
        try await self.connected().reportLoad(name: name, connections: connections)
    }

    private func connected() async throws -> BalancerClient {
        do {
            return try await self.client.value
        } catch let error as ParleyError {
            throw error
        } catch {
            throw ParleyError.balancerUnreachable
        }
    }
}
