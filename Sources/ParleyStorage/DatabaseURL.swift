import Foundation
import Logging

/// Where Parley's data lives, as given by `--database` or `PARLEY_DATABASE_URL`.
///
/// - `sqlite:PATH`: a SQLite file, PATH relative to the working directory or absolute
///   (`sqlite:///abs/path` works too). A PATH ending in `/` is a data folder, which holds
///   `parley.sqlite`.
/// - `sqlite::memory:`: a private in-memory SQLite database, gone when closed.
/// - `postgres://USER:PASSWORD@HOST:PORT/DATABASE?OPTIONS` (or `postgresql://`): a PostgreSQL
///   database; see `PostgresConfiguration.init(url:)` for the options.
///
/// `description` and `redacted` never show a password.
public enum DatabaseURL: Sendable, Equatable, CustomStringConvertible, CustomDebugStringConvertible {
    /// A SQLite database: a file path, a folder path ending in `/`, or `:memory:`.
    case sqlite(path: String)
    /// A PostgreSQL database.
    case postgres(PostgresConfiguration)

    /// Parses a database URL.
    ///
    /// - Throws: `DatabaseURLError` saying what is wrong and what is expected; the message
    ///   never holds the password.
    public init(_ text: String) throws(DatabaseURLError) {
        let trimmed = text.trimmingCharacters(in: .whitespaces)
        let lowered = trimmed.lowercased()
        if lowered.hasPrefix("sqlite:") {
            var path = trimmed.dropFirst("sqlite:".count)
            if path.hasPrefix("//") { path = path.dropFirst(2) }
            guard !path.isEmpty else {
                throw DatabaseURLError("a SQLite URL needs a path: sqlite:PATH, sqlite:FOLDER/ or sqlite::memory:")
            }
            self = .sqlite(path: String(path))
        } else if lowered.hasPrefix("postgres://") || lowered.hasPrefix("postgresql://") {
            self = .postgres(try PostgresConfiguration(url: trimmed))
        } else if trimmed.isEmpty {
            throw DatabaseURLError("the database URL is empty; use sqlite:PATH or postgres://USER:PASSWORD@HOST:PORT/DATABASE")
        } else {
            throw DatabaseURLError(
                "unknown kind of database URL; use sqlite:PATH, sqlite::memory: or postgres://USER:PASSWORD@HOST:PORT/DATABASE"
            )
        }
    }

    /// The URL with any password replaced by `***`, safe to log and show.
    public var redacted: String {
        switch self {
        case .sqlite(let path): "sqlite:\(path)"
        case .postgres(let configuration): configuration.redacted
        }
    }

    /// The same as `redacted`.
    public var description: String { self.redacted }

    /// The same as `redacted`.
    public var debugDescription: String { self.redacted }

    /// Opens the storage this URL names (SQLite or PostgreSQL) and, unless `migrate` is
    /// `false`, applies pending migrations.
    ///
    /// - Throws: `SchemaTooNewError` when a newer Parley has migrated the database;
    ///   `PostgresConnectError` when PostgreSQL cannot be reached or refuses the login;
    ///   the engine's errors otherwise.
    public func open(
        logger: Logger = Logger(label: "parley.storage"),
        migrate: Bool = true
    ) async throws -> any MigratableStorage {
        switch self {
        case .sqlite(let path) where path.hasSuffix("/"):
            return try await SQLiteStorage.open(dataDirectory: path, logger: logger, migrate: migrate)
        case .sqlite(let path):
            return try await SQLiteStorage.open(path: path, logger: logger, migrate: migrate)
        case .postgres(let configuration):
            return try await PostgresStorage.open(configuration: configuration, logger: logger, migrate: migrate)
        }
    }
}

/// A database URL that cannot be used, with a message saying why (never the password).
public struct DatabaseURLError: Error, Sendable, Equatable, CustomStringConvertible, LocalizedError {
    /// What is wrong, for the person who wrote the URL.
    public let message: String

    /// Creates the error.
    public init(_ message: String) {
        self.message = message
    }

    /// The message.
    public var description: String { self.message }

    /// The message, for `localizedDescription`.
    public var errorDescription: String? { self.message }
}
