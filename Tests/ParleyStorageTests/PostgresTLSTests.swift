import ParleyTestSupport
import Foundation
import ParleyCore
import Testing

@testable import ParleyStorage

/// TLS to PostgreSQL (`sslmode`), against a server with a self-signed certificate for
/// `localhost` and 127.0.0.1, made by `openssl req -x509` when the server starts.
@Suite("PostgreSQL TLS", .enabled(if: PostgresServer.isEnabled))
struct PostgresTLSTests {
    /// Whether the storage's connections are encrypted, as the server sees them.
    private func usesTLS(_ storage: PostgresStorage) async throws -> Bool {
        let rows = try await storage.database.query("SELECT ssl FROM pg_stat_ssl WHERE pid = pg_backend_pid()")
        return try rows.first?.decode(Bool.self) ?? false
    }

    /// Opens a fresh database with `options` on `host`, runs `body`, closes.
    private func withStorage(
        on server: PostgresServer,
        host: String = "127.0.0.1",
        options: String,
        _ body: (PostgresStorage) async throws -> Void
    ) async throws {
        let name = try await server.createDatabase()
        let configuration = try PostgresConfiguration(url: await server.url(database: name, host: host, options: options))
        let storage = try await PostgresStorage.open(configuration: configuration)
        do {
            try await body(storage)
            try await storage.close()
        } catch {
            try? await storage.close()
            throw error
        }
    }

    @Test func everyModeAgainstATLSServer() async throws {
        try await PostgresTesting.withDedicatedServer(tls: true) { server in
            let certificate = server.certificatePath

            // require: encrypted, certificate not checked.
            try await self.withStorage(on: server, options: "sslmode=require") { storage in
                let encrypted = try await self.usesTLS(storage)
                #expect(encrypted)
                let post = try await storage.posts.create(
                    author: guestAuthor, userID: nil, draft: try PostDraft(title: "Over TLS", body: "hidden"), now: Date())
                #expect(try await storage.posts.list(limit: 1, before: nil) == [post])
            }
            // prefer (the default): encrypted when the server offers it.
            try await self.withStorage(on: server, options: "") { storage in
                let encrypted = try await self.usesTLS(storage)
                #expect(encrypted)
            }
            // disable: plain.
            try await self.withStorage(on: server, options: "sslmode=disable") { storage in
                let encrypted = try await self.usesTLS(storage)
                #expect(!encrypted)
            }
            // verify-full with the certificate as the root: the name matches for localhost and for the IP.
            for host in ["localhost", "127.0.0.1"] {
                try await self.withStorage(on: server, host: host, options: "sslmode=verify-full&sslrootcert=\(certificate)") { storage in
                    let encrypted = try await self.usesTLS(storage)
                #expect(encrypted)
                }
            }
            try await self.withStorage(on: server, options: "sslmode=verify-ca&sslrootcert=\(certificate)") { storage in
                let encrypted = try await self.usesTLS(storage)
                #expect(encrypted)
            }

            // verify-full against the system's roots refuses a self-signed certificate, saying why.
            let error = await #expect(throws: PostgresConnectError.self) {
                try await self.withStorage(on: server, host: "localhost", options: "sslmode=verify-full") { _ in }
            }
            #expect(error?.reason.lowercased().contains("certificate") == true, "\(error?.description ?? "")")
        }
    }

    @Test func requireAgainstAPlainServerIsRefused() async throws {
        let server = try await PostgresServer.shared()
        let error = await #expect(throws: PostgresConnectError.self) {
            try await self.withStorage(on: server, options: "sslmode=require") { _ in }
        }
        #expect(error?.reason.contains("does not offer TLS") == true, "\(error?.description ?? "")")

        // prefer falls back to a plain connection.
        try await self.withStorage(on: server, options: "sslmode=prefer") { storage in
            let encrypted = try await self.usesTLS(storage)
                #expect(!encrypted)
        }
    }

    @Test func anUnreadableRootCertificateIsReported() async throws {
        let configuration = try PostgresConfiguration(
            url: "postgres://parley@localhost:5432/db?sslmode=verify-full&sslrootcert=/nonexistent/ca.pem")
        let error = await #expect(throws: PostgresConnectError.self) {
            let storage = try await PostgresStorage.open(configuration: configuration)
            try await storage.close()
        }
        #expect(error?.reason.contains("/nonexistent/ca.pem") == true)
    }
}
