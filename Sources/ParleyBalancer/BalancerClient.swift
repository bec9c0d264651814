import Foundation
import GRPCCore
import GRPCNIOTransportHTTP2
import Logging
import NIOCore
import ParleyCore
import ParleyGRPC
import ServiceLifecycle

/// A client of the balancer (``BalancerServer``): the gateway calls ``assign(userID:username:)``;
/// chat servers call ``register(_:)`` and ``reportLoad(name:connections:)`` (or run a
/// ``ChatServerHeartbeat``, which does both on schedule).
///
/// A `Service`: its connection lives while ``run()`` runs, so put it in the service group before
/// the services that call it (a group shuts its services down in reverse order). Calls made before
/// ``run()`` starts wait for it, within their timeout.
///
/// Failures are the `ParleyError`s the balancer throws, rebuilt exactly from its answer:
/// `.unavailable` ``ParleyError/noChatServer`` when no chat server is live, `.notFound` for a
/// report from a server the balancer does not know, `.invalidInput` for bad fields. When the
/// balancer cannot be reached — nothing listens, it is restarting, it does not answer within
/// ``timeout`` — a call fails with ``ParleyError/balancerUnreachable`` at once rather than waiting,
/// and the client reconnects by itself in the background, at most ``Limits/maxReconnectDelay``
/// apart. Calls are never retried.
public final class BalancerClient: Service, Sendable {
    /// The limits of the client.
    public enum Limits {
        /// The longest wait between two attempts to reconnect to a balancer that went away: 1 s.
        public static let maxReconnectDelay = Duration.seconds(1)
        /// The largest reply accepted: 16 KiB.
        public static let maxResponseBytes = 16 * 1024
    }

    /// How long a call may take in all, connecting included; 5 s by default.
    public let timeout: Duration
    private let client: GRPCClient<HTTP2ClientTransport.Posix>
    private let service: Parley_Balancer_V1_BalancerService.Client<HTTP2ClientTransport.Posix>
    private let logger: Logger

    /// Creates a client of the balancer at `host:port`; it connects when a call needs it, once
    /// ``run()`` runs.
    ///
    /// - Parameters:
    ///   - host: The balancer's IPv4 or IPv6 address, or a DNS name.
    ///   - port: Its gRPC port (``BalancerServer/defaultPort`` by default).
    ///   - timeout: How long a call may take in all.
    ///   - logger: For failures of the gRPC stack (which the caller sees as `.unavailable`).
    /// - Throws: `ParleyError(.invalidInput, …)` when `host:port` cannot be a target.
    public init(
        host: String,
        port: Int = BalancerServer.defaultPort,
        timeout: Duration = .seconds(5),
        logger: Logger = Logger(label: "parley.balancer.client")
    ) throws {
        let transport = try PlaintextClientTransport.make(
            host: host, port: port, maxReconnectDelay: Limits.maxReconnectDelay, service: "balancer"
        )
        self.client = GRPCClient(transport: transport)
        self.service = Parley_Balancer_V1_BalancerService.Client(wrapping: self.client)
        self.timeout = timeout
        self.logger = logger
    }

    /// Keeps the connection to the balancer until cancelled or shut down gracefully (then calls in
    /// flight finish first). Runs once per client.
    public func run() async throws {
        try await withGracefulShutdownHandler {
            try await self.client.runConnections()
        } onGracefulShutdown: {
            self.client.beginGracefulShutdown()
        }
    }

    /// Registers a chat server, or registers it again after a restart or a lost lease.
    ///
    /// - Returns: How often to report the load, and how long the registration lasts without a report.
    /// - Throws: `ParleyError`: `.unavailable` when the balancer cannot be reached or is full.
    public func register(_ server: ChatServerInfo) async throws -> ChatServerRegistry.Terms {
        let request = Parley_Balancer_V1_ChatServerInfo.with {
            $0.name = server.name
            $0.host = server.host
            $0.tcpPort = UInt32(server.tcpPort)
            $0.websocketPort = UInt32(server.websocketPort)
            $0.grpcPort = UInt32(server.grpcPort)
        }
        let response = try await self.calling("RegisterChatServer") { [service] options in
            try await service.registerChatServer(request, options: options)
        }
        guard response.heartbeatIntervalMs > 0, response.leaseMs > 0 else {
            self.logger.error(
                "balancer answered with bad terms",
                metadata: ["balancer.interval_ms": "\(response.heartbeatIntervalMs)", "balancer.lease_ms": "\(response.leaseMs)"]
            )
            throw ParleyError(.internal, "The balancer gave an unexpected answer; please try again later.")
        }
        return ChatServerRegistry.Terms(
            reportInterval: .milliseconds(response.heartbeatIntervalMs), lease: .milliseconds(response.leaseMs)
        )
    }

    /// Reports how many connections the chat server `name` holds now.
    ///
    /// - Throws: `ParleyError`: `.notFound` when the balancer does not know `name` (register again);
    ///   `.unavailable` when it cannot be reached.
    public func reportLoad(name: String, connections: Int) async throws {
        let request = Parley_Balancer_V1_LoadReport.with {
            $0.name = name
            $0.connections = UInt32(clamping: connections)
        }
        _ = try await self.calling("ReportLoad") { [service] options in
            try await service.reportLoad(request, options: options)
        }
    }

    /// Asks which chat server the user `userID`, named `username`, should connect to, with a ticket.
    ///
    /// - Throws: `ParleyError`: ``ParleyError/noChatServer`` when no chat server is live;
    ///   ``ParleyError/balancerUnreachable`` when the balancer cannot be reached; `.invalidInput`
    ///   for a user id that is not positive or an invalid username.
    public func assign(userID: Int64, username: String) async throws -> ChatAssignment {
        let request = Parley_Balancer_V1_AssignRequest.with {
            $0.userID = userID
            $0.username = username
        }
        let response = try await self.calling("AssignChatServer") { [service] options in
            try await service.assignChatServer(request, options: options)
        }
        return ChatAssignment(
            serverName: response.name,
            host: response.host,
            tcpPort: Int(response.tcpPort),
            websocketURL: response.websocketURL,
            token: response.token,
            expiresAt: Date(timeIntervalSince1970: Double(response.expiresAtMs) / 1000)
        )
    }

    // MARK: - Calls

    /// Runs one call with the timeout, fail-fast when the peer is down, and errors as `ParleyError`.
    private func calling<Response: Sendable>(
        _ method: String,
        _ body: (CallOptions) async throws -> Response
    ) async throws -> Response {
        try await ParleyError.balancerMapping.call(
            method, timeout: self.timeout, maxResponseBytes: Limits.maxResponseBytes, logger: self.logger, body
        )
    }
}
