import ArgumentParser
import Foundation
import Logging
import Metrics
import NIOCore
import ParleyBackend
import ParleyBalancer
import ParleyChat
import ParleyContacts
import ParleyCore
import ParleyGateway
import ParleyStorage
import ParleyVerifier
import Prometheus
import RedisClient
import SMTPClient
import ServiceLifecycle
import ZooKeeperClient

/// `parley serve [ROLE]`: runs one role, or every role in one process.
struct ServeCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "serve",
        abstract: "Run Parley's servers: every role in one process, or one role.",
        discussion: """
            Options fall back to PARLEY_<NAME> environment variables (PARLEY_HTTP_PORT, \
            PARLEY_DATA_DIR, PARLEY_BACKEND, …), then to the defaults shown.
            """
    )

    enum Role: String, ExpressibleByArgument, CaseIterable {
        case all, backend, gateway, contacts, verifier, balancer, chat
    }

    @Argument(help: "The role to run: all (default), backend, gateway, verifier, balancer, chat or contacts.")
    var role: Role = .all

    @Option(help: "Address to listen on (default 127.0.0.1).")
    var host: String?

    @Option(help: "Gateway HTTP port (default 8080).")
    var httpPort: Int?

    @Option(help: "Backend JSON-RPC port (default 1234).")
    var rpcPort: Int?

    @Option(help: "Folder of the embedded SQLite database (default ./parley-data).")
    var dataDir: String?

    @Option(help: "The database: sqlite:PATH or postgres://USER:PASSWORD@HOST:PORT/DB?sslmode=require (default: SQLite in --data-dir). Prefer PARLEY_DATABASE_URL, which keeps the password out of `ps`.")
    var database: String?

    @Flag(help: "Do not apply pending migrations at start (env PARLEY_SKIP_MIGRATIONS=1); refuse to start while any is pending.")
    var skipMigrations = false

    @Option(help: "The backend a gateway calls, HOST:PORT (default 127.0.0.1:<rpc-port>).")
    var backend: String?

    @Option(help: "Verifier gRPC port (default 65500).")
    var verifierPort: Int?

    @Option(help: "The verifier the backend and the gateway call, HOST:PORT (default 127.0.0.1:<verifier-port>).")
    var verifier: String?

    @Option(help: "Verifier: keep codes in Redis, redis://:PASSWORD@HOST:PORT/DB (default: in memory). Prefer PARLEY_REDIS_URL, which keeps the password out of `ps`.")
    var redis: String?

    @Option(help: "Verifier: send mail over SMTP, smtp://USER:PASSWORD@HOST:587 (STARTTLS), smtps://…:465, or smtp://HOST:25?security=none (default: .eml files in <data-dir>/outbox). Prefer PARLEY_SMTP_URL.")
    var smtp: String?

    @Option(help: "Verifier: the From address of the code mails (default no-reply@parley.localhost).")
    var mailFrom: String?

    @Option(help: "Balancer gRPC port (default 59900).")
    var balancerPort: Int?

    @Option(help: "The balancer gateways and chat servers call, HOST:PORT (default 127.0.0.1:<balancer-port>).")
    var balancer: String?

    @Option(help: "Chat server: its name, registered with the balancer; tickets are bound to it (default chat-1).")
    var chatName: String?

    @Option(help: "Chat server TCP port of the framed protocol (default 60000).")
    var chatPort: Int?

    @Option(help: "Chat server WebSocket port, path /chat (default 60080).")
    var chatWsPort: Int?

    @Option(help: "Chat server: the host clients connect to, as the balancer hands it out (default <host>).")
    var chatAdvertise: String?

    @Option(help: "Chat server: how often clients send a heartbeat, in seconds, 1 to 3600, as told to them at login (default 10).")
    var chatHeartbeat: Int?

    @Option(help: "Chat server: a connection silent for this many seconds is closed; more than --chat-heartbeat, at most 86400 (default 30).")
    var chatIdleTimeout: Int?

    @Option(help: "Cluster: the ZooKeeper ensemble, HOST:PORT,HOST:PORT; backends elect a leader there, gateways follow it (env PARLEY_ZOOKEEPER).")
    var zookeeper: String?

    @Option(help: "Cluster: the backend's JSON-RPC address as gateways reach it, HOST:PORT (default <host>:<rpc-port>; env PARLEY_ADVERTISE).")
    var advertise: String?

    @Option(help: "Cluster: the ZooKeeper session timeout in milliseconds; a dead leader is replaced about this long after (default 1500; ZooKeeper's tickTime must be at most half).")
    var zookeeperSessionMs: Int?

    @Option(help: "Minutes a session lasts without use (default 60).")
    var sessionMinutes: Int?

    @Flag(help: "Mark cookies Secure: set when users reach the gateway over HTTPS (env PARLEY_SECURE_COOKIES=1).")
    var secureCookies = false

    @Option(help: "Gateway: the IP address of a reverse proxy whose X-Forwarded-For names the client (for the per-address limits of logins and codes); repeat for each (env PARLEY_TRUSTED_PROXIES=A,B).")
    var trustedProxy: [String] = []

    @Option(help: "Contacts replica: its name, sent to peers (default contact-server-1).")
    var name: String?

    @Option(help: "Contacts replica: HOST:PORT to listen on (default 127.0.0.1:9000; the protocol has no authentication, keep it on loopback or a private network).")
    var listen: String?

    @Option(help: "Contacts replica: a peer replica NAME@HOST:PORT; repeat for each.")
    var peer: [String] = []

    @Option(help: "Gateway: the contacts replicas for the Contacts page, HOST:PORT,HOST:PORT (env PARLEY_CONTACTS).")
    var contacts: String?

    @Option(help: "Serve Prometheus /metrics and /healthz on this port (0 picks one) for roles without HTTP of their own: backend, contacts (env PARLEY_METRICS_PORT).")
    var metricsPort: Int?

    @Option(help: "trace, debug, info, notice, warning, error or critical (default info).")
    var logLevel: String?

    @Option(help: "Threads for network I/O, NIO's event loops; handlers run on Swift concurrency's pool, a thread per core (default half the cores, at least 1; for contacts alone, a thread per core).")
    var eventLoopThreads: Int?

    func run() async throws {
        let settings = try Settings(self)
        useEventLoopThreads(settings.eventLoopThreads)
        let registry = PrometheusCollectorRegistry()
        MetricsSystem.bootstrap(PrometheusMetricsFactory(registry: registry))
        LoggingSystem.bootstrap { label in
            var handler = StreamLogHandler.standardError(label: label)
            handler.logLevel = settings.logLevel
            return handler
        }
        let logger = Logger(label: "parley")

        var services: [any Service] = []
        let failures = RoleFailures()
        /// Adds a role: a failure names it and its address; `bound` is announced once it listens.
        func addRole(_ name: String, at address: String, _ service: any Service, bound: (@Sendable () async -> SocketAddress?)? = nil) {
            services.append(RoleService(name: "\(name) on \(address)", service: service, failures: failures))
            if let bound { services.append(AnnounceService(name: name, address: bound)) }
        }
        var redis: RedisClient?
        var verifierServer: VerifierServer?
        if self.role == .all || self.role == .verifier {
            let (codes, client) = try settings.verificationCodes()
            redis = client
            // In one process the verifier is reached over loopback only, like the backend.
            let host = self.role == .all ? "127.0.0.1" : settings.host
            let server = VerifierServer(host: host, port: settings.verifierPort, codes: codes, logger: Logger(label: "parley.verifier"))
            verifierServer = server
            addRole("verifier (gRPC)", at: "\(host):\(settings.verifierPort)", server) {
                try? SocketAddress(ipAddress: host, port: await server.boundPort())
            }
        }
        // The backend and the gateway share one connection to the verifier.
        var verifierConnection: VerifierConnection?
        if self.role == .all || self.role == .backend || self.role == .gateway {
            let fixed = settings.verifier
            let connection = VerifierConnection(timeout: .seconds(20), logger: Logger(label: "parley.verifier.client")) { [verifierServer] in
                if let verifierServer { return ("127.0.0.1", try await verifierServer.boundPort()) }
                return fixed
            }
            verifierConnection = connection
            services.append(connection)
        }
        var backendServer: BackendServer?
        if self.role == .all || self.role == .backend {
            let storage = try await openStorage(settings.database, migrate: !settings.skipMigrations)
            announce("data: \(storage.location)")
            // In one process the backend is reached over loopback only: it has no
            // authentication of its own, whatever --host exposes.
            let host = self.role == .all ? "127.0.0.1" : settings.host
            let server = BackendServer(
                storage: storage,
                configuration: .init(
                    host: host, port: settings.rpcPort,
                    sessionTTL: .seconds(settings.sessionMinutes * 60), verifier: verifierConnection,
                    cluster: settings.zookeeper.map { ClusterConfiguration(zookeeper: $0, advertise: settings.advertise) },
                    logger: Logger(label: "parley.backend")
                )
            )
            backendServer = server
            addRole("backend (JSON-RPC)", at: "\(host):\(settings.rpcPort)", server) { await server.boundAddress() }
        }
        // Where gateways and chat servers reach the backend: the one in this process, or --backend.
        let fixedBackend = settings.backend
        let backendAddress: @Sendable () async throws -> (host: String, port: Int) = { [backendServer] in
            guard let backendServer else { return fixedBackend }
            guard let port = await backendServer.boundAddress()?.port else { throw RoleNotStarted(role: "backend") }
            return ("127.0.0.1", port)
        }
        var contactsReplica: ContactsReplica?
        if self.role == .all || self.role == .contacts {
            let replica = try await ContactsReplica(configuration: settings.contacts(logger: Logger(label: "parley.contacts")))
            contactsReplica = replica
            let name = settings.contactsName
            addRole("contacts replica \(name)", at: "\(settings.contactsListen.host):\(settings.contactsListen.port)", replica) {
                await replica.boundAddress()
            }
        }
        // Balancer and chat servers share the ticket secret: PARLEY_CHAT_SECRET, or in one process a random one.
        var balancerConnection: BalancerConnection?
        if [.all, .balancer, .gateway, .chat].contains(self.role) {
            let secret = self.role == .gateway ? nil : try settings.chatSecret(required: self.role != .all)
            var balancerServer: BalancerServer?
            if let secret, self.role == .all || self.role == .balancer {
                let host = self.role == .all ? "127.0.0.1" : settings.host
                let server = BalancerServer(
                    configuration: .init(host: host, port: settings.balancerPort, secret: secret),
                    logger: Logger(label: "parley.balancer")
                )
                balancerServer = server
                addRole("balancer (gRPC)", at: "\(host):\(settings.balancerPort)", server) {
                    try? SocketAddress(ipAddress: host, port: await server.boundPort())
                }
            }
            if self.role != .balancer {
                let fixed = settings.balancer
                let connection = BalancerConnection(logger: Logger(label: "parley.balancer.client")) { [balancerServer] in
                    if let balancerServer { return ("127.0.0.1", try await balancerServer.boundPort()) }
                    return fixed
                }
                balancerConnection = connection
                services.append(connection)
            }
            if let secret, let balancerConnection, self.role == .all || self.role == .chat {
                let chat = settings.chatServer()
                addRole(
                    "chat server \(chat.name)", at: "\(chat.host):\(chat.tcpPort) (TCP) and :\(chat.webSocketPort) (WebSocket)",
                    ChatRole(
                        configuration: chat, secret: secret, balancer: balancerConnection, zookeeper: settings.zookeeper,
                        backend: backendAddress
                    )
                )
            }
        }
        if self.role == .all || self.role == .gateway {
            let gatewayConfiguration = GatewayConfiguration(
                host: settings.host, port: settings.httpPort, secureCookies: settings.secureCookies,
                trustedProxies: settings.trustedProxies,
                contactsServers: settings.contactsServers,
                metrics: registry, verifier: verifierConnection, balancer: balancerConnection, logger: Logger(label: "parley.gateway")
            )
            let host = settings.host
            let gateway = GatewayService(configuration: gatewayConfiguration, backend: backendAddress, zookeeper: settings.zookeeper, contacts: { [contactsReplica] in
                guard let address = await contactsReplica?.boundAddress(), let ip = address.ipAddress, let port = address.port else { return [] }
                return [(ip, port)]
            }, onListening: { port in
                announce("gateway listening on http://\(host):\(port)")
            })
            addRole("gateway (HTTP)", at: "\(host):\(settings.httpPort)", gateway)
        }
        if let port = settings.metricsPort {
            let host = settings.host
            let metrics = buildMetricsServer(registry: registry, host: host, port: port, logger: logger) { bound in
                announce("metrics listening on http://\(host):\(bound)/metrics")
            }
            addRole("metrics (HTTP)", at: "\(host):\(port)", metrics)
        }
        // A role that fails shuts the others down gracefully, as SIGTERM does (newest first: the
        // gateway before the backend), then the process exits with that role's error.
        var configuration = ServiceGroupConfiguration(
            services: services.map { .init(service: $0, failureTerminationBehavior: .gracefullyShutdownGroup) },
            gracefulShutdownSignals: [.sigterm, .sigint], logger: logger
        )
        configuration.maximumGracefulShutdownDuration = .seconds(30)
        let group = ServiceGroup(configuration: configuration)
        do {
            try await group.run()
        } catch {
            await redis?.shutdown()
            throw failures.cause ?? error
        }
        await redis?.shutdown()
    }
}

