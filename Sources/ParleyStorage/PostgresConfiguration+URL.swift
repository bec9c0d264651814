import Foundation

extension PostgresConfiguration {
    /// The query options `init(url:)` understands.
    public static let urlOptions = [
        "sslmode", "sslrootcert", "pool_size", "connect_timeout", "query_timeout", "statement_timeout",
    ]

    /// Parses `postgres://USER[:PASSWORD]@HOST[:PORT][/DATABASE][?OPTIONS]` (or `postgresql://`).
    ///
    /// - USER, PASSWORD and DATABASE are percent-decoded (write `%40` for `@`, `%3A` for `:`,
    ///   `%2F` for `/`); without DATABASE, the database named like USER is used.
    /// - HOST is a name, an IPv4 address or an IPv6 address in brackets; PORT defaults to 5432.
    /// - OPTIONS, `&`-separated: `sslmode=disable|prefer|require|verify-ca|verify-full`
    ///   (default `prefer`: TLS when the server offers it, unverified, as libpq);
    ///   `sslrootcert=PATH` (a PEM file of trusted authorities); `pool_size=N` (1–1000,
    ///   default 10); `connect_timeout=SECONDS` (default 5); `query_timeout=SECONDS` or its
    ///   libpq-style alias `statement_timeout=SECONDS` (default 10). Seconds may have a fraction.
    ///
    /// - Throws: `DatabaseURLError` saying what is wrong; its message never holds the password.
    public init(url: String) throws(DatabaseURLError) {
        var rest = Substring(url)
        guard let scheme = ["postgres://", "postgresql://"].first(where: { rest.lowercased().hasPrefix($0) }) else {
            throw DatabaseURLError("a PostgreSQL URL starts with postgres:// or postgresql://")
        }
        rest = rest.dropFirst(scheme.count)
        if rest.contains("#") {
            throw DatabaseURLError("a PostgreSQL URL has no fragment ('#'); write '#' in a password as %23")
        }

        var query: Substring = ""
        if let mark = rest.firstIndex(of: "?") {
            query = rest[rest.index(after: mark)...]
            rest = rest[..<mark]
        }
        var path: Substring = ""
        // The user part may hold '/' only percent-encoded, so the first '/' after the last '@' ends the host.
        let authorityStart = rest.lastIndex(of: "@").map { rest.index(after: $0) } ?? rest.startIndex
        if let slash = rest[authorityStart...].firstIndex(of: "/") {
            path = rest[rest.index(after: slash)...]
            rest = rest[..<slash]
        }
        guard let at = rest.lastIndex(of: "@") else {
            throw DatabaseURLError("the PostgreSQL URL needs a user: postgres://USER:PASSWORD@HOST:PORT/DATABASE")
        }
        let userInfo = rest[..<at]
        let hostPort = rest[rest.index(after: at)...]

        let username: String
        var password: String? = nil
        if let colon = userInfo.firstIndex(of: ":") {
            username = try Self.decode(userInfo[..<colon], what: "user name")
            password = try Self.decode(userInfo[userInfo.index(after: colon)...], what: "password")
        } else {
            username = try Self.decode(userInfo, what: "user name")
        }
        guard !username.isEmpty else {
            throw DatabaseURLError("the PostgreSQL URL needs a user: postgres://USER:PASSWORD@HOST:PORT/DATABASE")
        }

        let (host, port) = try Self.parseHostPort(hostPort)
        let database = try Self.decode(path, what: "database name")
        guard !path.contains("/") else {
            throw DatabaseURLError("the database name in the PostgreSQL URL cannot hold '/' (write %2F)")
        }

        self.init(host: host, port: port, username: username, password: password, database: database.isEmpty ? nil : database)
        try self.apply(options: query)
    }

