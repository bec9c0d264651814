import Logging

extension ZooKeeperClient {
    /// One server of the ensemble.
    public struct Server: Hashable, Sendable, CustomStringConvertible {
        /// The host name or address.
        public var host: String
        /// The client port.
        public var port: Int

        /// Creates a server address.
        public init(host: String, port: Int = 2181) {
            self.host = host
            self.port = port
        }

        /// Such as `127.0.0.1:2181` or `[::1]:2181`.
        public var description: String {
            self.host.contains(":") ? "[\(self.host)]:\(self.port)" : "\(self.host):\(self.port)"
        }

        /// Parses a connection string such as `"zk1:2181,zk2:2181,10.0.0.3"` (port 2181 when
        /// absent; IPv6 addresses in brackets, `[::1]:2181`).
        ///
        /// - Throws: ``ZooKeeperError`` with ``ZooKeeperError/Code/badArguments`` for an empty list,
        ///   an empty host, a bad port, or a chroot suffix (`/path`), which this client does not support.
        public static func parse(_ connectionString: String) throws -> [Server] {
            let entries = connectionString.split(separator: ",", omittingEmptySubsequences: false)
                .map { String($0.filter { !$0.isWhitespace }) }
            guard !entries.isEmpty, !(entries.count == 1 && entries[0].isEmpty) else {
                throw ZooKeeperError(code: .badArguments, detail: "no ZooKeeper server given")
            }
            return try entries.map { entry in
                guard !entry.contains("/") else {
                    throw ZooKeeperError(code: .badArguments, detail: "chroot paths are not supported: \(connectionString)")
                }
                var host = Substring(entry)
                var portText: Substring?
                if host.hasPrefix("[") {
                    guard let close = host.firstIndex(of: "]") else {
                        throw ZooKeeperError(code: .badArguments, detail: "unclosed '[' in server \(entry)")
                    }
                    let rest = host[host.index(after: close)...]
                    host = host[host.index(after: host.startIndex)..<close]
                    if !rest.isEmpty {
                        guard rest.hasPrefix(":") else {
                            throw ZooKeeperError(code: .badArguments, detail: "bad server \(entry)")
                        }
                        portText = rest.dropFirst()
                    }
                } else if let colon = host.lastIndex(of: ":") {
                    portText = host[host.index(after: colon)...]
                    host = host[..<colon]
                }
                guard !host.isEmpty else {
                    throw ZooKeeperError(code: .badArguments, detail: "empty host in \(connectionString)")
                }
                var port = 2181
                if let portText {
                    guard let value = Int(portText), (1...65535).contains(value) else {
                        throw ZooKeeperError(code: .badArguments, detail: "bad port in server \(entry)")
                    }
                    port = value
                }
                return Server(host: String(host), port: port)
            }
        }
    }

    /// The servers to use and the timeouts of the session and of each call.
    public struct Configuration: Sendable {
        /// The servers of the ensemble; the client connects to one at a time and moves to another
        /// when it fails.
        public var servers: [Server]
        /// The session timeout to ask for; the server clamps it to between 2 and 20 ticks, and the
        /// client uses the negotiated one (``ZooKeeperSession/timeout``). Pings go out every third
        /// of it; a connection silent for two thirds of it is given up; a client that reached no
        /// server for all of it reports the session expired.
        public var sessionTimeout: Duration
        /// How long one connection attempt (TCP and the session handshake) may take.
        public var connectTimeout: Duration
        /// How long an operation may take from the call, including waiting for a connection.
        public var requestTimeout: Duration
        /// Whether to try the servers in a random order (spreading clients over the ensemble).
        public var shuffleServers: Bool
        /// The logger; metadata keys are prefixed `zookeeper.`.
        public var logger: Logger

        /// Creates a configuration.
        public init(
            servers: [Server],
            sessionTimeout: Duration = .seconds(10),
            connectTimeout: Duration = .seconds(2),
            requestTimeout: Duration = .seconds(10),
            shuffleServers: Bool = true,
            logger: Logger = Logger(label: "zookeeper.client")
        ) {
            self.servers = servers
            self.sessionTimeout = sessionTimeout
            self.connectTimeout = connectTimeout
            self.requestTimeout = requestTimeout
            self.shuffleServers = shuffleServers
            self.logger = logger
        }

        /// Creates a configuration from a connection string such as `"zk1:2181,zk2:2181"`
        /// (see ``Server/parse(_:)``).
        public init(
            connectionString: String,
            sessionTimeout: Duration = .seconds(10),
            connectTimeout: Duration = .seconds(2),
            requestTimeout: Duration = .seconds(10),
            shuffleServers: Bool = true,
            logger: Logger = Logger(label: "zookeeper.client")
        ) throws {
            self.init(
                servers: try Server.parse(connectionString),
                sessionTimeout: sessionTimeout,
                connectTimeout: connectTimeout,
                requestTimeout: requestTimeout,
                shuffleServers: shuffleServers,
                logger: logger
            )
        }
    }
}
