import Foundation
import Logging
import ParleyCore
import PostgresNIO

/// Parley's data in a PostgreSQL database, opened through a connection pool and migrated.
///
/// The pool (`PostgresClient`) runs in a task this storage owns until `close()`. While the
/// server is unreachable, every repository call throws
/// `ParleyError(.unavailable, "The database is unavailable. Try again in a moment.")` within
/// `connectTimeout` (the cause is logged); the pool keeps reconnecting in the background
/// (with backoff, at most a minute apart) and calls succeed again once the server is back,
/// without reopening the storage.
public struct PostgresStorage: MigratableStorage {
    /// The database URL, with the password replaced by `***`.
    public let location: String
    /// Accounts.
    public let users: any UserRepository
    /// Sessions.
    public let sessions: any SessionRepository
    /// Posts.
    public let posts: any PostRepository
    /// Friends, requests and conversations.
    public let chat: any ChatRepository
    /// The epoch writes carry.
    public let fence = WriteFence()

    /// The pool and its timeouts.
    let database: PostgresDatabase
    /// The migrations this storage was opened with.
    let migrator: PostgresMigrator
    /// Runs the pool; cancelled by `close()`.
    let runTask: Task<Void, Never>

    /// Connects to the database `configuration` names, checks the login, and migrates it.
    ///
    /// - Parameters:
    ///   - configuration: the server, credentials, TLS, pool size and timeouts.
    ///   - logger: where storage events are logged (applied migrations, an unreachable
    ///     database, and the pool's own connection failures).
    ///   - migrate: `false` opens without applying pending migrations, to inspect
    ///     `migrationStatus()`; the repositories need every migration applied.
    /// - Throws: `PostgresConnectError` when the server cannot be reached or refuses the
    ///   connection; `SchemaTooNewError` when a newer Parley has migrated the database;
    ///   the server's error when a migration fails.
    public static func open(
        configuration: PostgresConfiguration,
        logger: Logger = Logger(label: "parley.storage"),
        migrate: Bool = true
    ) async throws -> PostgresStorage {
        try await Self.open(configuration: configuration, logger: logger, migrate: migrate, migrations: Migrations.all)
    }

    /// Opens with an explicit list of migrations (tests use this to fake newer or broken ones).
    static func open(
        configuration: PostgresConfiguration,
        logger: Logger,
        migrate: Bool,
        migrations: [Migration]
    ) async throws -> PostgresStorage {
        let clientConfiguration = try configuration.makeClientConfiguration()
        try await Self.checkConnection(configuration, logger: logger)

        let client = PostgresClient(configuration: clientConfiguration, backgroundLogger: logger)
        let runTask = Task { await client.run() }
        let database = PostgresDatabase(
            client: client,
            location: configuration.redacted,
            connectTimeout: configuration.connectTimeout,
            queryTimeout: configuration.queryTimeout,
            logger: logger
        )
        let migrator = PostgresMigrator(database: database, logger: logger, migrations: migrations)
        do {
            if migrate {
                try await migrator.migrate()
            } else {
                try await migrator.prepare()
            }
        } catch {
            runTask.cancel()
            await runTask.value
            throw error
        }
        return PostgresStorage(database: database, migrator: migrator, runTask: runTask)
    }

    private init(database: PostgresDatabase, migrator: PostgresMigrator, runTask: Task<Void, Never>) {
        self.location = database.location
        self.database = database
        self.migrator = migrator
        self.runTask = runTask
        self.users = PostgresUserRepository(database: database, fence: self.fence)
        self.sessions = PostgresSessionRepository(database: database, fence: self.fence)
        self.posts = PostgresPostRepository(database: database, fence: self.fence)
        self.chat = PostgresChatRepository(database: database, fence: self.fence)
    }

    /// Opens and closes one connection outside the pool, so that a wrong host, password,
    /// database or TLS setting fails `open` with the reason instead of as a timeout (the
    /// pool retries failed connections quietly).
    private static func checkConnection(_ configuration: PostgresConfiguration, logger: Logger) async throws {
        let connectionConfiguration = try configuration.makeConnectionConfiguration()
        let connection: PostgresConnection
        do {
            connection = try await PostgresConnection.connect(configuration: connectionConfiguration, id: 0, logger: logger)
        } catch {
            throw PostgresConnectError(location: configuration.redacted, reason: PostgresFailure.describe(error))
        }
        try? await connection.close()
    }

    /// Every migration this build knows, with when it was applied (`nil` while pending),
    /// plus any applied migration it does not know.
    public func migrationStatus() async throws -> [MigrationStatus] {
        try await self.migrator.status()
    }

    public func claimLeadership(epoch: Int64) async throws -> Bool {
        let claimed = try await !self.database.query(PostgresFence.claim(epoch)).isEmpty
        self.fence.set(claimed ? .leading(epoch: epoch) : .following(leader: nil))
        return claimed
    }

    /// Stops the pool and closes its connections; the storage and its repositories are
    /// unusable afterwards (calls throw `.unavailable`).
    public func close() async throws {
        self.runTask.cancel()
        await self.runTask.value
    }
}
