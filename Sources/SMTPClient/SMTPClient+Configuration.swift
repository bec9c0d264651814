import Logging

extension SMTPClient {
    /// Where the server is, how to secure and authenticate the connection, and the limits of each send.
    public struct Configuration: Sendable {
        /// How the connection is encrypted.
        public enum Security: Hashable, Sendable {
            /// Plain text throughout (port 25 between servers, or a local relay).
            case none
            /// Plain text first, then `STARTTLS` (RFC 3207) before anything else is sent (port 587).
            ///
            /// With `required: true` a server that does not offer STARTTLS fails the send with
            /// ``SMTPError/Kind-swift.enum/tlsFailed``. With `required: false` such a server is used
            /// in plain text, but credentials are still not sent over it unless
            /// ``Configuration/allowsInsecureAuthentication`` is set.
            case startTLS(required: Bool)
            /// TLS from the first byte ("implicit TLS", RFC 8314; port 465).
            case tls

            /// The usual port for this kind of security: 25, 587 or 465.
            public var defaultPort: Int {
                switch self {
                case .none: return 25
                case .startTLS: return 587
                case .tls: return 465
                }
            }
        }

        /// The server's host name or address.
        public var host: String
        /// The server's port.
        public var port: Int
        /// How the connection is encrypted.
        public var security: Security
        /// How the server's certificate is checked, when the connection is encrypted.
        public var tls: TLS
        /// The user name and password for AUTH, or `nil` to send without authenticating.
        public var credentials: Credentials?
        /// Whether credentials may be sent over an unencrypted connection. `false` by default: the
        /// send fails with ``SMTPError/Kind-swift.enum/authenticationFailed`` instead. Set it only for
        /// a relay on the same machine or in tests.
        public var allowsInsecureAuthentication: Bool
        /// The name the client gives in EHLO/HELO: ideally this machine's fully qualified domain name.
        public var heloName: String
        /// How long to wait for the TCP connection (and, for ``Security/tls``, nothing more).
        public var connectTimeout: Duration
        /// How long to wait for each reply, including the greeting and a TLS handshake.
        public var commandTimeout: Duration
        /// The logger; metadata keys are prefixed `smtp.`. Credentials are never logged.
        public var logger: Logger

        /// Creates a configuration.
        ///
        /// - Parameters:
        ///   - host: The server's host name or address.
        ///   - port: The server's port; `nil` for the usual port of `security` (25, 587 or 465).
        ///   - security: How the connection is encrypted.
        ///   - tls: How the server's certificate is checked: the system's trust roots and full
        ///     verification by default.
        ///   - credentials: The user name and password for AUTH, if the server needs them.
        ///   - allowsInsecureAuthentication: Whether credentials may be sent without encryption.
        ///   - heloName: The name given in EHLO/HELO.
        ///   - connectTimeout: How long to wait for the TCP connection.
        ///   - commandTimeout: How long to wait for each reply.
        ///   - logger: The logger.
        public init(
            host: String,
            port: Int? = nil,
            security: Security = .startTLS(required: true),
            tls: TLS = TLS(),
            credentials: Credentials? = nil,
            allowsInsecureAuthentication: Bool = false,
            heloName: String = "localhost",
            connectTimeout: Duration = .seconds(10),
            commandTimeout: Duration = .seconds(30),
            logger: Logger = Logger(label: "smtp.client")
        ) {
            self.host = host
            self.port = port ?? security.defaultPort
            self.security = security
            self.tls = tls
            self.credentials = credentials
            self.allowsInsecureAuthentication = allowsInsecureAuthentication
            self.heloName = heloName
            self.connectTimeout = connectTimeout
            self.commandTimeout = commandTimeout
            self.logger = logger
        }
    }
}
