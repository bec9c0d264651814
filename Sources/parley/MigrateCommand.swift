import ArgumentParser
import Foundation
import ParleyStorage

/// `parley migrate`: applies pending migrations, or lists them with `--status`.
struct MigrateCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "migrate",
        abstract: "Apply the database's pending migrations, or list applied and pending ones.",
        discussion: "The database comes from --database, else PARLEY_DATABASE_URL, else SQLite in --data-dir."
    )

    @Option(help: "sqlite:PATH or postgres://USER:PASSWORD@HOST:PORT/DB (prefer PARLEY_DATABASE_URL for passwords).")
    var database: String?

    @Option(help: "Folder of the embedded SQLite database (default ./parley-data).")
    var dataDir: String?

    @Flag(help: "Only list applied and pending migrations.")
    var status = false

    func run() async throws {
        let dataDir = self.dataDir ?? ProcessInfo.processInfo.environment["PARLEY_DATA_DIR"] ?? "./parley-data"
        let url = try databaseURL(flag: self.database, dataDir: dataDir)
        let before = try await Self.status(url)
        if self.status {
            print("database: \(url.redacted)")
            for migration in before {
                let state = migration.appliedAt.map { "applied \(ISO8601DateFormatter().string(from: $0))" } ?? "pending"
                print(String(format: "%4d  %@  (%@)", migration.version, migration.name, state))
            }
            let pending = before.filter { $0.appliedAt == nil }.count
            print(pending == 0 ? "up to date" : "\(pending) pending")
            return
        }
        let storage = try await url.open(migrate: true)
        let after = try await storage.migrationStatus()
        try await storage.close()
        let applied = after.filter { migration in
            migration.appliedAt != nil && before.first { $0.version == migration.version }?.appliedAt == nil
        }
        print("database: \(url.redacted)")
        for migration in applied {
            print("applied \(migration.version): \(migration.name)")
        }
        print(applied.isEmpty ? "nothing to do: up to date" : "\(applied.count) migration(s) applied")
    }

    static func status(_ url: DatabaseURL) async throws -> [MigrationStatus] {
        let storage = try await url.open(migrate: false)
        do {
            let status = try await storage.migrationStatus()
            try await storage.close()
            return status
        } catch {
            try? await storage.close()
            throw error
        }
    }
}