/// Resolved options: flag, else `PARLEY_…` environment variable, else default.
struct Settings {
    var host: String
    var httpPort: Int
    var rpcPort: Int
    var dataDir: String
    var database: DatabaseURL
    var skipMigrations: Bool
    var backend: (host: String, port: Int)
    var sessionMinutes: Int
    var secureCookies: Bool
    var trustedProxies: Set<String>
    var logLevel: Logger.Level
    var eventLoopThreads: Int
    var contactsName: String
    var contactsListen: (host: String, port: Int)
    var contactsPeers: [ContactsPeer]
    var contactsServers: [(host: String, port: Int)]
    var metricsPort: Int?
    var verifierPort: Int
    var verifier: (host: String, port: Int)
    var redisURL: String?
    var smtpURL: String?
    var mailFrom: String
    var zookeeper: ZooKeeperClient.Configuration?
    var advertise: String?
    var balancerPort: Int
    var balancer: (host: String, port: Int)
    var chatName: String
    var chatPort: Int
    var chatWebSocketPort: Int
    var chatAdvertise: String?
    var chatHeartbeatSeconds: Int
    var chatIdleTimeoutSeconds: Int

    init(_ command: ServeCommand) throws {
        let env = ProcessInfo.processInfo.environment
        func int(_ flag: Int?, _ name: String, _ fallback: Int) throws -> Int {
            if let flag { return flag }
            guard let text = env[name] else { return fallback }
            guard let value = Int(text) else { throw ValidationError("\(name) must be a number, not '\(text)'.") }
            return value
        }
        self.host = command.host ?? env["PARLEY_HOST"] ?? "127.0.0.1"
        self.httpPort = try int(command.httpPort, "PARLEY_HTTP_PORT", 8080)
        self.rpcPort = try int(command.rpcPort, "PARLEY_RPC_PORT", 1234)
        self.dataDir = command.dataDir ?? env["PARLEY_DATA_DIR"] ?? "./parley-data"
        self.database = try databaseURL(flag: command.database, dataDir: self.dataDir)
        self.skipMigrations = command.skipMigrations || env["PARLEY_SKIP_MIGRATIONS"] == "1"
        self.sessionMinutes = try int(command.sessionMinutes, "PARLEY_SESSION_MINUTES", 60)
        self.secureCookies = command.secureCookies || env["PARLEY_SECURE_COOKIES"] == "1"
        let proxies = command.trustedProxy.isEmpty
            ? (env["PARLEY_TRUSTED_PROXIES"] ?? "").split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty }
            : command.trustedProxy
        // GatewayConfiguration puts them in one spelling.
        for proxy in proxies where normalizedIPAddress(proxy) == nil {
            throw ValidationError("--trusted-proxy must be an IP address, not '\(proxy)'.")
        }
        self.trustedProxies = Set(proxies)
        let level = command.logLevel ?? env["PARLEY_LOG_LEVEL"] ?? "info"
        guard let logLevel = Logger.Level(rawValue: level) else {
            throw ValidationError("--log-level must be one of \(Logger.Level.allCases.map(\.rawValue).joined(separator: ", ")).")
        }
        self.logLevel = logLevel
        self.eventLoopThreads = try int(
            command.eventLoopThreads, "PARLEY_EVENT_LOOP_THREADS", command.role == .contacts ? contactsEventLoopThreads : defaultEventLoopThreads
        )
        guard (1...1024).contains(self.eventLoopThreads) else {
            throw ValidationError("--event-loop-threads must be between 1 and 1024, not \(self.eventLoopThreads).")
        }
        self.backend = try hostAndPort(command.backend ?? env["PARLEY_BACKEND"] ?? "127.0.0.1:\(self.rpcPort)", option: "--backend")
        self.contactsName = command.name ?? env["PARLEY_CONTACTS_NAME"] ?? "contact-server-1"
        self.contactsListen = try hostAndPort(command.listen ?? env["PARLEY_CONTACTS_LISTEN"] ?? "127.0.0.1:9000", option: "--listen")
        self.contactsPeers = try command.peer.map { text in
            do { return try ContactsPeer(parsing: text) } catch { throw ValidationError("--peer: \(error)") }
        }
        self.metricsPort = try command.metricsPort ?? env["PARLEY_METRICS_PORT"].map { text in
            guard let port = Int(text), (0...65535).contains(port) else { throw ValidationError("PARLEY_METRICS_PORT must be a port number.") }
            return port
        }
        self.contactsServers = try (command.contacts ?? env["PARLEY_CONTACTS"] ?? "").split(separator: ",").map { item in
            try hostAndPort(String(item), option: "--contacts")
        }
        self.verifierPort = try int(command.verifierPort, "PARLEY_VERIFIER_PORT", 65500)
        self.verifier = try hostAndPort(command.verifier ?? env["PARLEY_VERIFIER"] ?? "127.0.0.1:\(self.verifierPort)", option: "--verifier")
        self.redisURL = command.redis ?? env["PARLEY_REDIS_URL"]
        self.smtpURL = command.smtp ?? env["PARLEY_SMTP_URL"]
        self.mailFrom = command.mailFrom ?? env["PARLEY_MAIL_FROM"] ?? "no-reply@parley.localhost"
        let sessionMs = try int(command.zookeeperSessionMs, "PARLEY_ZOOKEEPER_SESSION_MS", 1500)
        if let servers = command.zookeeper ?? env["PARLEY_ZOOKEEPER"] {
            do {
                self.zookeeper = try ZooKeeperClient.Configuration(
                    connectionString: servers, sessionTimeout: .milliseconds(sessionMs), requestTimeout: .seconds(5),
                    logger: Logger(label: "parley.zookeeper")
                )
            } catch {
                throw ValidationError("--zookeeper: \(error)")
            }
        }
        self.advertise = try (command.advertise ?? env["PARLEY_ADVERTISE"]).map { text in
            let (host, port) = try hostAndPort(text, option: "--advertise")
            return "\(host):\(port)"
        }
        self.balancerPort = try int(command.balancerPort, "PARLEY_BALANCER_PORT", BalancerServer.defaultPort)
        self.balancer = try hostAndPort(command.balancer ?? env["PARLEY_BALANCER"] ?? "127.0.0.1:\(self.balancerPort)", option: "--balancer")
        self.chatName = command.chatName ?? env["PARLEY_CHAT_NAME"] ?? "chat-1"
        self.chatPort = try int(command.chatPort, "PARLEY_CHAT_PORT", ChatServerConfiguration.defaultTCPPort)
        self.chatWebSocketPort = try int(command.chatWsPort, "PARLEY_CHAT_WS_PORT", ChatServerConfiguration.defaultWebSocketPort)
        self.chatAdvertise = command.chatAdvertise ?? env["PARLEY_CHAT_ADVERTISE"]
        self.chatHeartbeatSeconds = try int(command.chatHeartbeat, "PARLEY_CHAT_HEARTBEAT", 10)
        self.chatIdleTimeoutSeconds = try int(command.chatIdleTimeout, "PARLEY_CHAT_IDLE_TIMEOUT", 30)
        guard (1...3600).contains(self.chatHeartbeatSeconds),
            (self.chatHeartbeatSeconds + 1...86400).contains(self.chatIdleTimeoutSeconds)
        else {
            throw ValidationError(
                "--chat-heartbeat (PARLEY_CHAT_HEARTBEAT) must be 1 to 3600 seconds and --chat-idle-timeout (PARLEY_CHAT_IDLE_TIMEOUT) more than it, at most 86400."
            )
        }
        for (name, port) in [
            ("--http-port", self.httpPort), ("--rpc-port", self.rpcPort), ("--verifier-port", self.verifierPort),
            ("--balancer-port", self.balancerPort), ("--chat-port", self.chatPort), ("--chat-ws-port", self.chatWebSocketPort),
        ]
        where !(0...65535).contains(port) {
            throw ValidationError("\(name) must be between 0 and 65535.")
        }
        guard self.sessionMinutes > 0 else { throw ValidationError("--session-minutes must be positive.") }
    }
}

