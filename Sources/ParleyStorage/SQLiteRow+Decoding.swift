
/// A row did not have the shape the query asked for (missing column or wrong type).
struct UnexpectedRowError: Error, CustomStringConvertible {
    /// The column that could not be read.
    let column: String
    /// What was found instead.
    let found: SQLiteValue?

    /// Names the kind of value found, never the value itself (it may be user text or a hash).
    var description: String {
        let kind: String
        switch self.found {
        case nil: kind = "no value"
        case .integer?: kind = "an integer"
        case .float?: kind = "a real"
        case .text?: kind = "text"
        case .blob?: kind = "a blob"
        case .null?: kind = "NULL"
        }
        return "the database returned \(kind) for column \(self.column)"
    }
}

extension SQLiteRow {
    /// The integer in `column`.
    func int64(_ column: String) throws -> Int64 {
        guard let value = self.column(column)?.integer else {
            throw UnexpectedRowError(column: column, found: self.column(column))
        }
        return value
    }

    /// The integer in `column`, or `nil` for NULL.
    func optionalInt64(_ column: String) throws -> Int64? {
        if case .null? = self.column(column) { return nil }
        return try self.int64(column)
    }

    /// The text in `column`.
    func text(_ column: String) throws -> String {
        guard let value = self.column(column)?.string else {
            throw UnexpectedRowError(column: column, found: self.column(column))
        }
        return value
    }
}
