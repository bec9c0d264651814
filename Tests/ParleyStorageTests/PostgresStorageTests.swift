import ParleyTestSupport
import Foundation
import ParleyCore
import PostgresNIO
import Synchronization
import Testing

#if canImport(Glibc)
import Glibc
#endif

@testable import ParleyStorage

/// Behaviour of the PostgreSQL backend beyond the shared conformance suite.
@Suite("PostgresStorage", .enabled(if: PostgresServer.isEnabled))
struct PostgresStorageTests {
    private static let unavailable = ParleyError(.unavailable, "The database is unavailable. Try again in a moment.")

    @Test func schemaMirrorsSQLite() async throws {
        try await PostgresTesting.withStorage { _, database in
            let constraint = try await database.server.psql(
                "SELECT contype FROM pg_constraint WHERE conname = 'users_username_key_unique'", database: database.name)
            #expect(constraint.trimmingCharacters(in: .whitespacesAndNewlines) == "u")
            let types = try await database.server.psql(
                """
                SELECT table_name || '.' || column_name || ':' || data_type FROM information_schema.columns
                WHERE table_schema = 'public' AND column_name IN (
                    'id', 'user_id', 'created_at', 'expires_at', 'applied_at', 'credential_version',
                    'from_user_id', 'to_user_id', 'user_low', 'user_high', 'resolved_at', 'read_low', 'read_high',
                    'conversation_id', 'seq', 'sender_id', 'sent_at'
                )
                ORDER BY 1
                """,
                database: database.name
            )
            #expect(
                types.split(separator: "\n") == [
                    "conversations.created_at:bigint", "conversations.id:bigint", "conversations.read_high:bigint",
                    "conversations.read_low:bigint", "conversations.user_high:bigint", "conversations.user_low:bigint",
                    "friend_requests.created_at:bigint", "friend_requests.from_user_id:bigint", "friend_requests.id:bigint",
                    "friend_requests.resolved_at:bigint", "friend_requests.to_user_id:bigint", "friend_requests.user_high:bigint",
                    "friend_requests.user_low:bigint",
                    "leadership.id:integer", "posts.created_at:bigint", "posts.id:bigint", "posts.user_id:bigint",
                    "schema_migrations.applied_at:bigint",
                    "sessions.credential_version:bigint", "sessions.expires_at:bigint", "sessions.user_id:bigint",
                    "texts.conversation_id:bigint", "texts.sender_id:bigint", "texts.sent_at:bigint", "texts.seq:bigint",
                    "users.created_at:bigint", "users.credential_version:bigint", "users.id:bigint",
                ]
            )
            // The chat repository recognises these by name.
            let chatConstraints = try await database.server.psql(
                """
                SELECT conname::text || ':' || contype::text FROM pg_constraint
                WHERE conname IN ('conversations_pair_unique', 'texts_seq_pkey', 'texts_client_message_unique')
                UNION ALL
                SELECT indexname::text || ':i' FROM pg_indexes WHERE indexname = 'friend_requests_pending_pair'
                ORDER BY 1
                """,
                database: database.name
            )
            #expect(
                chatConstraints.split(separator: "\n") == [
                    "conversations_pair_unique:u", "friend_requests_pending_pair:i", "texts_client_message_unique:u", "texts_seq_pkey:p",
                ]
            )
        }
    }

    /// Two backends (two pools) registering one name at once: one account, the rest told it is taken.
    @Test func registrationsFromTwoBackendsRace() async throws {
        let database = try await PostgresTesting.freshDatabase()
        let first = try await PostgresStorage.open(configuration: database.configuration)
        let second = try await PostgresStorage.open(configuration: database.configuration)
        let names = ["Racer", "racer", "RACER", "rAcEr", "Racer", "racer", "RACER", "racEr", "RACer", "raceR"]
        let results = await withTaskGroup(of: Result<User, any Error>.self) { group in
            for (index, name) in names.enumerated() {
                let storage = index.isMultiple(of: 2) ? first : second
                group.addTask {
                    do {
                        return .success(try await storage.users.create(username: try Username(name), passwordHash: "h", now: Date()))
                    } catch {
                        return .failure(error)
                    }
                }
            }
            return await group.reduce(into: []) { $0.append($1) }
        }
        let stored = try await first.users.credentials(usernameKey: "racer")
        try await first.close()
        try await second.close()

        let winners = results.compactMap { try? $0.get() }
        #expect(winners.count == 1)
        for case .failure(let error) in results {
            #expect(error as? ParleyError == StorageConformance.usernameTaken)
        }
        #expect(stored?.user == winners.first)
    }

    @Test func otherServerErrorsPropagate() async throws {
        try await PostgresTesting.withStorage { storage, _ in
            let error = await #expect(throws: PSQLError.self) {
                try await storage.posts.create(author: "x", userID: 12345, draft: try PostDraft(title: "t", body: "b"), now: Date())
            }
            #expect(error?.serverInfo?[.sqlState] == "23503")  // foreign_key_violation
        }
    }

    @Test func queryTimeoutIsTheServersStatementTimeout() async throws {
        try await PostgresTesting.withStorage(options: "sslmode=disable&query_timeout=0.3") { storage, _ in
            let setting = try await storage.database.query("SHOW statement_timeout")
            #expect(try setting.first?.decode(String.self) == "300ms")
            await #expect(throws: Self.unavailable) {
                _ = try await storage.database.query("SELECT pg_sleep(5)")
            }
            // The pool is fine afterwards.
            #expect(try await storage.posts.list(limit: 1, before: nil).isEmpty)
        }
    }

    /// A server that stops answering (its backend process frozen with SIGSTOP) makes the
    /// client close the connection after query_timeout plus a second (or connect_timeout, if
    /// later): the server's own statement_timeout cannot fire in a frozen process.
    @Test func aSilentServerIsCutOffByTheClient() async throws {
        try await PostgresTesting.withStorage(options: "sslmode=disable&connect_timeout=2&query_timeout=0.5") { storage, _ in
            let frozen = FrozenProcess()
            await #expect(throws: Self.unavailable) {
                try await Self.queryAfterFreezingTheBackend(storage, frozen)
            }
            frozen.thaw()
            let posts = try await storage.posts.list(limit: 1, before: nil)
            #expect(posts.isEmpty)
        }
    }

    /// Stops the server process behind a pooled connection, then queries on that connection.
    private static func queryAfterFreezingTheBackend(_ storage: PostgresStorage, _ frozen: FrozenProcess) async throws {
        let logger = storage.database.logger
        _ = try await storage.database.withConnection { connection in
            let rows = try await connection.query("SELECT pg_backend_pid()", logger: logger).collect()
            frozen.freeze(pid_t(try rows.first?.decode(Int32.self) ?? 0))
            return try await connection.query("SELECT 1", logger: logger).collect().count
        }
    }

    @Test func callsAfterCloseAreUnavailable() async throws {
        let database = try await PostgresTesting.freshDatabase()
        let storage = try await PostgresStorage.open(configuration: database.configuration)
        try await storage.close()
        await #expect(throws: Self.unavailable) {
            _ = try await storage.posts.list(limit: 1, before: nil)
        }
    }

    @Test func openingAMissingDatabaseSaysSo() async throws {
        let server = try await PostgresServer.shared()
        let url = await server.url(database: "no_such_database").replacingOccurrences(of: "parley@", with: "parley:topsecret@")
        let configuration = try PostgresConfiguration(url: url)
        let error = await #expect(throws: PostgresConnectError.self) {
            let storage = try await PostgresStorage.open(configuration: configuration)
            try await storage.close()
        }
        #expect(error?.reason.contains("does not exist") == true, "\(error?.description ?? "")")
        #expect(error?.description.contains("topsecret") == false)
        #expect(error?.location == configuration.redacted)
    }

    @Test func openingAClosedPortSaysSo() async throws {
        // Port 1 is privileged and never has a PostgreSQL on it here.
        let configuration = try PostgresConfiguration(url: "postgres://parley:topsecret@127.0.0.1:1/db?sslmode=disable&connect_timeout=2")
        let error = await #expect(throws: PostgresConnectError.self) {
            let storage = try await PostgresStorage.open(configuration: configuration)
            try await storage.close()
        }
        #expect(error?.description.contains("topsecret") == false)
        #expect(error?.reason.lowercased().contains("refused") == true, "\(error?.description ?? "")")
    }

    @Test func databaseURLOpensEitherEngine() async throws {
        let database = try await PostgresTesting.freshDatabase()
        let postgres = try await DatabaseURL.postgres(database.configuration).open()
        #expect(postgres is PostgresStorage)
        #expect(postgres.location == database.configuration.redacted)
        #expect(try await postgres.migrationStatus().allSatisfy { $0.appliedAt != nil })
        try await postgres.close()

        let sqlite = try await DatabaseURL("sqlite::memory:").open()
        #expect(sqlite is SQLiteStorage)
        #expect(try await sqlite.migrationStatus().allSatisfy { $0.appliedAt != nil })
        try await sqlite.close()

        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("parley-url-\(UUID().uuidString)").path
        defer { try? FileManager.default.removeItem(atPath: folder) }
        let inFolder = try await DatabaseURL("sqlite:\(folder)/").open()
        #expect(inFolder.location == folder + "/parley.sqlite")
        try await inFolder.close()
    }
}

/// The backend process a test froze (SIGSTOP), to thaw it afterwards (SIGCONT).
private final class FrozenProcess: Sendable {
    private let pid = Mutex<pid_t>(0)

    func freeze(_ pid: pid_t) {
        guard pid > 0 else { return }
        self.pid.withLock { $0 = pid }
        kill(pid, SIGSTOP)
    }

    func thaw() {
        let pid = self.pid.withLock { $0 }
        if pid > 0 { kill(pid, SIGCONT) }
    }
}
