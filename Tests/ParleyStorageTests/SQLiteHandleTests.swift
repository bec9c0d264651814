import ParleyTestSupport
import Testing

@testable import ParleyStorage

/// The SQLite connection under the repositories: values in and out unchanged, errors that say
/// what failed, kept statements that stay right, and use from many tasks at once.
@Suite("SQLiteHandle")
struct SQLiteHandleTests {
    private func table() async throws -> SQLiteHandle {
        let handle = try SQLiteHandle(path: ":memory:")
        _ = try await handle.query("CREATE TABLE t (id INTEGER PRIMARY KEY, v ANY, u TEXT UNIQUE)")
        return handle
    }

    @Test func valuesComeBackAsTheyWent() async throws {
        let handle = try await self.table()
        let values: [SQLiteValue] = [
            .integer(.max), .integer(.min), .float(-0.5), .text(""), .text("zero\u{0}inside"),
            .text("Ünïcødé 😀 مرحبا"), .blob([]), .blob([0, 255, 0]), .null,
        ]
        for value in values {
            _ = try await handle.query("INSERT INTO t (v) VALUES (?1)", [value])
        }
        let rows = try await handle.query("SELECT id, v FROM t ORDER BY id")
        #expect(rows.map { $0.column("v") } == values)
        #expect(rows.first?.names == ["id", "v"])
        #expect(rows.first?.column("missing") == nil)
    }

    @Test func errorsCarrySQLitesCodeAndMessage() async throws {
        let handle = try await self.table()
        _ = try await handle.query("INSERT INTO t (u) VALUES (?1)", [.text("a")])
        let duplicate = await #expect(throws: SQLiteError.self) {
            try await handle.query("INSERT INTO t (u) VALUES (?1)", [.text("a")])
        }
        #expect(duplicate?.isUniqueViolation == true)
        #expect(duplicate?.message.contains("t.u") == true)

        let syntax = await #expect(throws: SQLiteError.self) { try await handle.query("SELEC 1") }
        #expect(syntax?.message.contains("syntax error") == true)
        // A parameter beyond the statement's is an error, not ignored.
        await #expect(throws: SQLiteError.self) { try await handle.query("SELECT ?1", [.integer(1), .integer(2)]) }
        // Only one statement runs per call: more is refused, not half run.
        let two = await #expect(throws: SQLiteError.self) { try await handle.query("INSERT INTO t (v) VALUES (1); DROP TABLE t") }
        #expect(two?.message.hasPrefix("more than one statement") == true)
        let none = await #expect(throws: SQLiteError.self) { try await handle.query(" -- nothing") }
        #expect(none?.message.hasPrefix("no statement") == true)
        #expect(try await handle.query("SELECT count(*) AS n FROM t").first?.column("n") == .integer(1))
    }

    @Test func keptStatementsStartFreshEachTime() async throws {
        let handle = try await self.table()
        for index in 1...3 {
            _ = try await handle.query("INSERT INTO t (v) VALUES (?1)", [.integer(Int64(index))])
        }
        let select = "SELECT v FROM t WHERE v >= ?1 ORDER BY v"
        #expect(try await handle.query(select, [.integer(2)]).map { $0.column("v") } == [.integer(2), .integer(3)])
        // The same statement again: no leftover binding or position from the last run.
        #expect(try await handle.query(select, [.integer(3)]).map { $0.column("v") } == [.integer(3)])
        // Parameters not given this time are NULL, not the last run's values.
        #expect(try await handle.query("SELECT ?1 AS a, ?2 AS b", [.integer(1), .integer(2)]).first?.values == [.integer(1), .integer(2)])
        #expect(try await handle.query("SELECT ?1 AS a, ?2 AS b", [.integer(3)]).first?.values == [.integer(3), .null])
        // A statement that failed halfway is usable again.
        await #expect(throws: SQLiteError.self) { try await handle.query("INSERT INTO t (u) VALUES (?1), (?1)", [.text("x")]) }
        _ = try await handle.query("INSERT INTO t (u) VALUES (?1), (?2)", [.text("y"), .text("z")])
        #expect(try await handle.query("SELECT count(*) AS n FROM t WHERE u IS NOT NULL").first?.column("n") == .integer(2))
    }

    @Test func manyStatementsPastTheKeptLimit() async throws {
        let handle = try await self.table()
        for index in 0..<(SQLiteHandle.maximumKept * 2) {
            let rows = try await handle.query("SELECT \(index) AS n")
            #expect(rows.first?.column("n") == .integer(Int64(index)))
        }
    }

    @Test func closedHandleRefusesQueries() async throws {
        let handle = try await self.table()
        // Closed in a cancelled task too.
        let closing = Task {
            withUnsafeCurrentTask { $0?.cancel() }
            await handle.close()
        }
        await closing.value
        await handle.close()
        #expect(handle.isClosed)
        let error = await #expect(throws: SQLiteError.self) { try await handle.query("SELECT 1") }
        #expect(error?.message.contains("closed") == true)
    }

    @Test func cannotOpenAFolder() async throws {
        try await TemporaryDirectory.with { directory in
            await #expect(throws: SQLiteError.self) {
                let handle = try SQLiteHandle(path: directory.path(""))
                _ = try await handle.query("CREATE TABLE t (x)")
            }
        }
    }

    @Test func manyTasksAtOnce() async throws {
        let handle = try await self.table()
        try await withThrowingTaskGroup(of: Void.self) { group in
            for task in 0..<8 {
                group.addTask {
                    for index in 0..<200 {
                        let rows = try await handle.query(
                            "INSERT INTO t (v, u) VALUES (?1, ?2) RETURNING v", [.integer(Int64(task)), .text("\(task)-\(index)")]
                        )
                        #expect(rows.first?.column("v") == .integer(Int64(task)))
                    }
                }
            }
            try await group.waitForAll()
        }
        #expect(try await handle.query("SELECT count(DISTINCT u) AS n FROM t").first?.column("n") == .integer(1_600))
    }
}
