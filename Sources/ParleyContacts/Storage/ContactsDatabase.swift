import Foundation
import Logging
import NIOCore
import SQLiteNIO

/// A replica's own SQLite file: its entries (tombstones included) and its clock.
///
/// Names and phone numbers are stored as BLOBs of their UTF-8 bytes, so they come back byte
/// for byte. Every write is one transaction holding a batch of entries and the clock, so a
/// crash (even `kill -9`) leaves the file at a batch boundary; the file is in WAL mode with
/// `synchronous = NORMAL`, which survives a process crash (not a power cut).
struct ContactsDatabase: Sendable {
    /// Every statement the database runs (SQLiteNIO runs only the first statement of a string).
    enum SQL {
        static let createEntries = """
            CREATE TABLE IF NOT EXISTS contacts_entries (
                user BLOB NOT NULL,
                contact BLOB NOT NULL,
                stamp INTEGER NOT NULL,
                phone BLOB,
                PRIMARY KEY (user, contact)
            ) WITHOUT ROWID
            """
        static let createReplica = """
            CREATE TABLE IF NOT EXISTS contacts_replica (
                id INTEGER PRIMARY KEY CHECK (id = 1),
                clock INTEGER NOT NULL
            )
            """
        static let seedReplica = "INSERT OR IGNORE INTO contacts_replica (id, clock) VALUES (1, 0)"
        static let loadClock = "SELECT clock FROM contacts_replica WHERE id = 1"
        static let loadEntries = "SELECT user, contact, stamp, phone FROM contacts_entries"
        static let saveClock = "UPDATE contacts_replica SET clock = ?1 WHERE id = 1"
        static let begin = "BEGIN IMMEDIATE"
        static let commit = "COMMIT"
        static let rollback = "ROLLBACK"

        /// An upsert of `rows` entries.
        static func upsert(rows: Int) -> String {
            var values: [String] = []
            values.reserveCapacity(rows)
            for row in 0..<rows {
                let base = row * 4
                values.append("(?\(base + 1), ?\(base + 2), ?\(base + 3), ?\(base + 4))")
            }
            return "INSERT INTO contacts_entries (user, contact, stamp, phone) VALUES "
                + values.joined(separator: ", ")
                + " ON CONFLICT (user, contact) DO UPDATE SET stamp = excluded.stamp, phone = excluded.phone"
        }
    }

    /// Rows per upsert statement (4 parameters each, well under SQLite's 32,766).
    static let rowsPerStatement = 500

    /// The connection; only the replica's actor uses it, one call at a time.
    let connection: SQLiteConnection
    /// The file's path.
    let location: String

    /// The file name for a replica: `contacts-NAME.sqlite`, with characters other than
    /// letters, digits, `.`, `-` and `_` in the name replaced by `_`.
    static func fileName(replica name: String) -> String {
        let safe = name.unicodeScalars.map { scalar -> String in
            switch scalar {
            case "a"..."z", "A"..."Z", "0"..."9", ".", "-", "_": String(scalar)
            default: "_"
            }
        }.joined()
        return "contacts-\(safe).sqlite"
    }

    /// Opens (creating it and its folder when missing) the file for `replica` in `directory`.
    static func open(directory: String, replica: String, logger: Logger) async throws -> ContactsDatabase {
        let folder = URL(fileURLWithPath: directory, isDirectory: true).standardizedFileURL
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        let path = folder.appendingPathComponent(Self.fileName(replica: replica)).path
        let connection = try await SQLiteConnection.open(storage: .file(path: path), logger: logger)
        do {
            _ = try await Self.run(connection, "PRAGMA busy_timeout = 5000")
            _ = try await Self.run(connection, "PRAGMA journal_mode = WAL")
            _ = try await Self.run(connection, "PRAGMA synchronous = NORMAL")
            _ = try await Self.run(connection, SQL.createEntries)
            _ = try await Self.run(connection, SQL.createReplica)
            _ = try await Self.run(connection, SQL.seedReplica)
        } catch {
            let closed: EventLoopFuture<Void> = connection.close()
            try? await closed.get()
            throw error
        }
        return ContactsDatabase(connection: connection, location: path)
    }