extension Settings {
    /// The code rules of the verifier role: codes in Redis (`--redis`) or in memory, mail over SMTP
    /// (`--smtp`) or into `<data-dir>/outbox`, whose path is printed. Returns the Redis client to
    /// shut down at the end, if any.
    func verificationCodes() throws -> (VerificationCodes, RedisClient?) {
        let logger = Logger(label: "parley.verifier")
        var store: any CodeStore = MemoryCodeStore()
        var redis: RedisClient?
        if let url = self.redisURL {
            do {
                let client = RedisClient(configuration: try .init(url: url, logger: Logger(label: "parley.redis")))
                redis = client
                store = RedisCodeStore(redis: client)
                announce("codes: Redis at \(client.configuration.host):\(client.configuration.port)")
            } catch {
                throw ValidationError("--redis: \(error)")
            }
        }
        let mailer: any Mailer
        if let url = self.smtpURL {
            do {
                var configuration = try SMTPClient.Configuration(url: url, logger: Logger(label: "parley.smtp"))
                configuration.connectTimeout = .seconds(5)
                configuration.commandTimeout = .seconds(10)
                mailer = SMTPMailer(client: SMTPClient(configuration: configuration))
                announce("mail: SMTP via \(configuration.host):\(configuration.port)")
            } catch {
                throw ValidationError("--smtp: \(error)")
            }
        } else {
            let outbox = try OutboxMailer(folder: URL(fileURLWithPath: self.dataDir).appendingPathComponent("outbox"))
            mailer = outbox
            announce("outbox (verification mails, read your codes here): \(outbox.folder.path)")
        }
        let sender: EmailAddress
        do {
            sender = try EmailAddress(self.mailFrom)
        } catch {
            throw ValidationError("--mail-from: \(error)")
        }
        let configuration = VerificationCodes.Configuration(sender: Email.Address(sender.mailbox, displayName: "Parley"))
        return (VerificationCodes(store: store, mailer: mailer, configuration: configuration, logger: logger), redis)
    }

