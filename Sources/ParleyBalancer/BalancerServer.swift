import GRPCCore
import GRPCNIOTransportHTTP2
import Logging
import ParleyGRPC
import ServiceLifecycle

/// The balancer role's server: ``BalancerGRPCService`` over gRPC on HTTP/2, as a `Service`.
///
/// Plain-text HTTP/2 (no TLS): the balancer listens on loopback or a private network; chat servers
/// and gateways call it. Requests are small, and so is the limit on them (``Limits/maxRequestBytes``).
///
/// ``run()`` serves until the task is cancelled (an abrupt stop) or the service group shuts down
/// gracefully: then the server stops accepting connections and RPCs and returns once the RPCs in
/// flight have answered, each within ``Limits/gracePeriod``. A server runs once; to restart, make a
/// new one (on the same port if wanted: the listening socket uses `SO_REUSEADDR`).
///
/// ```swift
/// let server = BalancerServer(configuration: .init(host: "127.0.0.1", port: 0, secret: secret))
/// group.addTask { try await server.run() }
/// print("balancer listening on port \(try await server.boundPort())")
/// ```
public struct BalancerServer: Service {
    /// The default gRPC port: 59900.
    public static let defaultPort = 59900

    /// The limits of the server.
    public enum Limits {
        /// The largest request message accepted: 16 KiB (requests hold a few names and numbers).
        public static let maxRequestBytes = 16 * 1024
        /// How long connections have to finish their RPCs once the server shuts down: 10 s.
        public static let gracePeriod = Duration.seconds(10)
    }

    /// What a balancer needs.
    public struct Configuration: Sendable {
        /// An IPv4 or IPv6 address to listen on (`localhost` means `127.0.0.1`).
        public var host: String
        /// The TCP port; 0 picks a free one.
        public var port: Int
        /// The secret shared with the chat servers.
        public var secret: ChatSecret
        /// The report interval, lease and size limit of the registry.
        public var registry: ChatServerRegistry.Configuration
        /// How long tickets are accepted.
        public var ticketLifetime: Duration

        /// Creates a configuration; see the properties.
        public init(
            host: String = "127.0.0.1",
            port: Int = BalancerServer.defaultPort,
            secret: ChatSecret,
            registry: ChatServerRegistry.Configuration = .init(),
            ticketLifetime: Duration = ChatTicketSigner.defaultLifetime
        ) {
            self.host = host
            self.port = port
            self.secret = secret
            self.registry = registry
            self.ticketLifetime = ticketLifetime
        }
    }

    /// The host (an IPv4 or IPv6 address) the server was asked to listen on.
    public let host: String
    /// The chat servers it knows.
    public let registry: ChatServerRegistry
    private let server: GRPCServer<HTTP2ServerTransport.Posix>
    private let logger: Logger

    /// Creates a balancer from `configuration`; it listens when ``run()`` is called.
    public init(
        configuration: Configuration,
        clock: BalancerClock = .system,
        logger: Logger = Logger(label: "parley.balancer")
    ) {
        self.init(
            host: configuration.host,
            port: configuration.port,
            registry: ChatServerRegistry(configuration: configuration.registry, clock: clock, logger: logger),
            signer: ChatTicketSigner(secret: configuration.secret, lifetime: configuration.ticketLifetime, clock: clock),
            logger: logger
        )
    }

    /// Creates a server over `registry` and `signer`; it listens when ``run()`` is called.
    ///
    /// - Parameters:
    ///   - host: An IPv4 or IPv6 address to listen on, such as `127.0.0.1`, `0.0.0.0` or `::1`
    ///     (`localhost` means `127.0.0.1`).
    ///   - port: The TCP port; 0 picks a free one (see ``boundPort()``).
    ///   - registry: The chat servers and their load.
    ///   - signer: Signs the tickets.
    ///   - logger: For the server's start and stop, and for failures that are not the caller's.
    public init(
        host: String,
        port: Int,
        registry: ChatServerRegistry,
        signer: ChatTicketSigner,
        logger: Logger = Logger(label: "parley.balancer")
    ) {
        let (host, transport) = PlaintextServerTransport.make(
            host: host, port: port, maxRequestBytes: Limits.maxRequestBytes, gracePeriod: Limits.gracePeriod
        )
        self.host = host
        self.registry = registry
        self.server = GRPCServer(
            transport: transport,
            services: [BalancerGRPCService(registry: registry, signer: signer, logger: logger)]
        )
        self.logger = logger
    }

    /// Serves until cancelled or shut down gracefully.
    ///
    /// - Throws: When the address cannot be bound (in use, not an address of this machine, not an
    ///   IP address), or when the transport fails.
    public func run() async throws {
        try await withGracefulShutdownHandler {
            try await withThrowingDiscardingTaskGroup { group in
                group.addTask {
                    try await self.server.serve()
                }
                group.addTask {
                    // Only to log the address; a bind failure is thrown by `serve()`.
                    if let port = try? await self.boundPort() {
                        let host = self.host.contains(":") ? "[\(self.host)]" : self.host
                        self.logger.info("balancer listening", metadata: ["balancer.address": "\(host):\(port)"])
                    }
                }
            }
        } onGracefulShutdown: {
            self.logger.info("balancer shutting down")
            self.server.beginGracefulShutdown()
        }
    }

    /// The TCP port the server listens on (the one picked when it was asked for port 0).
    ///
    /// Waits until ``run()`` has bound the address.
    ///
    /// - Throws: When the address could not be bound, or the server has stopped.
    public func boundPort() async throws -> Int {
        let address = try await self.server.transport.listeningAddress
        if let port = address.ipv4?.port ?? address.ipv6?.port {
            return port
        }
        throw RPCError(code: .internalError, message: "The balancer listens on \(address), which has no TCP port.")
    }
}
