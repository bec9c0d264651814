import Foundation
import Logging
import PostgresNIO

/// Brings a PostgreSQL database to the newest schema, recording each step in `schema_migrations`.
///
/// Every step runs in its own transaction that first takes a transaction-level advisory lock,
/// so backends starting at once against one database take turns and each migration is
/// applied once; the lock is released by COMMIT or ROLLBACK, even if the process dies.
struct PostgresMigrator: Sendable {
    /// Every statement the migrator runs itself (the migrations bring their own).
    enum SQL {
        /// The advisory lock key: "parley" in ASCII. Advisory locks are per database.
        static let lockKey: Int64 = 0x70_61_72_6C_65_79
        /// Migrations and the wait for the lock are not bound by the connection's statement_timeout.
        static let liftStatementTimeout: PostgresQuery = "SET LOCAL statement_timeout = 0"
        static let lock: PostgresQuery = "SELECT pg_advisory_xact_lock(\(Self.lockKey))"
        static let createTable: PostgresQuery = """
            CREATE TABLE IF NOT EXISTS schema_migrations (
                version INTEGER PRIMARY KEY,
                name TEXT NOT NULL,
                applied_at BIGINT NOT NULL
            )
            """
        static let applied: PostgresQuery = "SELECT version, name, applied_at FROM schema_migrations ORDER BY version"
        static func isApplied(_ version: Int) -> PostgresQuery {
            "SELECT version FROM schema_migrations WHERE version = \(Int32(clamping: version))"
        }
        static func record(_ migration: Migration, appliedAt: Int64) -> PostgresQuery {
            """
            INSERT INTO schema_migrations (version, name, applied_at)
            VALUES (\(Int32(clamping: migration.version)), \(migration.name), \(appliedAt))
            """
        }
    }

    /// The pool.
    let database: PostgresDatabase
    /// Where progress is logged.
    let logger: Logger
    /// The migrations this build knows, in version order.
    var migrations: [Migration] = Migrations.all

    /// The highest version in `migrations`.
    var latestVersion: Int { self.migrations.map(\.version).max() ?? 0 }

    /// Creates `schema_migrations` when missing and refuses a database that is newer than this build.
    func prepare() async throws {
        let newest = try await self.database.withTransaction { connection in
            try await self.lock(connection)
            return try await self.applied(on: connection).map(\.version).max() ?? 0
        }
        guard newest <= self.latestVersion else {
            throw SchemaTooNewError(
                location: self.database.location,
                databaseVersion: newest,
                supportedVersion: self.latestVersion
            )
        }
    }

    /// Applies every pending migration in order, each in its own transaction; returns those applied.
    @discardableResult
    func migrate() async throws -> [Migration] {
        try await self.prepare()
        var applied: [Migration] = []
        for migration in self.migrations.sorted(by: { $0.version < $1.version }) {
            if try await self.apply(migration) {
                applied.append(migration)
            }
        }
        return applied
    }

    /// Every known migration with when it was applied, plus any applied one this build does not know.
    func status() async throws -> [MigrationStatus] {
        let applied = try await self.database.withConnection { connection in
            try await self.applied(on: connection)
        }
        let appliedByVersion = Dictionary(applied.map { ($0.version, $0) }, uniquingKeysWith: { first, _ in first })
        let known = self.migrations.map { migration in
            MigrationStatus(
                version: migration.version,
                name: migration.name,
                appliedAt: appliedByVersion[migration.version]?.appliedAt
            )
        }
        let knownVersions = Set(self.migrations.map(\.version))
        let unknown = applied.filter { !knownVersions.contains($0.version) }
        return (known + unknown).sorted { $0.version < $1.version }
    }

    /// Lifts the statement timeout, takes the migration lock and makes sure the table exists.
    private func lock(_ connection: PostgresConnection) async throws {
        _ = try await connection.query(SQL.liftStatementTimeout, logger: self.logger).collect()
        _ = try await connection.query(SQL.lock, logger: self.logger).collect()
        _ = try await connection.query(SQL.createTable, logger: self.logger).collect()
    }

    /// The rows of `schema_migrations`, oldest first.
    private func applied(on connection: PostgresConnection) async throws -> [MigrationStatus] {
        var rows: [MigrationStatus] = []
        let sequence = try await connection.query(SQL.applied, logger: self.logger)
        for try await (version, name, appliedAt) in sequence.decode((Int, String, Int64).self) {
            rows.append(MigrationStatus(version: version, name: name, appliedAt: UnixMilliseconds.date(appliedAt)))
        }
        return rows
    }

    /// Runs one migration and records it in one transaction, under the lock; `false` when it
    /// was applied already (by an earlier start or another process).
    private func apply(_ migration: Migration) async throws -> Bool {
        guard let statements = migration.postgres else {
            throw PostgresMigrationError(version: migration.version, name: migration.name)
        }
        let applied: Bool
        do {
            applied = try await self.database.withTransaction { connection in
                try await self.lock(connection)
                let done = try await connection.query(SQL.isApplied(migration.version), logger: self.logger).collect()
                guard done.isEmpty else { return false }
                for statement in statements {
                    _ = try await connection.query(PostgresQuery(unsafeSQL: statement), logger: self.logger).collect()
                }
                let now = UnixMilliseconds.from(Date())
                _ = try await connection.query(SQL.record(migration, appliedAt: now), logger: self.logger).collect()
                return true
            }
        } catch {
            self.logger.error(
                "migration failed",
                metadata: [
                    "storage.location": "\(self.database.location)",
                    "storage.migration.version": "\(migration.version)",
                    "error": "\(PostgresFailure.describe(error))",
                ]
            )
            throw error
        }
        if applied {
            self.logger.info(
                "applied migration",
                metadata: [
                    "storage.location": "\(self.database.location)",
                    "storage.migration.version": "\(migration.version)",
                    "storage.migration.name": "\(migration.name)",
                ]
            )
        }
        return applied
    }
}

/// A migration has no PostgreSQL statements, so this build cannot bring a PostgreSQL database up to date.
struct PostgresMigrationError: Error, CustomStringConvertible {
    /// The migration's version.
    let version: Int
    /// The migration's name.
    let name: String

    var description: String {
        "migration \(self.version) (\(self.name)) has no PostgreSQL statements"
    }
}
