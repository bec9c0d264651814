import Logging
import ParleyCore
import ServiceLifecycle

/// A chat server's side of the balancer protocol, as a `Service`: registers the server, then reports
/// its connection count every report interval the balancer asked for, until shutdown.
///
/// - When a report fails with `.notFound` (the balancer restarted, or the lease ran out while the
///   balancer was unreachable), it registers again at once and reports.
/// - When the balancer cannot be reached, it tries again after ``retryDelay`` (or the report
///   interval, whichever is shorter) and logs once per outage, not once per try.
/// - On shutdown it simply stops: the balancer drops the server when its lease runs out.
///
/// Give it the ``BalancerClient`` (or ``BalancerConnection``) it calls; that must run in the same
/// service group, before it.
public struct ChatServerHeartbeat: Service {
    /// The server this heartbeat registers.
    public let server: ChatServerInfo
    /// How long to wait before trying again after a failure: 1 s by default.
    public let retryDelay: Duration
    private let client: any ChatServerReporting
    private let connections: @Sendable () -> Int
    private let logger: Logger

    /// Creates a heartbeat.
    ///
    /// - Parameters:
    ///   - client: The balancer's client (``BalancerClient`` or ``BalancerConnection``).
    ///   - server: This chat server.
    ///   - retryDelay: The wait before trying again after a failure.
    ///   - logger: For registrations and outages.
    ///   - connections: The number of client connections the server holds now; called once per report.
    public init(
        client: any ChatServerReporting,
        server: ChatServerInfo,
        retryDelay: Duration = .seconds(1),
        logger: Logger = Logger(label: "parley.chat.balancer"),
        connections: @escaping @Sendable () -> Int
    ) {
        self.client = client
        self.server = server
        self.retryDelay = retryDelay
        self.connections = connections
        self.logger = logger
    }

    /// Registers and reports until cancelled or shut down gracefully.
    public func run() async throws {
        do {
            try await cancelWhenGracefulShutdown {
                try await self.loop()
            }
        } catch is CancellationError {
            // Shut down.
        }
    }

    private func loop() async throws {
        var terms: ChatServerRegistry.Terms?
        var failing = false
        while true {
            var registeredNow = false
            var wait = self.retryDelay
            do {
                let current: ChatServerRegistry.Terms
                if let terms {
                    current = terms
                } else {
                    current = try await self.client.register(self.server)
                    terms = current
                    registeredNow = true
                    self.logger.info(
                        "registered with the balancer",
                        metadata: ["chat.server": "\(self.server)", "balancer.interval": "\(current.reportInterval)"]
                    )
                }
                try await self.client.reportLoad(name: self.server.name, connections: self.connections())
                if failing {
                    self.logger.info("balancer reachable again", metadata: ["chat.server": "\(self.server.name)"])
                    failing = false
                }
                wait = current.reportInterval
            } catch let error as ParleyError where error.code == .notFound && !registeredNow {
                // Forgotten by the balancer: register again right away (once; then wait as for any failure).
                self.logger.info(
                    "balancer does not know this server; registering again",
                    metadata: ["chat.server": "\(self.server.name)", "error": "\(error)"]
                )
                terms = nil
                continue
            } catch is CancellationError {
                throw CancellationError()
            } catch {
                if !failing {
                    self.logger.warning(
                        "cannot report to the balancer; trying again",
                        metadata: ["chat.server": "\(self.server.name)", "error": "\(error)"]
                    )
                    failing = true
                }
                if (error as? ParleyError)?.code == .notFound {
                    terms = nil
                }
                wait = min(terms?.reportInterval ?? self.retryDelay, self.retryDelay)
            }
            try await Task.sleep(for: wait)
        }
    }
}
