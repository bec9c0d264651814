import Foundation

/// Thrown by `PostgresStorage.open` when the server cannot be reached or refuses the
/// connection (wrong password, missing database, TLS required or failing), with the reason.
///
/// Once a storage is open, an unreachable database gives
/// `ParleyError(.unavailable, …)` on each call instead.
public struct PostgresConnectError: Error, Sendable, Equatable, CustomStringConvertible, LocalizedError {
    /// The database URL, with the password replaced by `***`.
    public let location: String
    /// What went wrong, from the server's message or the network error.
    public let reason: String

    /// Creates the error.
    public init(location: String, reason: String) {
        self.location = location
        self.reason = reason
    }

    /// A message naming the database and the reason.
    public var description: String {
        "cannot connect to PostgreSQL at \(self.location): \(self.reason)"
    }

    /// The same text as `description`, for `localizedDescription`.
    public var errorDescription: String? { self.description }
}
