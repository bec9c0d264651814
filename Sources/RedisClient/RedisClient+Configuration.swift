import Logging

extension RedisClient {
    /// The RESP version a connection speaks.
    public enum ProtocolVersion: Sendable, Hashable {
        /// RESP2, what every Redis server speaks without being asked: authentication with `AUTH`.
        case resp2
        /// RESP3 (Redis 6 and later): every new connection starts with `HELLO 3`, which also
        /// authenticates. Replies may then use the RESP3 types (maps, doubles, `_` null …), and
        /// push messages are dropped.
        case resp3
    }

    /// Where the server is, how to log in, and the limits of each command.
    ///
    /// The password is never logged nor shown in ``description``.
    public struct Configuration: Sendable, CustomStringConvertible, CustomReflectable {
        /// The server's host name or address.
        public var host: String
        /// The server's port.
        public var port: Int
        /// The ACL user name; `nil` for the default user (`AUTH password`).
        public var username: String?
        /// The password, from the caller (an environment variable or a file); `nil` to send no `AUTH`.
        public var password: String?
        /// The database index selected on every new connection with `SELECT` (0: none sent).
        public var database: Int
        /// RESP2 (the default) or RESP3.
        public var protocolVersion: ProtocolVersion
        /// How long to wait for a TCP connection to open.
        public var connectTimeout: Duration
        /// How long a command (and the `AUTH`/`SELECT` of a new connection) waits for its reply once
        /// sent, unless the call gives its own timeout.
        public var commandTimeout: Duration
        /// How many connections to keep open; commands are spread over them round robin, and each
        /// carries many commands at once (pipelining).
        public var poolSize: Int
        /// The limits on replies; breaking one closes the connection with a protocol error.
        public var replyLimits: RESPReplyDecoder.Limits
        /// The logger; metadata keys are prefixed `redis.`.
        public var logger: Logger

        /// Creates a configuration; every setting but the host has a default.
        public init(
            host: String,
            port: Int = 6379,
            username: String? = nil,
            password: String? = nil,
            database: Int = 0,
            protocolVersion: ProtocolVersion = .resp2,
            connectTimeout: Duration = .seconds(2),
            commandTimeout: Duration = .seconds(5),
            poolSize: Int = 2,
            replyLimits: RESPReplyDecoder.Limits = RESPReplyDecoder.Limits(),
            logger: Logger = Logger(label: "redis.client")
        ) {
            self.host = host
            self.port = port
            self.username = username
            self.password = password
            self.database = database
            self.protocolVersion = protocolVersion
            self.connectTimeout = connectTimeout
            self.commandTimeout = commandTimeout
            self.poolSize = poolSize
            self.replyLimits = replyLimits
            self.logger = logger
        }

        /// The settings, with the password redacted.
        public var description: String {
            let user = self.username.map { "\($0)@" } ?? ""
            let password = self.password == nil ? "none" : "<redacted>"
            return "redis://\(user)\(self.host):\(self.port)/\(self.database) (password: \(password), "
                + "\(self.protocolVersion), pool: \(self.poolSize), connect timeout: \(self.connectTimeout), "
                + "command timeout: \(self.commandTimeout))"
        }

        /// A mirror showing only ``description``, so `dump` does not show the password either.
        public var customMirror: Mirror {
            Mirror(self, children: ["description": self.description])
        }

        /// The commands that open every new connection: `HELLO 3` or `AUTH`, then `SELECT`.
        var handshake: [RESPCommand] {
            var commands: [RESPCommand] = []
            switch self.protocolVersion {
            case .resp3:
                var hello = ["HELLO", "3"]
                if let password = self.password {
                    hello += ["AUTH", self.username ?? "default", password]
                }
                commands.append(RESPCommand(hello))
            case .resp2:
                if let password = self.password {
                    commands.append(RESPCommand(["AUTH"] + (self.username.map { [$0] } ?? []) + [password]))
                }
            }
            if self.database != 0 {
                commands.append(RESPCommand("SELECT", String(self.database)))
            }
            return commands
        }
    }
}
