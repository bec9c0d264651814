import GRPCCore
import GRPCNIOTransportHTTP2
import Logging
import ParleyGRPC
import ServiceLifecycle

/// The verifier role's server: ``VerificationGRPCService`` over gRPC on HTTP/2, as a `Service`.
///
/// Plain-text HTTP/2 (no TLS): the verifier listens on loopback or a private network, and only the
/// gateways call it. Requests are small, and so is the limit on them (``Limits/maxRequestBytes``).
///
/// ``run()`` serves until the task is cancelled (an abrupt stop) or the service group shuts down
/// gracefully: then the server stops accepting connections and RPCs and returns once the RPCs in
/// flight have answered, each within ``Limits/gracePeriod``. A server runs once; to restart, make a
/// new one (on the same port if wanted: the listening socket uses `SO_REUSEADDR`).
///
/// ```swift
/// let server = VerifierServer(host: "127.0.0.1", port: 0, codes: codes)
/// group.addTask { try await server.run() }
/// print("verifier listening on \(try await server.listeningAddress)")
/// ```
public struct VerifierServer: Service {
    /// The limits of the server.
    public enum Limits {
        /// The largest request message accepted: 16 KiB (a request holds an email address, a code and
        /// an IP address).
        public static let maxRequestBytes = 16 * 1024
        /// How long connections have to finish their RPCs once the server shuts down: 10 s.
        public static let gracePeriod = Duration.seconds(10)
    }

    /// The host (an IPv4 or IPv6 address) the server was asked to listen on.
    public let host: String
    private let server: GRPCServer<HTTP2ServerTransport.Posix>
    private let logger: Logger

    /// Creates a server for `codes`; it listens when ``run()`` is called.
    ///
    /// - Parameters:
    ///   - host: An IPv4 or IPv6 address to listen on, such as `127.0.0.1`, `0.0.0.0` or `::1`
    ///     (`localhost` means `127.0.0.1`).
    ///   - port: The TCP port; 0 picks a free one (see ``boundPort()``).
    ///   - codes: The rules of the codes.
    ///   - logger: For the server's start and stop, and for failures that are not the user's.
    public init(host: String, port: Int, codes: VerificationCodes, logger: Logger = Logger(label: "parley.verifier")) {
        let (host, transport) = PlaintextServerTransport.make(
            host: host, port: port, maxRequestBytes: Limits.maxRequestBytes, gracePeriod: Limits.gracePeriod
        )
        self.host = host
        self.server = GRPCServer(
            transport: transport,
            services: [VerificationGRPCService(codes: codes, logger: logger)]
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
                    if let address = try? await self.listeningAddress {
                        self.logger.info("verifier listening", metadata: ["verifier.address": "\(address)"])
                    }
                }
            }
        } onGracefulShutdown: {
            self.logger.info("verifier shutting down")
            self.server.beginGracefulShutdown()
        }
    }

    /// The address the server listens on, `host:port` (`[host]:port` for IPv6), once it is listening.
    ///
    /// Waits until ``run()`` has bound the address.
    ///
    /// - Throws: When the address could not be bound, or the server has stopped.
    public var listeningAddress: String {
        get async throws {
            let address = try await self.server.transport.listeningAddress
            if let ipv4 = address.ipv4 {
                return "\(ipv4.host):\(ipv4.port)"
            }
            if let ipv6 = address.ipv6 {
                return "[\(ipv6.host)]:\(ipv6.port)"
            }
            return "\(address)"
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
        throw RPCError(code: .internalError, message: "The verifier listens on \(address), which has no TCP port.")
    }
}
