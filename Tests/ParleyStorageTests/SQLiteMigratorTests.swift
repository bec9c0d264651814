import ParleyTestSupport
import Foundation
import ParleyCore
import Testing

@testable import ParleyStorage

/// Versioned migrations on SQLite.
@Suite("SQLite migrations")
struct SQLiteMigratorTests {
    @Test func migrationListIsWellFormed() {
        #expect(Migrations.all.map(\.version) == Array(1...Migrations.all.count))
        #expect(Migrations.latestVersion == Migrations.all.count)
        for migration in Migrations.all {
            #expect(!migration.name.isEmpty)
            #expect(!migration.sqlite.isEmpty)
            // SQLiteNIO runs only the first statement of a string: one statement per entry.
            for statement in migration.sqlite {
                #expect(!statement.contains(";"), "migration \(migration.version) has ';' in: \(statement)")
            }
        }
    }

    @Test func freshDatabaseHasEveryMigrationApplied() async throws {
        try await TemporaryDirectory.with { directory in
            let before = Date(timeIntervalSince1970: Date().timeIntervalSince1970.rounded(.down))
            let storage = try await SQLiteStorage.open(path: directory.path("parley.sqlite"))
            let status = try await storage.migrationStatus()
            try await storage.close()

            #expect(status.map(\.version) == Migrations.all.map(\.version))
            #expect(status.map(\.name) == Migrations.all.map(\.name))
            for entry in status {
                let appliedAt = try #require(entry.appliedAt)
                #expect(appliedAt >= before)
            }
        }
    }

    @Test func openingTwiceIsIdempotent() async throws {
        try await TemporaryDirectory.with { directory in
            let path = directory.path("parley.sqlite")
            let first = try await SQLiteStorage.open(path: path)
            let firstStatus = try await first.migrationStatus()
            try await first.close()

            let second = try await SQLiteStorage.open(path: path)
            let secondStatus = try await second.migrationStatus()
            try await second.close()

            #expect(secondStatus == firstStatus)
        }
    }

    @Test func concurrentOpensMigrateOnce() async throws {
        try await TemporaryDirectory.with { directory in
            let path = directory.path("parley.sqlite")
            let results = await withTaskGroup(of: Result<SQLiteStorage, any Error>.self) { group in
                for _ in 0..<2 {
                    group.addTask {
                        do { return .success(try await SQLiteStorage.open(path: path)) } catch { return .failure(error) }
                    }
                }
                return await group.reduce(into: []) { $0.append($1) }
            }
            let opened = results.compactMap { try? $0.get() }
            var statuses: [[MigrationStatus]] = []
            for storage in opened {
                statuses.append(try await storage.migrationStatus())
                try await storage.close()
            }
            for case .failure(let error) in results {
                Issue.record(error, "a concurrent open failed")
            }
            try #require(statuses.count == 2)
            #expect(statuses[0] == statuses[1])
            #expect(statuses[0].map(\.version) == Migrations.all.map(\.version))
        }
    }

    @Test func refusesADatabaseFromANewerParley() async throws {
        try await TemporaryDirectory.with { directory in
            let path = directory.path("parley.sqlite")
            let future = Migrations.all + [
                Migration(version: 9999, name: "from the future", sqlite: ["CREATE TABLE future_things (id INTEGER)"])
            ]
            let newer = try await SQLiteStorage.open(path: path, logger: .init(label: "test"), migrate: true, migrations: future)
            try await newer.close()

            let expected = SchemaTooNewError(location: path, databaseVersion: 9999, supportedVersion: Migrations.latestVersion)
            await #expect(throws: expected) {
                let storage = try await SQLiteStorage.open(path: path)
                try await storage.close()
            }
            await #expect(throws: expected) {
                let storage = try await SQLiteStorage.open(path: path, migrate: false)
                try await storage.close()
            }
            #expect(
                expected.description
                    == "the database at \(path) has schema version 9999, newer than this parley "
                    + "(\(Migrations.latestVersion)); upgrade parley"
            )

            // Refusing left the database as it was.
            let again = try await SQLiteStorage.open(path: path, logger: .init(label: "test"), migrate: true, migrations: future)
            let status = try await again.migrationStatus()
            try await again.close()
            #expect(status.map(\.version) == Migrations.all.map(\.version) + [9999])
        }
    }

    @Test func withoutMigratingEverythingIsPending() async throws {
        try await TemporaryDirectory.with { directory in
            let path = directory.path("parley.sqlite")
            let inspect = try await SQLiteStorage.open(path: path, migrate: false)
            let pending = try await inspect.migrationStatus()
            try await inspect.close()
            #expect(pending == Migrations.all.map { MigrationStatus(version: $0.version, name: $0.name, appliedAt: nil) })

            let migrated = try await SQLiteStorage.open(path: path)
            let applied = try await migrated.migrationStatus()
            try await migrated.close()
            #expect(applied.allSatisfy { $0.appliedAt != nil })
        }
    }

    @Test func aFailingMigrationIsRolledBack() async throws {
        try await TemporaryDirectory.with { directory in
            let path = directory.path("parley.sqlite")
            let broken = Migrations.all + [
                Migration(version: Migrations.latestVersion + 1, name: "broken", sqlite: [
                    "CREATE TABLE extra (id INTEGER)",
                    "THIS IS NOT SQL",
                ])
            ]
            await #expect(throws: (any Error).self) {
                let storage = try await SQLiteStorage.open(path: path, logger: .init(label: "test"), migrate: true, migrations: broken)
                try await storage.close()
            }

            let inspect = try await SQLiteStorage.open(path: path, logger: .init(label: "test"), migrate: false, migrations: broken)
            let status = try await inspect.migrationStatus()
            try await inspect.close()
            #expect(status.last?.version == Migrations.latestVersion + 1)
            #expect(status.last?.appliedAt == nil)
            #expect(status.dropLast().allSatisfy { $0.appliedAt != nil })

            // `extra` was rolled back with the rest, so creating it again (no IF NOT EXISTS) works.
            let fixed = Migrations.all + [
                Migration(version: Migrations.latestVersion + 1, name: "fixed", sqlite: ["CREATE TABLE extra (id INTEGER)"])
            ]
            let repaired = try await SQLiteStorage.open(path: path, logger: .init(label: "test"), migrate: true, migrations: fixed)
            let repairedStatus = try await repaired.migrationStatus()
            try await repaired.close()
            #expect(repairedStatus.allSatisfy { $0.appliedAt != nil })
        }
    }
}
