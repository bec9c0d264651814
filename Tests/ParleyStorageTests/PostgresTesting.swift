import ParleyTestSupport
import Foundation
import Logging
import ParleyStorage

/// Helpers for tests that talk to PostgreSQL through `PostgresServer`.
enum PostgresTesting {
    /// A fresh database on the shared server.
    struct Database: Sendable {
        /// The server it lives on.
        let server: PostgresServer
        /// Its name.
        let name: String
        /// How to reach it.
        let configuration: PostgresConfiguration
    }

    /// Creates an empty database on `server` (the shared one by default) with URL `options`.
    static func freshDatabase(on server: PostgresServer? = nil, options: String = "sslmode=disable") async throws -> Database {
        let server = if let server { server } else { try await PostgresServer.shared() }
        let name = try await server.createDatabase()
        let configuration = try PostgresConfiguration(url: await server.url(database: name, options: options))
        return Database(server: server, name: name, configuration: configuration)
    }

    /// Opens a migrated storage on a fresh database, runs `body`, and closes the storage whatever happens.
    static func withStorage(
        on server: PostgresServer? = nil,
        options: String = "sslmode=disable",
        _ body: (PostgresStorage, Database) async throws -> Void
    ) async throws {
        let database = try await Self.freshDatabase(on: server, options: options)
        let storage = try await PostgresStorage.open(configuration: database.configuration)
        do {
            try await body(storage, database)
            try await storage.close()
        } catch {
            try? await storage.close()
            throw error
        }
    }

    /// Runs `body` with a dedicated server (for tests that stop it), removed afterwards.
    static func withDedicatedServer(
        tls: Bool = false,
        _ body: (PostgresServer) async throws -> Void
    ) async throws {
        let server = PostgresServer(tls: tls)
        do {
            try await server.start()
            try await body(server)
            await server.shutdown()
        } catch {
            await server.shutdown()
            throw error
        }
    }
}
