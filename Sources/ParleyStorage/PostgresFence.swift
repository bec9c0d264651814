import ParleyCore
import PostgresNIO

/// The fencing condition of PostgreSQL writes (see ``WriteFence``).
enum PostgresFence {
    /// Records `epoch` unless a higher one is recorded; a row when it did.
    static func claim(_ epoch: Int64) -> PostgresQuery {
        "UPDATE leadership SET epoch = \(epoch) WHERE id = 1 AND epoch <= \(epoch) RETURNING epoch"
    }

    static let recorded: PostgresQuery = "SELECT epoch FROM leadership WHERE id = 1"

    /// After a write that changed nothing: throws `not_leader` when the fence was the reason.
    static func verify(_ epoch: Int64?, on database: PostgresDatabase) async throws {
        guard let epoch else { return }
        let rows = try await database.query(Self.recorded)
        if let recorded = try rows.first?.decode(Int64.self), recorded != epoch {
            throw WriteFence.superseded
        }
    }
}

extension PostgresQuery.StringInterpolation {
    /// `EXISTS (SELECT 1 FROM leadership WHERE epoch = epoch FOR SHARE)`, bound; `TRUE` unfenced
    /// (`nil`: one backend, no ZooKeeper).
    ///
    /// `FOR SHARE` holds the row until the write commits: a new leader's claim (an UPDATE of that
    /// row) waits for the writes that passed the check, and writes that start after it see the
    /// new epoch, so no old leader's write commits after the claim (READ COMMITTED re-checks only
    /// the rows it writes, not the fence). Unfenced there is nothing to check and no row to lock.
    mutating func appendInterpolation(fence epoch: Int64?) {
        guard let epoch else {
            self.appendLiteral("TRUE")
            return
        }
        self.appendLiteral("EXISTS (SELECT 1 FROM leadership WHERE epoch = ")
        self.appendInterpolation(epoch)
        self.appendLiteral("::BIGINT FOR SHARE)")
    }
}
