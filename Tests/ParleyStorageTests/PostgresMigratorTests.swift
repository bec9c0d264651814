import ParleyTestSupport
import Foundation
import Logging
import ParleyCore
import Testing

@testable import ParleyStorage

/// Versioned migrations on PostgreSQL: the same rules as on SQLite.
@Suite("PostgreSQL migrations", .enabled(if: PostgresServer.isEnabled))
struct PostgresMigratorTests {
    private let logger = Logger(label: "parley.storage.tests")

    @Test func everyMigrationHasPostgresStatements() {
        for migration in Migrations.all {
            let statements = migration.postgres ?? []
            #expect(!statements.isEmpty, "migration \(migration.version) has no PostgreSQL statements")
            // The extended query protocol runs one statement per call.
            for statement in statements {
                #expect(!statement.contains(";"), "migration \(migration.version) has ';' in: \(statement)")
            }
        }
    }

    @Test func freshDatabaseHasEveryMigrationApplied() async throws {
        let before = Date(timeIntervalSince1970: Date().timeIntervalSince1970.rounded(.down))
        try await PostgresTesting.withStorage { storage, _ in
            let status = try await storage.migrationStatus()
            #expect(status.map(\.version) == Migrations.all.map(\.version))
            #expect(status.map(\.name) == Migrations.all.map(\.name))
            for entry in status {
                let appliedAt = try #require(entry.appliedAt)
                #expect(appliedAt >= before)
            }
        }
    }

    @Test func openingTwiceIsIdempotent() async throws {
        let database = try await PostgresTesting.freshDatabase()
        let first = try await PostgresStorage.open(configuration: database.configuration)
        let firstStatus = try await first.migrationStatus()
        try await first.close()

        let second = try await PostgresStorage.open(configuration: database.configuration)
        let secondStatus = try await second.migrationStatus()
        let rows = try await database.server.psql("SELECT count(*) FROM schema_migrations", database: database.name)
        try await second.close()

        #expect(secondStatus == firstStatus)
        #expect(rows.trimmingCharacters(in: .whitespacesAndNewlines) == "\(Migrations.all.count)")
    }

    @Test(arguments: [2, 4])
    func concurrentOpensMigrateOnce(count: Int) async throws {
        let database = try await PostgresTesting.freshDatabase()
        let results = await withTaskGroup(of: Result<PostgresStorage, any Error>.self) { group in
            for _ in 0..<count {
                group.addTask {
                    do { return .success(try await PostgresStorage.open(configuration: database.configuration)) } catch {
                        return .failure(error)
                    }
                }
            }
            return await group.reduce(into: []) { $0.append($1) }
        }
        var statuses: [[MigrationStatus]] = []
        for case .success(let storage) in results {
            statuses.append(try await storage.migrationStatus())
            try await storage.close()
        }
        for case .failure(let error) in results {
            Issue.record(error, "a concurrent open failed")
        }
        try #require(statuses.count == count)
        #expect(statuses.allSatisfy { $0 == statuses[0] })
        #expect(statuses[0].map(\.version) == Migrations.all.map(\.version))
        let rows = try await database.server.psql("SELECT count(*) FROM schema_migrations", database: database.name)
        #expect(rows.trimmingCharacters(in: .whitespacesAndNewlines) == "\(Migrations.all.count)")
    }

    @Test func refusesADatabaseFromANewerParley() async throws {
        let database = try await PostgresTesting.freshDatabase()
        let future = Migrations.all + [
            Migration(version: 9999, name: "from the future", sqlite: [], postgres: ["CREATE TABLE future_things (id INTEGER)"])
        ]
        let newer = try await PostgresStorage.open(
            configuration: database.configuration, logger: self.logger, migrate: true, migrations: future)
        try await newer.close()

        let expected = SchemaTooNewError(
            location: database.configuration.redacted,
            databaseVersion: 9999,
            supportedVersion: Migrations.latestVersion
        )
        await #expect(throws: expected) {
            let storage = try await PostgresStorage.open(configuration: database.configuration)
            try await storage.close()
        }
        await #expect(throws: expected) {
            let storage = try await PostgresStorage.open(configuration: database.configuration, migrate: false)
            try await storage.close()
        }

        // Refusing left the database as it was.
        let again = try await PostgresStorage.open(
            configuration: database.configuration, logger: self.logger, migrate: true, migrations: future)
        let status = try await again.migrationStatus()
        try await again.close()
        #expect(status.map(\.version) == Migrations.all.map(\.version) + [9999])
    }

    @Test func withoutMigratingEverythingIsPending() async throws {
        let database = try await PostgresTesting.freshDatabase()
        let inspect = try await PostgresStorage.open(configuration: database.configuration, migrate: false)
        let pending = try await inspect.migrationStatus()
        try await inspect.close()
        #expect(pending == Migrations.all.map { MigrationStatus(version: $0.version, name: $0.name, appliedAt: nil) })

        let migrated = try await PostgresStorage.open(configuration: database.configuration)
        let applied = try await migrated.migrationStatus()
        try await migrated.close()
        #expect(applied.allSatisfy { $0.appliedAt != nil })
    }

    @Test func aFailingMigrationIsRolledBack() async throws {
        let database = try await PostgresTesting.freshDatabase()
        let next = Migrations.latestVersion + 1
        let broken = Migrations.all + [
            Migration(version: next, name: "broken", sqlite: [], postgres: ["CREATE TABLE extra (id INTEGER)", "THIS IS NOT SQL"])
        ]
        await #expect(throws: (any Error).self) {
            let storage = try await PostgresStorage.open(
                configuration: database.configuration, logger: self.logger, migrate: true, migrations: broken)
            try await storage.close()
        }

        let inspect = try await PostgresStorage.open(
            configuration: database.configuration, logger: self.logger, migrate: false, migrations: broken)
        let status = try await inspect.migrationStatus()
        try await inspect.close()
        #expect(status.last?.version == next)
        #expect(status.last?.appliedAt == nil)
        #expect(status.dropLast().allSatisfy { $0.appliedAt != nil })

        // `extra` was rolled back with the rest, so creating it again (no IF NOT EXISTS) works.
        let fixed = Migrations.all + [
            Migration(version: next, name: "fixed", sqlite: [], postgres: ["CREATE TABLE extra (id INTEGER)"])
        ]
        let repaired = try await PostgresStorage.open(
            configuration: database.configuration, logger: self.logger, migrate: true, migrations: fixed)
        let repairedStatus = try await repaired.migrationStatus()
        try await repaired.close()
        #expect(repairedStatus.allSatisfy { $0.appliedAt != nil })
    }

    @Test func aMigrationWithoutPostgresStatementsIsRefused() async throws {
        let database = try await PostgresTesting.freshDatabase()
        let sqliteOnly = Migrations.all + [
            Migration(version: Migrations.latestVersion + 1, name: "sqlite only", sqlite: ["CREATE TABLE t (id INTEGER)"])
        ]
        let error = await #expect(throws: (any Error).self) {
            let storage = try await PostgresStorage.open(
                configuration: database.configuration, logger: self.logger, migrate: true, migrations: sqliteOnly)
            try await storage.close()
        }
        #expect("\(error.map { "\($0)" } ?? "")".contains("has no PostgreSQL statements"))
    }
}
