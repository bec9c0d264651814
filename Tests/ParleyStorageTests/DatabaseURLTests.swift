import Foundation
import ParleyStorage
import Testing

/// Parsing `--database` URLs, without any server.
@Suite("DatabaseURL")
struct DatabaseURLTests {
    @Test(arguments: [
        ("sqlite:parley.sqlite", "parley.sqlite"),
        ("sqlite:./data/parley.sqlite", "./data/parley.sqlite"),
        ("sqlite:/var/lib/parley/parley.sqlite", "/var/lib/parley/parley.sqlite"),
        ("sqlite:///var/lib/parley/parley.sqlite", "/var/lib/parley/parley.sqlite"),
        ("sqlite:./parley-data/", "./parley-data/"),
        ("sqlite::memory:", ":memory:"),
        ("SQLite:a b.sqlite", "a b.sqlite"),
    ])
    func sqliteURLs(text: String, path: String) throws {
        #expect(try DatabaseURL(text) == .sqlite(path: path))
        #expect(try DatabaseURL(text).description == "sqlite:\(path)")
    }

    @Test func fullPostgresURL() throws {
        let url = try DatabaseURL(
            "postgres://app%40prod:p%40ss%3Aw%2Frd@db.example.com:6543/parley%20main"
                + "?sslmode=verify-full&sslrootcert=/etc/ca.pem&pool_size=25&connect_timeout=2.5&query_timeout=30"
        )
        let expected = PostgresConfiguration(
            host: "db.example.com",
            port: 6543,
            username: "app@prod",
            password: "p@ss:w/rd",
            database: "parley main",
            tlsMode: .verifyFull,
            rootCertificatePath: "/etc/ca.pem",
            poolSize: 25,
            connectTimeout: .milliseconds(2500),
            queryTimeout: .seconds(30)
        )
        #expect(url == .postgres(expected))
    }

    @Test func postgresDefaults() throws {
        let configuration = try PostgresConfiguration(url: "postgresql://parley@localhost")
        #expect(configuration.host == "localhost")
        #expect(configuration.port == 5432)
        #expect(configuration.username == "parley")
        #expect(configuration.password == nil)
        #expect(configuration.database == nil)
        #expect(configuration.tlsMode == .prefer)
        #expect(configuration.rootCertificatePath == nil)
        #expect(configuration.poolSize == 10)
        #expect(configuration.connectTimeout == .seconds(5))
        #expect(configuration.queryTimeout == .seconds(10))
    }

    @Test func emptyPasswordIsNotNoPassword() throws {
        #expect(try PostgresConfiguration(url: "postgres://u:@h/d").password == "")
        #expect(try PostgresConfiguration(url: "postgres://u@h/d").password == nil)
    }

    @Test func unencodedAtAndSlashInPasswordStillParse() throws {
        let configuration = try PostgresConfiguration(url: "postgres://u:p@ss/w@host:5433/db")
        #expect(configuration.password == "p@ss/w")
        #expect(configuration.host == "host")
        #expect(configuration.port == 5433)
        #expect(configuration.database == "db")
    }

    @Test func ipv6Hosts() throws {
        let withPort = try PostgresConfiguration(url: "postgres://u@[::1]:5433/d")
        #expect(withPort.host == "::1")
        #expect(withPort.port == 5433)
        let withoutPort = try PostgresConfiguration(url: "postgres://u@[fe80::1]/d")
        #expect(withoutPort.host == "fe80::1")
        #expect(withoutPort.port == 5432)
        #expect(withPort.redacted.hasPrefix("postgres://u@[::1]:5433/d"))
    }

