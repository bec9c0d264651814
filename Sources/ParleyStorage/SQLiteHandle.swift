import NIOPosix
import Synchronization
// SQLite itself, as sqlite-nio vendors and builds it (its functions prefixed `sqlite_nio_`):
// the one copy of SQLite in the build, with no system package needed.
import VaporCSQLite

/// A value of a column or a parameter.
enum SQLiteValue: Sendable, Equatable {
    case integer(Int64)
    case float(Double)
    case text(String)
    case blob([UInt8])
    case null

    /// The text, when the value is text.
    var string: String? {
        if case .text(let text) = self { text } else { nil }
    }

    /// The integer, when the value is an integer.
    var integer: Int64? {
        if case .integer(let integer) = self { integer } else { nil }
    }
}

/// One row of a result.
struct SQLiteRow: Sendable {
    /// The result's column names, in order.
    let names: [String]
    /// This row's values, in the same order.
    let values: [SQLiteValue]

    /// The value of the first column named `name`; `nil` when there is none.
    func column(_ name: String) -> SQLiteValue? {
        self.names.firstIndex(of: name).map { self.values[$0] }
    }
}

/// An error SQLite reported, with its extended result code and message.
struct SQLiteError: Error, CustomStringConvertible {
    /// SQLite's extended result code (`SQLITE_CONSTRAINT_UNIQUE`, say).
    let code: Int32
    /// SQLite's message (`UNIQUE constraint failed: posts.request_id`, say).
    let message: String

    /// The database was locked by another connection beyond the busy timeout.
    var isBusy: Bool { self.code & 0xFF == SQLITE_BUSY }
    /// A UNIQUE constraint refused the row (`SQLITE_CONSTRAINT_UNIQUE`).
    var isUniqueViolation: Bool { self.code == SQLITE_CONSTRAINT | (8 << 8) }

    var description: String { "SQLite error \(self.code): \(self.message)" }
}

/// One open SQLite connection and the statements it has prepared, kept by their SQL for the
/// next time (preparing a post's statement took about 16 µs, as long as running it).
///
/// Statements run one at a time on a thread of the connection's own: SQLite's calls block
/// (a commit writes the log; a checkpoint waits for the disk; a database locked by another
/// process is waited for up to the busy timeout), and must not hold up Swift concurrency's
/// few threads or the event loops. While one runs, the next callers wait, which is what lets
/// ``GroupCommit`` gather their writes into one statement.
final class SQLiteHandle: Sendable {
    /// Prepared statements kept at most; past it, all are finalised and the cache starts again
    /// (batch statements come in up to 64 sizes, the rest are a fixed set).
    static let maximumKept = 256

    private struct State {
        var database: OpaquePointer?
        var statements: [String: OpaquePointer] = [:]

        mutating func finalizeStatements() {
            for statement in self.statements.values {
                sqlite_nio_sqlite3_finalize(statement)
            }
            self.statements = [:]
        }
    }

    private let state: Mutex<State>
    /// The thread statements run on.
    private let thread: NIOThreadPool

    /// Opens (creating it when missing) the database at `path`, or a private one in memory for `:memory:`.
    init(path: String) throws {
        var database: OpaquePointer?
        let flags = SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX
        let opened = sqlite_nio_sqlite3_open_v2(path, &database, flags, nil)
        guard opened == SQLITE_OK, let database else {
            let message = database.flatMap { sqlite_nio_sqlite3_errmsg($0).map { String(cString: $0) } } ?? "out of memory"
            sqlite_nio_sqlite3_close_v2(database)
            throw SQLiteError(code: opened, message: "cannot open the database at \(path): \(message)")
        }
        sqlite_nio_sqlite3_extended_result_codes(database, 1)
        self.state = Mutex(State(database: database))
        self.thread = NIOThreadPool(numberOfThreads: 1)
        self.thread.start()
    }

    deinit {
        self.closeDatabase()
        self.thread.shutdownGracefully { _ in }
    }

    /// Whether `close()` was called.
    var isClosed: Bool {
        self.state.withLock { $0.database == nil }
    }

    /// Runs one statement with `binds` as its parameters `?1`, `?2`, …, on the connection's
    /// thread; returns its rows. A task cancelled before its statement started gets
    /// `CancellationError`, and the statement does not run.
    func query(_ sql: String, _ binds: [SQLiteValue] = []) async throws -> [SQLiteRow] {
        do {
            return try await self.thread.runIfActive { try self.run(sql, binds) }
        } catch is CancellationError where self.isClosed {
            throw Self.closed  // the thread has stopped
        }
    }

    /// Finalises every statement, closes the connection and stops its thread; later queries
    /// throw. Closing twice is harmless. Done here, not on the thread, so that it is done
    /// in a cancelled task too (a service group that stops on a failure cancels its services);
    /// a statement under way is waited for.
    func close() async {
        self.closeDatabase()
        try? await self.thread.shutdownGracefully()
    }

    private static let closed = SQLiteError(code: SQLITE_MISUSE, message: "the database is closed")

