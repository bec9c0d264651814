import ParleyTestSupport
import Foundation
import ParleyCore
import ParleyStorage
import Testing

/// A way to get a fresh, empty, migrated `Storage`: every factory in `all` runs the whole
/// conformance suite.
struct StorageFactory: Sendable, CustomTestStringConvertible {
    /// Shown in test results.
    let name: String
    /// Opens an empty storage; any files go under the given folder, which is removed afterwards.
    let open: @Sendable (TemporaryDirectory) async throws -> any Storage

    var testDescription: String { self.name }

    /// Every backend the conformance suite runs against. PostgreSQL is left out only when
    /// `PostgresServer.isEnabled` is false (`PARLEY_SKIP_POSTGRES=1` outside CI).
    static let all: [StorageFactory] = [.sqliteFile, .sqliteMemory] + (PostgresServer.isEnabled ? [.postgres] : [])

    /// SQLite in a file, as `parley serve` runs it.
    static let sqliteFile = StorageFactory(name: "SQLite file") { directory in
        try await SQLiteStorage.open(path: directory.path("parley.sqlite"))
    }

    /// SQLite in memory.
    static let sqliteMemory = StorageFactory(name: "SQLite :memory:") { _ in
        try await SQLiteStorage.open(path: ":memory:")
    }

    /// PostgreSQL 15, a fresh database on the test run's shared server.
    static let postgres = StorageFactory(name: "PostgreSQL") { _ in
        let server = try await PostgresServer.shared()
        let database = try await server.createDatabase()
        let configuration = try PostgresConfiguration(url: await server.url(database: database))
        return try await PostgresStorage.open(configuration: configuration)
    }

    /// Runs `body` on a fresh storage, then closes it and removes its files, whatever happens.
    func withStorage(_ body: (any Storage) async throws -> Void) async throws {
        try await TemporaryDirectory.with { directory in
            let storage = try await self.open(directory)
            do {
                try await body(storage)
                try await storage.close()
            } catch {
                try? await storage.close()
                throw error
            }
        }
    }
}

/// One behaviour every `Storage` must have.
struct ConformanceCheck: Sendable, CustomTestStringConvertible {
    /// Shown in test results.
    let name: String
    /// Checks the behaviour on a fresh storage, recording issues with `#expect`.
    let run: @Sendable (any Storage) async throws -> Void

    var testDescription: String { self.name }
}

/// Every backend passes every check.
@Suite("Storage conformance")
struct StorageConformanceTests {
    @Test("conformance", arguments: StorageFactory.all, StorageConformance.all)
    func conformance(factory: StorageFactory, check: ConformanceCheck) async throws {
        try await factory.withStorage { storage in
            try await check.run(storage)
        }
    }
}
