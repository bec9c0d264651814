import Foundation
import Logging

/// Brings a SQLite database to the newest schema, recording each step in `schema_migrations`.
struct SQLiteMigrator: Sendable {
    /// Every statement the migrator runs itself (the migrations bring their own).
    enum SQL {
        static let createTable = """
            CREATE TABLE IF NOT EXISTS schema_migrations (
                version INTEGER PRIMARY KEY,
                name TEXT NOT NULL,
                applied_at INTEGER NOT NULL
            )
            """
        static let applied = "SELECT version, name, applied_at FROM schema_migrations ORDER BY version"
        static let isApplied = "SELECT version FROM schema_migrations WHERE version = ?1"
        static let record = "INSERT INTO schema_migrations (version, name, applied_at) VALUES (?1, ?2, ?3)"
        static let begin = "BEGIN IMMEDIATE"
        static let commit = "COMMIT"
        static let rollback = "ROLLBACK"
    }

    /// The database; nothing else may use it while `migrate` runs (it holds a transaction).
    let connection: SQLiteHandle
    /// Where the database is, for messages.
    let location: String
    /// Where progress is logged.
    let logger: Logger
    /// The migrations this build knows, in version order.
    var migrations: [Migration] = Migrations.all

    /// The highest version in `migrations`.
    var latestVersion: Int { self.migrations.map(\.version).max() ?? 0 }

    /// Creates `schema_migrations` when missing and refuses a database that is newer than this build.
    func prepare() async throws {
        _ = try await self.connection.query(SQL.createTable)
        let newest = try await self.applied().map(\.version).max() ?? 0
        guard newest <= self.latestVersion else {
            throw SchemaTooNewError(location: self.location, databaseVersion: newest, supportedVersion: self.latestVersion)
        }
    }

    /// Applies every pending migration in order, each in its own transaction; returns those applied.
    @discardableResult
    func migrate() async throws -> [Migration] {
        try await self.prepare()
        let done = Set(try await self.applied().map(\.version))
        var applied: [Migration] = []
        for migration in self.migrations.sorted(by: { $0.version < $1.version }) where !done.contains(migration.version) {
            if try await self.apply(migration, now: Date()) {
                applied.append(migration)
            }
        }
        return applied
    }

    /// Every known migration with when it was applied, plus any applied one this build does not know.
    func status() async throws -> [MigrationStatus] {
        let applied = try await self.applied()
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

    /// The rows of `schema_migrations`, oldest first.
    private func applied() async throws -> [MigrationStatus] {
        try await self.connection.query(SQL.applied).map { row in
            MigrationStatus(
                version: Int(try row.int64("version")),
                name: try row.text("name"),
                appliedAt: UnixMilliseconds.date(try row.int64("applied_at"))
            )
        }
    }

    /// Runs one migration and records it in one transaction; `false` when another process
    /// applied it first.
    private func apply(_ migration: Migration, now: Date) async throws -> Bool {
        _ = try await self.connection.query(SQL.begin)
        do {
            // Checked again under the write lock: another process may have migrated meanwhile.
            guard try await self.connection.query(SQL.isApplied, [.integer(Int64(migration.version))]).isEmpty else {
                _ = try await self.connection.query(SQL.rollback)
                return false
            }
            for statement in migration.sqlite {
                _ = try await self.connection.query(statement)
            }
            _ = try await self.connection.query(
                SQL.record,
                [.integer(Int64(migration.version)), .text(migration.name), .integer(UnixMilliseconds.from(now))]
            )
            _ = try await self.connection.query(SQL.commit)
        } catch {
            _ = try? await self.connection.query(SQL.rollback)
            self.logger.error(
                "migration failed",
                metadata: [
                    "storage.location": "\(self.location)",
                    "storage.migration.version": "\(migration.version)",
                    "error": "\(error)",
                ]
            )
            throw error
        }
        self.logger.info(
            "applied migration",
            metadata: [
                "storage.location": "\(self.location)",
                "storage.migration.version": "\(migration.version)",
                "storage.migration.name": "\(migration.name)",
            ]
        )
        return true
    }
}