    /// ``query(_:_:)`` on the calling thread.
    private func run(_ sql: String, _ binds: [SQLiteValue]) throws -> [SQLiteRow] {
        try self.state.withLock { state in
            guard let database = state.database else { throw Self.closed }
            let statement = try Self.statement(sql, in: &state, database: database)
            defer { sqlite_nio_sqlite3_reset(statement) }
            // Parameters not given are NULL, as in a new statement. Not by
            // `sqlite3_clear_bindings`: it makes SQLite prepare again a statement whose plan
            // looked at a parameter's value (a post's insert, for one).
            let count = max(Int(sqlite_nio_sqlite3_bind_parameter_count(statement)), binds.count)
            for index in 0..<count {
                let bound = Self.bind(index < binds.count ? binds[index] : .null, at: Int32(index + 1), to: statement)
                guard bound == SQLITE_OK else { throw Self.error(database) }
            }
            let columns = sqlite_nio_sqlite3_column_count(statement)
            let names = (0..<columns).map { sqlite_nio_sqlite3_column_name(statement, $0).map { String(cString: $0) } ?? "" }
            var rows: [SQLiteRow] = []
            while true {
                switch sqlite_nio_sqlite3_step(statement) {
                case SQLITE_ROW:
                    rows.append(SQLiteRow(names: names, values: (0..<columns).map { Self.value(at: $0, of: statement) }))
                case SQLITE_DONE:
                    return rows
                default:
                    throw Self.error(database)
                }
            }
        }
    }

    private func closeDatabase() {
        self.state.withLock { state in
            guard let database = state.database else { return }
            state.finalizeStatements()
            sqlite_nio_sqlite3_close_v2(database)
            state.database = nil
        }
    }

    /// The kept statement for `sql`, prepared now when it is not kept yet.
    private static func statement(_ sql: String, in state: inout State, database: OpaquePointer) throws -> OpaquePointer {
        if let kept = state.statements[sql] { return kept }
        if state.statements.count >= Self.maximumKept {
            state.finalizeStatements()
        }
        var statement: OpaquePointer?
        // The text after the first statement, read while SQLite's pointer into it is valid.
        let (prepared, rest) = sql.withCString { text in
            var tail: UnsafePointer<CChar>?
            let result = sqlite_nio_sqlite3_prepare_v3(database, text, -1, UInt32(SQLITE_PREPARE_PERSISTENT), &statement, &tail)
            return (result, tail.map { String(cString: $0) } ?? "")
        }
        guard prepared == SQLITE_OK else {
            let error = Self.error(database)
            sqlite_nio_sqlite3_finalize(statement)
            throw error
        }
        // Only the first statement would run: none, or more after it, is a programming error.
        guard let statement, rest.allSatisfy(\.isWhitespace) else {
            sqlite_nio_sqlite3_finalize(statement)
            let problem = statement == nil ? "no statement" : "more than one statement"
            throw SQLiteError(code: SQLITE_MISUSE, message: "\(problem) in: \(sql)")
        }
        state.statements[sql] = statement
        return statement
    }

    /// Binds `value` as parameter `index` (from 1); SQLite's result code.
    private static func bind(_ value: SQLiteValue, at index: Int32, to statement: OpaquePointer) -> Int32 {
        switch value {
        case .integer(let integer):
            return sqlite_nio_sqlite3_bind_int64(statement, index, integer)
        case .float(let float):
            return sqlite_nio_sqlite3_bind_double(statement, index, float)
        case .null:
            return sqlite_nio_sqlite3_bind_null(statement, index)
        case .text(var text):
            // With its length, so that a NUL inside is kept; a null pointer would bind NULL.
            return text.withUTF8 { bytes in
                guard let start = bytes.baseAddress else {
                    return sqlite_nio_sqlite3_bind_text64(statement, index, "", 0, Self.transient, UInt8(SQLITE_UTF8))
                }
                return start.withMemoryRebound(to: CChar.self, capacity: bytes.count) {
                    sqlite_nio_sqlite3_bind_text64(statement, index, $0, UInt64(bytes.count), Self.transient, UInt8(SQLITE_UTF8))
                }
            }
        case .blob(let bytes):
            return bytes.withUnsafeBytes { raw in
                guard let start = raw.baseAddress else { return sqlite_nio_sqlite3_bind_zeroblob(statement, index, 0) }
                return sqlite_nio_sqlite3_bind_blob64(statement, index, start, UInt64(raw.count), Self.transient)
            }
        }
    }

    /// The value of column `index` of the current row.
    private static func value(at index: Int32, of statement: OpaquePointer) -> SQLiteValue {
        switch sqlite_nio_sqlite3_column_type(statement, index) {
        case SQLITE_INTEGER:
            return .integer(sqlite_nio_sqlite3_column_int64(statement, index))
        case SQLITE_FLOAT:
            return .float(sqlite_nio_sqlite3_column_double(statement, index))
        case SQLITE_TEXT:
            // The pointer first, then the length (SQLite's rule for reading a column).
            guard let text = sqlite_nio_sqlite3_column_text(statement, index) else { return .text("") }
            let count = Int(sqlite_nio_sqlite3_column_bytes(statement, index))
            return .text(String(decoding: UnsafeBufferPointer(start: text, count: count), as: UTF8.self))
        case SQLITE_BLOB:
            guard let blob = sqlite_nio_sqlite3_column_blob(statement, index) else { return .blob([]) }
            let count = Int(sqlite_nio_sqlite3_column_bytes(statement, index))
            return .blob(Array(UnsafeRawBufferPointer(start: blob, count: count)))
        default:
            return .null
        }
    }

    /// The error of the connection's last call.
    private static func error(_ database: OpaquePointer) -> SQLiteError {
        SQLiteError(
            code: sqlite_nio_sqlite3_extended_errcode(database),
            message: String(cString: sqlite_nio_sqlite3_errmsg(database))
        )
    }

    /// SQLite copies a value bound with this destructor (`SQLITE_TRANSIENT`, a macro Swift cannot import).
    private static var transient: sqlite3_destructor_type { unsafeBitCast(-1, to: sqlite3_destructor_type.self) }
}
