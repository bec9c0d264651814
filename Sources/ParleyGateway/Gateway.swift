import Hummingbird
import Logging
import ParleyBalancer
import ParleyCore
import ParleyVerifier
import Prometheus

/// How to run a gateway.
public struct GatewayConfiguration: Sendable {
    /// Address to listen on.
    public var host: String
    /// Port to listen on; 0 picks a free one.
    public var port: Int
    /// Mark cookies `Secure` (set when the gateway is reached over TLS).
    public var secureCookies: Bool
    /// The IP addresses of reverse proxies whose `X-Forwarded-For` names the client (for the
    /// per-address limits); empty trusts none.
    public var trustedProxies: Set<String>
    /// Close HTTP connections idle this long, so a client that stalls mid-request
    /// does not hold a connection for ever.
    public var idleTimeout: Duration
    /// The contacts replicas the Contacts page and API talk to, tried in order; none
    /// turns those pages into a clear "not configured" answer.
    public var contactsServers: [(host: String, port: Int)]
    /// Where `/metrics` reads from; nil serves no metrics.
    public var metrics: PrometheusCollectorRegistry?
    /// Sends the verification codes of registration and password reset; without one those
    /// steps answer "unavailable".
    public var verifier: (any CodeVerifying)?
    /// Hands out chat servers and their tickets (`POST /api/v1/chat/ticket`); without one chat is unavailable.
    public var balancer: (any ChatServerAssigning)?
    /// The logger.
    public var logger: Logger

    /// Creates a configuration; defaults listen on 127.0.0.1:8080.
    public init(
        host: String = "127.0.0.1",
        port: Int = 8080,
        secureCookies: Bool = false,
        trustedProxies: Set<String> = [],
        idleTimeout: Duration = .seconds(30),
        contactsServers: [(host: String, port: Int)] = [],
        metrics: PrometheusCollectorRegistry? = nil,
        verifier: (any CodeVerifying)? = nil,
        balancer: (any ChatServerAssigning)? = nil,
        logger: Logger = Logger(label: "parley.gateway")
    ) {
        self.verifier = verifier
        self.balancer = balancer
        self.host = host
        self.port = port
        self.secureCookies = secureCookies
        self.trustedProxies = Set(trustedProxies.map { normalizedIPAddress($0) ?? $0 })
        self.idleTimeout = idleTimeout
        self.contactsServers = contactsServers
        self.metrics = metrics
        self.logger = logger
    }
}

/// Builds the gateway's router: pages, JSON API, `/healthz`, `/metrics`.
public func buildGatewayRouter(backend: any Backend, configuration: GatewayConfiguration) async throws -> Router<GatewayContext> {
    let cookie = SessionCookie(secure: configuration.secureCookies)
    let pages = try await Pages.load()
    let router = Router(context: GatewayContext.self)
    if !configuration.trustedProxies.isEmpty {
        router.add(middleware: ForwardedClientMiddleware(trustedProxies: configuration.trustedProxies))
    }
    router.add(middleware: MetricsMiddleware())
    router.add(middleware: LogRequestsMiddleware(.debug))
    router.add(middleware: WebErrorMiddleware(pages: pages))
    router.get("/healthz") { _, _ in "ok\n" }
    if let registry = configuration.metrics {
        router.get("/metrics") { _, _ in metricsResponse(registry) }
    }
    let codes = Codes(verifier: configuration.verifier)
    let web = WebController<GatewayContext>(backend: backend, codes: codes, cookie: cookie, pages: pages)
    web.addRoutes(to: router)
    let contacts = ContactsController(web: web, servers: configuration.contactsServers)
    contacts.addPageRoutes(to: router)
    let api = router.group("api/v1")
    APIController(
        backend: backend, codes: codes, cookie: cookie, openAPIDocument: try Pages.openAPIDocument(),
        balancer: configuration.balancer, extraRoutes: contacts.apiRoutes
    )
    .addRoutes(to: api)
    return router
}

/// Builds a gateway application in front of `backend`; run it in a `ServiceGroup`.
/// `onListening` gets the bound port (useful with port 0).
public func buildGateway(
    backend: any Backend,
    configuration: GatewayConfiguration,
    onListening: @escaping @Sendable (Int) async -> Void = { _ in }
) async throws -> some ApplicationProtocol {
    let router = try await buildGatewayRouter(backend: backend, configuration: configuration)
    let idle = configuration.idleTimeout.components
    let idleNanoseconds = idle.seconds * 1_000_000_000 + idle.attoseconds / 1_000_000_000
    return Application(
        router: router,
        server: .http1(configuration: .init(idleTimeout: .nanoseconds(idleNanoseconds))),
        configuration: .init(address: .hostname(configuration.host, port: configuration.port), serverName: "parley"),
        onServerRunning: { channel in await onListening(channel.localAddress?.port ?? configuration.port) },
        logger: configuration.logger
    )
}
