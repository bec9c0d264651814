import Foundation
import PostgresNIO

/// How Parley reads the errors of postgres-nio: which mean "the database cannot be reached
/// right now", and a short description that holds no bound values (they may be hashes or
/// user text).
enum PostgresFailure {
    /// SQLSTATEs that say the server cannot do the work right now (going away, starting,
    /// overloaded, too slow, read-only, out of resources, a conflict worth retrying), plus
    /// the whole class 08 (connection exception): the caller gets `unavailable`, "try again".
    static let unavailableStates: Set<String> = [
        "57P01", "57P02", "57P03", "53300", "57014",  // shut down, crashed, starting, too many connections, cancelled
        "25006",  // read-only transaction: a standby after a failover
        "53100", "53200",  // disk full, out of memory
        "40001", "40P01",  // serialization failure, deadlock: worth trying again
    ]

    /// Whether `error` is a unique_violation of the constraint named `constraint`.
    static func isUniqueViolation(_ error: any Error, constraint: String) -> Bool {
        guard let error = error as? PSQLError, error.serverInfo?[.sqlState] == "23505" else { return false }
        return error.serverInfo?[.constraintName] == constraint
    }

    /// Whether `error`, raised while a connection was in use, means the database is unreachable.
    static func isConnectionFailure(_ error: any Error) -> Bool {
        switch error {
        case is PostgresTimeoutError, is ChannelError, is IOError, is NIOConnectionError:
            return true
        case let error as PSQLError:
            switch error.code {
            case .connectionError, .serverClosedConnection, .clientClosedConnection, .uncleanShutdown, .poolClosed,
                .sslUnsupported, .failedToAddSSLHandler, .receivedUnencryptedDataAfterSSLRequest:
                return true
            case .server:
                guard let state = error.serverInfo?[.sqlState] else { return false }
                return state.hasPrefix("08") || Self.unavailableStates.contains(state)
            default:
                return false
            }
        default:
            return false
        }
    }

    /// A one-line description for logs and messages, without the query's bound values.
    static func describe(_ error: any Error) -> String {
        switch error {
        case let error as PSQLError:
            switch error.code {
            case .server:
                let message = error.serverInfo?[.message] ?? "server error"
                let state = error.serverInfo?[.sqlState].map { " (SQLSTATE \($0))" } ?? ""
                return message + state
            case .sslUnsupported:
                return "the server does not offer TLS, which the URL's sslmode requires"
            case .authMechanismRequiresPassword:
                return "the server asks for a password and the URL has none"
            case .unsupportedAuthMechanism:
                return "the server asks for an authentication method postgres-nio does not support"
            default:
                let underlying = error.underlying.map { ": " + Self.describe($0) } ?? ""
                return "\(error.code)\(underlying)"
            }
        case let error as NIOConnectionError:
            let reasons = error.connectionErrors.map { "\($0.target): \($0.error)" }
            return reasons.isEmpty ? "cannot resolve \(error.host)" : reasons.joined(separator: "; ")
        case let error as ChannelError:
            if case .connectTimeout(let amount) = error {
                return "no answer within the connect timeout (\(amount.nanoseconds / 1_000_000) ms)"
            }
            return "\(error)"
        default:
            return String(describing: error)
        }
    }
}

/// The database did not answer in time: no connection within `connect_timeout`, or a
/// statement still running past `query_timeout`.
struct PostgresTimeoutError: Error, CustomStringConvertible {
    /// What was waited for.
    let waitingFor: String
    /// How long.
    let timeout: Duration

    var description: String {
        "no \(self.waitingFor) within \(PostgresConfiguration.seconds(self.timeout)) s"
    }
}