    /// The ticket secret shared by the balancer and the chat servers: `PARLEY_CHAT_SECRET` (never a
    /// flag, which `ps` would show). Without it a lone process makes a random one; roles that run
    /// apart must share one, so they refuse to start (`required`).
    func chatSecret(required: Bool) throws -> ChatSecret? {
        do {
            if let secret = try ChatSecret.configured(flag: nil, environment: ProcessInfo.processInfo.environment) {
                return secret
            }
        } catch {
            throw ValidationError("\(ChatSecret.environmentVariable): \(error.message)")
        }
        if required {
            throw ValidationError(
                "Set \(ChatSecret.environmentVariable) (at least 32 bytes, the same for the balancer and every chat server)."
            )
        }
        return .random()
    }

    /// The chat server's configuration.
    func chatServer() -> ChatServerConfiguration {
        ChatServerConfiguration(
            name: self.chatName, host: self.host, advertisedHost: self.chatAdvertise, tcpPort: self.chatPort,
            webSocketPort: self.chatWebSocketPort, heartbeatSeconds: self.chatHeartbeatSeconds,
            idleTimeoutSeconds: self.chatIdleTimeoutSeconds
        )
    }

    /// The contacts replica's configuration; its SQLite file lives in the data folder.
    func contacts(logger: Logger) -> ContactsReplicaConfiguration {
        ContactsReplicaConfiguration(
            name: self.contactsName, host: self.contactsListen.host, port: self.contactsListen.port,
            peers: self.contactsPeers, dataDirectory: self.dataDir, logger: logger
        )
    }
}