    @Test func statementTimeoutIsAnAlias() throws {
        #expect(try PostgresConfiguration(url: "postgres://u@h/d?statement_timeout=3").queryTimeout == .seconds(3))
        #expect(throws: DatabaseURLError.self) {
            try PostgresConfiguration(url: "postgres://u@h/d?statement_timeout=3&query_timeout=4")
        }
    }

    @Test(arguments: PostgresConfiguration.TLSMode.allCases)
    func everySSLModeParses(mode: PostgresConfiguration.TLSMode) throws {
        #expect(try PostgresConfiguration(url: "postgres://u@h/d?sslmode=\(mode.rawValue)").tlsMode == mode)
    }

    @Test func passwordNeverShows() throws {
        let url = try DatabaseURL("postgres://alice:hunter2secret@db:5432/parley?sslmode=require&pool_size=3")
        #expect(url.description == "postgres://alice:***@db:5432/parley?sslmode=require&pool_size=3")
        #expect(url.redacted == url.description)
        #expect(!String(reflecting: url).contains("hunter2"))
        guard case .postgres(let configuration) = url else {
            Issue.record("not a PostgreSQL URL")
            return
        }
        #expect(!"\(configuration)".contains("hunter2"))
        #expect(!String(reflecting: configuration).contains("hunter2"))
        var dumped = ""
        dump(configuration, to: &dumped)
        #expect(!dumped.contains("hunter2"))
        #expect(configuration.unredactedURL.contains("hunter2secret"))
    }

    @Test func unredactedURLRoundTrips() throws {
        let original = try PostgresConfiguration(
            url: "postgres://us%20er:p%40ss%3A%2F%3F%23@[::1]:7000/d%2Fb?sslmode=verify-ca&sslrootcert=/ca%20dir/ca.pem"
                + "&pool_size=4&connect_timeout=0.25&query_timeout=90"
        )
        #expect(try PostgresConfiguration(url: original.unredactedURL) == original)
        #expect(original.password == "p@ss:/?#")
        #expect(original.database == "d/b")
    }

    @Test(arguments: [
        ("", "empty"),
        ("parley.sqlite", "unknown kind"),
        ("mysql://u:p@h/d", "unknown kind"),
        ("sqlite:", "needs a path"),
        ("postgres://", "needs a user"),
        ("postgres://host/db", "needs a user"),
        ("postgres://:pw@host/db", "needs a user"),
        ("postgres://u@/db", "needs a host"),
        ("postgres://u@host:0/db", "port"),
        ("postgres://u@host:99999/db", "port"),
        ("postgres://u@host:54x/db", "port"),
        ("postgres://u@[::1/db", "closing ']'"),
        ("postgres://u@host/db/extra", "cannot hold '/'"),
        ("postgres://u@host/db#frag", "fragment"),
        ("postgres://u%zz@host/db", "malformed %-escape"),
        ("postgres://u@host/db?sslmode=allow", "sslmode must be one of"),
        ("postgres://u@host/db?sslmode", "needs a value"),
        ("postgres://u@host/db?pool_size=0", "pool_size"),
        ("postgres://u@host/db?pool_size=many", "pool_size"),
        ("postgres://u@host/db?connect_timeout=-1", "connect_timeout"),
        ("postgres://u@host/db?connect_timeout=0", "connect_timeout"),
        ("postgres://u@host/db?query_timeout=1e3", "query_timeout"),
        ("postgres://u@host/db?sslrootcert=", "sslrootcert"),
        ("postgres://u@host/db?ssl_mode=require", "unknown option 'ssl_mode'"),
        ("postgres://u@host/db?pool_size=2&pool_size=3", "appears twice"),
    ])
    func malformedURLsSayWhatIsWrong(text: String, fragment: String) {
        let error = #expect(throws: DatabaseURLError.self) { try DatabaseURL(text) }
        #expect(error?.message.contains(fragment) == true, "\(error?.message ?? "no error")")
    }

    @Test(arguments: [
        "postgres://alice:hunter2@host:99999/db",
        "postgres://alice:hunter2@host/db?sslmode=bad",
        "postgres://alice:hunter2@host/db?oops=1",
        "postgres://alice:hunter2%zz@host/db",
        "postgres://alice:hunter2@/db",
    ])
    func errorsNeverHoldThePassword(text: String) {
        let error = #expect(throws: DatabaseURLError.self) { try DatabaseURL(text) }
        #expect(error.map { !$0.message.contains("hunter2") } == true)
    }
}
