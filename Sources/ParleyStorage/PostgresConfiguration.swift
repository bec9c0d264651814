import Foundation
import PostgresNIO

/// Where a PostgreSQL database is and how Parley talks to it, usually parsed from a
/// `postgres://` URL (`PostgresConfiguration(url:)`).
///
/// The password is never shown: `description`, `debugDescription`, `redacted` and the
/// mirror print `***` in its place.
public struct PostgresConfiguration: Sendable, Equatable, CustomStringConvertible, CustomDebugStringConvertible,
    CustomReflectable
{
    /// How the connection to the server is protected (the URL's `sslmode`, as libpq names them).
    public enum TLSMode: String, Sendable, CaseIterable {
        /// Plain TCP, never TLS.
        case disable
        /// TLS when the server offers it, plain TCP otherwise; the certificate is not checked.
        /// The default, as in libpq.
        case prefer
        /// TLS or no connection; the certificate is not checked (unless `sslrootcert` is given,
        /// then its chain is, as libpq does).
        case require
        /// TLS; the certificate must chain to `sslrootcert` (or the system's roots).
        case verifyCA = "verify-ca"
        /// TLS; the certificate must chain to `sslrootcert` (or the system's roots) and name the host.
        case verifyFull = "verify-full"
    }

    /// The port PostgreSQL listens on unless told otherwise.
    public static let defaultPort = 5432
    /// Connections the pool opens at most, unless `pool_size` says otherwise.
    public static let defaultPoolSize = 10
    /// The default `connect_timeout`.
    public static let defaultConnectTimeout = Duration.seconds(5)
    /// The default `query_timeout`.
    public static let defaultQueryTimeout = Duration.seconds(10)

    /// The server's host name or IP address.
    public var host: String
    /// The server's TCP port.
    public var port: Int
    /// The role to log in as.
    public var username: String
    /// The password, if the server asks for one.
    public var password: String?
    /// The database; `nil` means the one named like `username`, as in libpq.
    public var database: String?
    /// Whether and how TLS is used.
    public var tlsMode: TLSMode
    /// A PEM file of the certificate authorities to trust (`sslrootcert`) instead of the system's.
    public var rootCertificatePath: String?
    /// The most connections the pool opens (`pool_size`).
    public var poolSize: Int
    /// How long to wait for a connection: to open one (TCP, TLS, login) and to get one from a
    /// busy pool (`connect_timeout`).
    public var connectTimeout: Duration
    /// How long one statement may run: set as the server's `statement_timeout` on every
    /// connection, and enforced on the client too (`query_timeout` or `statement_timeout`).
    public var queryTimeout: Duration

    /// Creates a configuration; every option has the default the URL parser uses.
    public init(
        host: String,
        port: Int = PostgresConfiguration.defaultPort,
        username: String,
        password: String? = nil,
        database: String? = nil,
        tlsMode: TLSMode = .prefer,
        rootCertificatePath: String? = nil,
        poolSize: Int = PostgresConfiguration.defaultPoolSize,
        connectTimeout: Duration = PostgresConfiguration.defaultConnectTimeout,
        queryTimeout: Duration = PostgresConfiguration.defaultQueryTimeout
    ) {
        self.host = host
        self.port = port
        self.username = username
        self.password = password
        self.database = database
        self.tlsMode = tlsMode
        self.rootCertificatePath = rootCertificatePath
        self.poolSize = poolSize
        self.connectTimeout = connectTimeout
        self.queryTimeout = queryTimeout
    }

    /// The configuration as a URL with the password replaced by `***`, safe to log.
    public var redacted: String {
        self.url(password: self.password.map { _ in "***" })
    }

    /// The configuration as a URL that `init(url:)` reads back, password included: keep it
    /// out of logs, flags and error messages.
    public var unredactedURL: String {
        self.url(password: self.password.map { Self.encode($0) })
    }

    /// The same as `redacted`.
    public var description: String { self.redacted }

    /// The same as `redacted`.
    public var debugDescription: String { self.redacted }

    /// A mirror without the password, so that `dump` and reflection do not print it either.
    public var customMirror: Mirror {
        Mirror(self, children: ["url": self.redacted], displayStyle: .struct)
    }

    /// Builds the URL; `password` is already encoded (or `***`).
    private func url(password: String?) -> String {
        var text = "postgres://" + Self.encode(self.username)
        if let password { text += ":" + password }
        let host = self.host.contains(":") ? "[\(self.host)]" : self.host
        text += "@\(host):\(self.port)/" + Self.encode(self.database ?? "")
        var options = ["sslmode=\(self.tlsMode.rawValue)"]
        if let path = self.rootCertificatePath { options.append("sslrootcert=" + Self.encode(path, keepingSlashes: true)) }
        if self.poolSize != Self.defaultPoolSize { options.append("pool_size=\(self.poolSize)") }
        if self.connectTimeout != Self.defaultConnectTimeout {
            options.append("connect_timeout=\(Self.seconds(self.connectTimeout))")
        }
        if self.queryTimeout != Self.defaultQueryTimeout {
            options.append("query_timeout=\(Self.seconds(self.queryTimeout))")
        }
        return text + "?" + options.joined(separator: "&")
    }

    /// Percent-encodes everything but unreserved URL characters (and `/` in paths).
    private static func encode(_ text: String, keepingSlashes: Bool = false) -> String {
        let unreserved = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-._~" + (keepingSlashes ? "/" : "")
        return text.addingPercentEncoding(withAllowedCharacters: CharacterSet(charactersIn: unreserved)) ?? text
    }

    /// A duration as seconds, without a fraction when it has none.
    static func seconds(_ duration: Duration) -> String {
        let milliseconds = Self.milliseconds(duration)
        return milliseconds % 1000 == 0 ? "\(milliseconds / 1000)" : "\(Double(milliseconds) / 1000)"
    }

    /// A duration in whole milliseconds, rounded up so that a positive duration stays positive.
    static func milliseconds(_ duration: Duration) -> Int64 {
        let (seconds, attoseconds) = duration.components
        let fraction = (attoseconds + 999_999_999_999_999) / 1_000_000_000_000_000
        return seconds * 1000 + fraction
    }
}