/// Prints where a role listens once it has bound its port, then waits for shutdown.
struct AnnounceService: Service {
    let name: String
    let address: @Sendable () async -> SocketAddress?

    func run() async throws {
        if let address = await self.address(), let ip = address.ipAddress, let port = address.port {
            announce("\(self.name) listening on \(ip):\(port)")
        }
        try? await gracefulShutdown()
    }
}

/// Writes a line to standard output at once (unbuffered, also when it is a pipe).
func announce(_ line: String) {
    FileHandle.standardOutput.write(Data((line + "\n").utf8))
}

/// `HOST:PORT` (the port after the last colon), or a clear error naming the option.
func hostAndPort(_ text: String, option: String) throws -> (host: String, port: Int) {
    guard let colon = text.lastIndex(of: ":"), colon > text.startIndex, let port = Int(text[text.index(after: colon)...]),
        (0...65535).contains(port)
    else {
        throw ValidationError("\(option) takes HOST:PORT, not '\(text)'.")
    }
    return (String(text[..<colon]), port)
}

/// The database from `--database`, else `PARLEY_DATABASE_URL`, else SQLite in the data folder.
func databaseURL(flag: String?, dataDir: String) throws -> DatabaseURL {
    let text = flag ?? ProcessInfo.processInfo.environment["PARLEY_DATABASE_URL"] ?? "sqlite:\(dataDir.hasSuffix("/") ? dataDir : dataDir + "/")"
    do {
        return try DatabaseURL(text)
    } catch {
        throw ValidationError("--database: \(error)")
    }
}

/// Opens the storage; with `migrate: false` it refuses a database that has pending migrations.
func openStorage(_ url: DatabaseURL, migrate: Bool) async throws -> any MigratableStorage {
    let storage = try await url.open(logger: Logger(label: "parley.storage"), migrate: migrate)
    if !migrate {
        let pending = try await storage.migrationStatus().filter { $0.appliedAt == nil }
        if !pending.isEmpty {
            try? await storage.close()
            throw ValidationError(
                "\(storage.location) has \(pending.count) pending migration(s); run `parley migrate --database …` first, or start without --skip-migrations."
            )
        }
    }
    return storage
}