    /// Reads the whole state back; rows that are not valid entries are skipped and logged.
    func load(logger: Logger) async throws -> ContactsState {
        let clockRow = try await self.run(SQL.loadClock).first
        let clock = clockRow?.column("clock")?.integer ?? 0
        var state = ContactsState(clock: UInt32(clamping: clock))
        var skipped = 0
        for row in try await self.run(SQL.loadEntries) {
            guard case .blob(let user)? = row.column("user"), case .blob(let contact)? = row.column("contact"),
                let stamp = row.column("stamp")?.integer, let stamp = UInt32(exactly: stamp)
            else {
                skipped += 1
                continue
            }
            let phone: ContactsText?
            switch row.column("phone") {
            case .blob(let bytes)?: phone = ContactsText(trusted: Array(bytes.readableBytesView))
            default: phone = nil
            }
            let change = ContactsChange(
                user: ContactsText(trusted: Array(user.readableBytesView)),
                contact: ContactsText(trusted: Array(contact.readableBytesView)),
                entry: ContactsEntry(stamp: stamp, phone: phone)
            )
            state.restore(change)
        }
        if skipped > 0 {
            logger.warning("skipped unreadable rows", metadata: ["contacts.database": "\(self.location)", "contacts.rows": "\(skipped)"])
        }
        return state
    }

    /// Writes a batch of changes (in the order they were accepted; the last for a key wins)
    /// and the clock, in one transaction.
    func write(_ changes: [ContactsChange], clock: UInt32) async throws {
        var latest: [ContactsChange] = []
        latest.reserveCapacity(changes.count)
        var index: [ContactsChangeKey: Int] = [:]
        for change in changes {
            let key = ContactsChangeKey(user: change.user, contact: change.contact)
            if let position = index[key] {
                latest[position] = change
            } else {
                index[key] = latest.count
                latest.append(change)
            }
        }
        guard !latest.isEmpty else {
            _ = try await self.run(SQL.saveClock, [.integer(SQLiteInt64(clock))])
            return
        }
        _ = try await self.run(SQL.begin)
        do {
            var start = latest.startIndex
            while start < latest.endIndex {
                let end = min(start + Self.rowsPerStatement, latest.endIndex)
                var binds: [SQLiteData] = []
                binds.reserveCapacity((end - start) * 4)
                for change in latest[start..<end] {
                    binds.append(.blob(ByteBuffer(bytes: change.user.bytes)))
                    binds.append(.blob(ByteBuffer(bytes: change.contact.bytes)))
                    binds.append(.integer(SQLiteInt64(change.entry.stamp)))
                    binds.append(change.entry.phone.map { .blob(ByteBuffer(bytes: $0.bytes)) } ?? .null)
                }
                _ = try await self.run(SQL.upsert(rows: end - start), binds)
                start = end
            }
            _ = try await self.run(SQL.saveClock, [.integer(SQLiteInt64(clock))])
            _ = try await self.run(SQL.commit)
        } catch {
            _ = try? await self.run(SQL.rollback)
            throw error
        }
    }

    /// Closes the file, even when the calling task is cancelled.
    func close() async throws {
        let closed: EventLoopFuture<Void> = self.connection.close()
        try await closed.get()
    }

    /// Runs one statement to completion whether or not the calling task is cancelled (a
    /// cancelled task must not leave a transaction half done), through SQLiteNIO's futures API.
    func run(_ sql: String, _ binds: [SQLiteData] = []) async throws -> [SQLiteRow] {
        try await Self.run(self.connection, sql, binds)
    }

    private static func run(_ connection: SQLiteConnection, _ sql: String, _ binds: [SQLiteData] = []) async throws -> [SQLiteRow] {
        let rows: EventLoopFuture<[SQLiteRow]> = connection.query(sql, binds)
        return try await rows.get()
    }
}

/// A (user, contact) pair.
struct ContactsChangeKey: Hashable {
    let user: ContactsText
    let contact: ContactsText
}
