import ParleyCore

/// The fencing condition of SQLite writes (see ``WriteFence``).
enum SQLiteFence {
    /// True when parameter `index` is NULL (unfenced) or equals the recorded leadership epoch.
    static func condition(_ index: Int) -> String {
        "(?\(index) IS NULL OR EXISTS (SELECT 1 FROM leadership WHERE epoch = ?\(index)))"
    }

    /// The epoch as a parameter.
    static func bind(_ epoch: Int64?) -> SQLiteValue {
        epoch.map { .integer($0) } ?? .null
    }

    static let recorded = "SELECT epoch FROM leadership WHERE id = 1"
    static let claim = "UPDATE leadership SET epoch = ?1 WHERE id = 1 AND epoch <= ?1 RETURNING epoch"

    /// After a write that changed nothing: throws `not_leader` when the fence was the reason.
    static func verify(_ epoch: Int64?, on connection: SQLiteHandle) async throws {
        guard let epoch else { return }
        let rows = try await connection.query(Self.recorded)
        if let recorded = try rows.first?.int64("epoch"), recorded != epoch {
            throw WriteFence.superseded
        }
    }
}
