import Foundation

/// Thrown when opening a database that a newer Parley has migrated past what this build knows.
///
/// Parley refuses to touch such a database rather than risk misreading it; the fix is to
/// run a Parley at least as new as the one that migrated it.
public struct SchemaTooNewError: Error, Sendable, Equatable, CustomStringConvertible, LocalizedError {
    /// Where the database is (a path, or `:memory:`).
    public let location: String
    /// The highest schema version recorded in the database.
    public let databaseVersion: Int
    /// The highest schema version this build knows (`Migrations.latestVersion`).
    public let supportedVersion: Int

    /// Creates the error.
    public init(location: String, databaseVersion: Int, supportedVersion: Int) {
        self.location = location
        self.databaseVersion = databaseVersion
        self.supportedVersion = supportedVersion
    }

    /// A message saying what is wrong and what to do.
    public var description: String {
        "the database at \(self.location) has schema version \(self.databaseVersion), "
            + "newer than this parley (\(self.supportedVersion)); upgrade parley"
    }

    /// The same text as `description`, for `localizedDescription`.
    public var errorDescription: String? { self.description }
}