    /// Reads `HOST[:PORT]` or `[IPv6][:PORT]`.
    private static func parseHostPort(_ text: Substring) throws(DatabaseURLError) -> (String, Int) {
        var host: Substring
        var portText: Substring? = nil
        if text.hasPrefix("[") {
            guard let close = text.firstIndex(of: "]") else {
                throw DatabaseURLError("an IPv6 host in the PostgreSQL URL needs its closing ']'")
            }
            host = text[text.index(after: text.startIndex)..<close]
            let after = text[text.index(after: close)...]
            if !after.isEmpty {
                guard after.hasPrefix(":") else {
                    throw DatabaseURLError("unexpected text after the IPv6 host in the PostgreSQL URL")
                }
                portText = after.dropFirst()
            }
        } else if let colon = text.lastIndex(of: ":") {
            host = text[..<colon]
            portText = text[text.index(after: colon)...]
        } else {
            host = text
        }
        guard !host.isEmpty else {
            throw DatabaseURLError("the PostgreSQL URL needs a host: postgres://USER:PASSWORD@HOST:PORT/DATABASE")
        }
        guard !host.contains("%") else {
            throw DatabaseURLError("the host in the PostgreSQL URL cannot be percent-encoded")
        }
        guard let portText else { return (String(host), Self.defaultPort) }
        guard let port = Int(portText), (1...65535).contains(port), portText.allSatisfy(\.isASCII) else {
            throw DatabaseURLError("the port in the PostgreSQL URL must be a number from 1 to 65535, not '\(portText)'")
        }
        return (String(host), port)
    }

    /// Applies `name=value&…`.
    private mutating func apply(options query: Substring) throws(DatabaseURLError) {
        var seen: Set<String> = []
        for pair in query.split(separator: "&", omittingEmptySubsequences: true) {
            guard let equals = pair.firstIndex(of: "=") else {
                throw DatabaseURLError("the option '\(pair)' in the PostgreSQL URL needs a value (name=value)")
            }
            let name = try Self.decode(pair[..<equals], what: "option name")
            let value = try Self.decode(pair[pair.index(after: equals)...], what: "value of \(name)")
            let key = name == "statement_timeout" ? "query_timeout" : name
            guard seen.insert(key).inserted else {
                throw DatabaseURLError("the option \(name) appears twice in the PostgreSQL URL")
            }
            switch name {
            case "sslmode":
                guard let mode = TLSMode(rawValue: value) else {
                    let modes = TLSMode.allCases.map(\.rawValue).joined(separator: ", ")
                    throw DatabaseURLError("sslmode must be one of \(modes), not '\(value)'")
                }
                self.tlsMode = mode
            case "sslrootcert":
                guard !value.isEmpty else { throw DatabaseURLError("sslrootcert needs the path of a PEM file") }
                self.rootCertificatePath = value
            case "pool_size":
                guard let size = Int(value), (1...1000).contains(size) else {
                    throw DatabaseURLError("pool_size must be a whole number from 1 to 1000, not '\(value)'")
                }
                self.poolSize = size
            case "connect_timeout":
                self.connectTimeout = try Self.seconds(value, option: name)
            case "query_timeout", "statement_timeout":
                self.queryTimeout = try Self.seconds(value, option: name)
            default:
                let known = Self.urlOptions.joined(separator: ", ")
                throw DatabaseURLError("unknown option '\(name)' in the PostgreSQL URL; known options: \(known)")
            }
        }
    }

    /// A positive number of seconds, at most a day, with at most millisecond precision.
    private static func seconds(_ text: String, option: String) throws(DatabaseURLError) -> Duration {
        guard let seconds = Double(text), seconds.isFinite, seconds >= 0.001, seconds <= 86_400,
            text.allSatisfy({ $0.isASCII && ($0.isNumber || $0 == ".") })
        else {
            throw DatabaseURLError("\(option) must be a number of seconds from 0.001 to 86400, not '\(text)'")
        }
        return .milliseconds(Int64((seconds * 1000).rounded()))
    }

    /// Percent-decodes one part of the URL.
    private static func decode(_ text: Substring, what: String) throws(DatabaseURLError) -> String {
        guard let decoded = String(text).removingPercentEncoding else {
            throw DatabaseURLError("the \(what) in the PostgreSQL URL has a malformed %-escape")
        }
        return decoded
    }
}
