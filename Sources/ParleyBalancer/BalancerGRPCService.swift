import GRPCCore
import Logging
import ParleyCore
import ParleyGRPC

/// The `parley.balancer.v1.BalancerService` gRPC service: a ``ChatServerRegistry`` and a
/// ``ChatTicketSigner`` on the network.
///
/// A `ParleyError` goes back as an `RPCError` whose message is its wire form `"code: message"` (see
/// `ParleyError+BalancerGRPC.swift` for the status codes), so that ``BalancerClient`` rebuilds the
/// very same error. Tokens are never logged. Run it with ``BalancerServer``.
public struct BalancerGRPCService: Parley_Balancer_V1_BalancerService.SimpleServiceProtocol {
    private let registry: ChatServerRegistry
    private let signer: ChatTicketSigner
    private let logger: Logger

    /// Creates the service.
    ///
    /// - Parameters:
    ///   - registry: The chat servers and their load.
    ///   - signer: Signs the tickets of assignments.
    ///   - logger: For assignments (at debug level) and failures that are not a `ParleyError`.
    public init(registry: ChatServerRegistry, signer: ChatTicketSigner, logger: Logger = Logger(label: "parley.balancer.grpc")) {
        self.registry = registry
        self.signer = signer
        self.logger = logger
    }

    /// Registers a chat server; see ``ChatServerRegistry/register(_:)``.
    public func registerChatServer(
        request: Parley_Balancer_V1_ChatServerInfo,
        context: ServerContext
    ) async throws -> Parley_Balancer_V1_Registration {
        try self.answering("RegisterChatServer") {
            let terms = try self.registry.register(try Self.chatServer(request))
            return .with {
                $0.heartbeatIntervalMs = Self.milliseconds(terms.reportInterval)
                $0.leaseMs = Self.milliseconds(terms.lease)
            }
        }
    }

    /// Records a chat server's load; see ``ChatServerRegistry/report(name:connections:)``.
    public func reportLoad(
        request: Parley_Balancer_V1_LoadReport,
        context: ServerContext
    ) async throws -> Parley_Balancer_V1_LoadAck {
        try self.answering("ReportLoad") {
            try self.registry.report(name: request.name, connections: Int(request.connections))
            return Parley_Balancer_V1_LoadAck()
        }
    }

    /// Picks the least-loaded live chat server and signs a ticket for it.
    public func assignChatServer(
        request: Parley_Balancer_V1_AssignRequest,
        context: ServerContext
    ) async throws -> Parley_Balancer_V1_Assignment {
        try self.answering("AssignChatServer") {
            guard request.userID > 0 else {
                throw ParleyError(.invalidInput, "A user id is a positive number.")
            }
            let username = try Username(request.username).value
            let server = try self.registry.assign()
            let signed = try self.signer.sign(userID: request.userID, username: username, serverName: server.name)
            self.logger.debug(
                "chat server assigned", metadata: ["user.id": "\(request.userID)", "chat.server": "\(server.name)"]
            )
            return .with {
                $0.name = server.name
                $0.host = server.host
                $0.tcpPort = UInt32(server.tcpPort)
                $0.websocketURL = server.websocketURL
                $0.token = signed.token
                $0.expiresAtMs = signed.ticket.expiresAtMilliseconds
            }
        }
    }

    // MARK: - Requests

    /// The chat server of a registration; bad fields are `.invalidInput`.
    static func chatServer(_ request: Parley_Balancer_V1_ChatServerInfo) throws(ParleyError) -> ChatServerInfo {
        try ChatServerInfo(
            name: request.name,
            host: request.host,
            tcpPort: Int(request.tcpPort),
            websocketPort: Int(request.websocketPort),
            grpcPort: Int(request.grpcPort)
        )
    }

    /// `duration` in whole milliseconds, at least 1.
    static func milliseconds(_ duration: Duration) -> Int64 {
        let components = duration.components
        return max(1, components.seconds * 1000 + components.attoseconds / 1_000_000_000_000_000)
    }

    // MARK: - Errors

    /// Runs `body`, turning what it throws into the `RPCError` the client expects.
    private func answering<Response: Sendable>(_ method: String, _ body: () throws -> Response) throws -> Response {
        do {
            return try body()
        } catch let error as ParleyError {
            throw error.balancerRPCError
        } catch {
            self.logger.error("balancer RPC failed", metadata: ["grpc.method": "\(method)", "error": "\(error)"])
            throw ParleyError(.internal, "The balancer failed; please try again later.").balancerRPCError
        }
    }
}
