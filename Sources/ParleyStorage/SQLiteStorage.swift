import Foundation
import Logging
import ParleyCore

/// Parley's data in one SQLite database file (or in memory), opened and migrated.
///
/// One connection serves every repository; SQLite serialises its use. Each repository call
/// is a single statement, so calls from many tasks at once are safe.
public struct SQLiteStorage: Storage {
    /// The file name used inside a data directory.
    public static let fileName = "parley.sqlite"

    /// Where the database is: an absolute path, or `:memory:`.
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

    /// The connection every repository uses.
    let connection: SQLiteHandle
    /// Where storage events are logged.
    let logger: Logger
    /// The migrations this storage was opened with.
    let migrator: SQLiteMigrator

    /// Opens (creating it and its folder when missing) the database at `path` and migrates it.
    ///
    /// - Parameters:
    ///   - path: a file path, relative to the working directory or absolute, or `:memory:`
    ///     for a private in-memory database that disappears on `close()`.
    ///   - logger: where storage events (applied migrations) are logged.
    ///   - migrate: `false` opens without applying pending migrations, to inspect
    ///     `migrationStatus()`; the repositories need every migration applied.
    /// - Throws: `SchemaTooNewError` when a newer Parley has migrated the database;
    ///   SQLite's errors when the file cannot be opened or a migration fails.
    public static func open(
        path: String,
        logger: Logger = Logger(label: "parley.storage"),
        migrate: Bool = true
    ) async throws -> SQLiteStorage {
        try await Self.open(path: path, logger: logger, migrate: migrate, migrations: Migrations.all)
    }

    /// Opens the database `parley.sqlite` in `dataDirectory` (created when missing) and migrates it.
    ///
    /// See `open(path:logger:migrate:)`.
    public static func open(
        dataDirectory: String,
        logger: Logger = Logger(label: "parley.storage"),
        migrate: Bool = true
    ) async throws -> SQLiteStorage {
        let path = URL(fileURLWithPath: dataDirectory, isDirectory: true).appendingPathComponent(Self.fileName).path
        return try await Self.open(path: path, logger: logger, migrate: migrate)
    }

    /// Opens with an explicit list of migrations (tests use this to fake newer or broken ones).
    static func open(
        path: String,
        logger: Logger,
        migrate: Bool,
        migrations: [Migration]
    ) async throws -> SQLiteStorage {
        let location: String
        if path == ":memory:" {
            location = path
        } else {
            let url = URL(fileURLWithPath: path).standardizedFileURL
            try FileManager.default.createDirectory(
                at: url.deletingLastPathComponent(),
                withIntermediateDirectories: true
            )
            location = url.path
        }

        let connection = try SQLiteHandle(path: location)
        // Two processes opening a new file at once can deadlock while it still has a rollback
        // journal (one switching it to WAL, one creating a table): SQLite then answers SQLITE_BUSY
        // at once, without waiting. Every step here is idempotent, so try again a few times.
        var attempt = 1
        while true {
            do {
                try await Self.configure(connection, location: location, logger: logger)
                let migrator = SQLiteMigrator(connection: connection, location: location, logger: logger, migrations: migrations)
                if migrate {
                    try await migrator.migrate()
                } else {
                    try await migrator.prepare()
                }
                return SQLiteStorage(location: location, connection: connection, logger: logger, migrator: migrator)
            } catch let error as SQLiteError where error.isBusy && attempt < 10 {
                attempt += 1
                // Not `try`: cancelled, the next attempt throws and closes what was opened.
                try? await Task.sleep(for: .milliseconds(Int.random(in: 10...50)))
            } catch {
                await connection.close()
                throw error
            }
        }
    }

    private init(location: String, connection: SQLiteHandle, logger: Logger, migrator: SQLiteMigrator) {
        self.location = location
        self.connection = connection
        self.logger = logger
        self.migrator = migrator
        self.users = SQLiteUserRepository(connection: connection, fence: self.fence)
        self.sessions = SQLiteSessionRepository(connection: connection, fence: self.fence)
        self.posts = SQLitePostRepository(connection: connection, fence: self.fence)
        self.chat = SQLiteChatRepository(connection: connection, fence: self.fence)
    }

    /// Sets the connection options Parley relies on.
    private static func configure(_ connection: SQLiteHandle, location: String, logger: Logger) async throws {
        // First, so that the other statements wait for a busy database instead of failing.
        _ = try await connection.query("PRAGMA busy_timeout = 5000")
        let mode = try await connection.query("PRAGMA journal_mode = WAL").first?.column("journal_mode")?.string
        if location != ":memory:", mode?.lowercased() != "wal" {
            logger.warning(
                "could not switch the database to write-ahead logging",
                metadata: ["storage.location": "\(location)", "storage.journal_mode": "\(mode ?? "unknown")"]
            )
        }
        _ = try await connection.query("PRAGMA synchronous = NORMAL")
        _ = try await connection.query("PRAGMA foreign_keys = ON")
    }

    /// Every migration this build knows, with when it was applied (`nil` while pending),
    /// plus any applied migration it does not know.
    public func migrationStatus() async throws -> [MigrationStatus] {
        try await self.migrator.status()
    }

    public func claimLeadership(epoch: Int64) async throws -> Bool {
        let claimed = try await !self.connection.query(SQLiteFence.claim, [.integer(epoch)]).isEmpty
        self.fence.set(claimed ? .leading(epoch: epoch) : .following(leader: nil))
        return claimed
    }

    /// Closes the connection; the storage is unusable afterwards.
    public func close() async throws {
        await self.connection.close()
    }
}
