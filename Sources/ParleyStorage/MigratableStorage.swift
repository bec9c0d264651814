import ParleyCore

/// A `Storage` with versioned migrations: what `parley migrate` and `parley serve` need,
/// whichever engine `DatabaseURL.open` picked.
public protocol MigratableStorage: Storage {
    /// Where the database is, for messages: a path, `:memory:`, or a URL without its password.
    var location: String { get }
    /// Every migration this build knows, with when it was applied (`nil` while pending),
    /// plus any applied migration it does not know.
    func migrationStatus() async throws -> [MigrationStatus]
}

extension SQLiteStorage: MigratableStorage {}
