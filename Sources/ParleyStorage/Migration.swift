import Foundation

/// One versioned step of the database schema, with its SQL for every engine Parley runs on.
///
/// Each engine applies the statements of a migration in order inside one transaction and
/// records the version in `schema_migrations`. Statements are kept separate because
/// drivers run one statement per call.
public struct Migration: Sendable, Equatable {
    /// The schema version this migration brings the database to; 1, 2, 3, … without gaps.
    public let version: Int
    /// A short description, recorded next to the version.
    public let name: String
    /// The statements for SQLite, run in order.
    public let sqlite: [String]
    /// The statements for PostgreSQL, run in order; `nil` until that engine is supported.
    public let postgres: [String]?

    init(version: Int, name: String, sqlite: [String], postgres: [String]? = nil) {
        self.version = version
        self.name = name
        self.sqlite = sqlite
        self.postgres = postgres
    }
}

/// Whether one migration has been applied to a database, for `parley migrate --status`.
public struct MigrationStatus: Sendable, Equatable {
    /// The schema version.
    public let version: Int
    /// The migration's description.
    public let name: String
    /// When it was applied, or `nil` while it is pending.
    public let appliedAt: Date?

    /// Creates a status value.
    public init(version: Int, name: String, appliedAt: Date?) {
        self.version = version
        self.name = name
        self.appliedAt = appliedAt
    }
}
