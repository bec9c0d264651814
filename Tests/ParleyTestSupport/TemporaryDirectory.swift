import Foundation

/// A unique, empty folder under the system's temporary directory, removed afterwards.
public struct TemporaryDirectory: Sendable {
    /// The folder.
    public let url: URL

    /// The folder's path.
    public var path: String { self.url.path }

    /// Creates the folder.
    public init() throws {
        self.url = FileManager.default.temporaryDirectory
            .appendingPathComponent("parley-test-\(UUID().uuidString)", isDirectory: true)
        try FileManager.default.createDirectory(at: self.url, withIntermediateDirectories: true)
    }

    /// The path of `name` inside the folder.
    public func path(_ name: String) -> String {
        self.url.appendingPathComponent(name).path
    }

    /// Deletes the folder and everything in it.
    public func remove() {
        try? FileManager.default.removeItem(at: self.url)
    }

    /// Runs `body` with a fresh folder and removes the folder afterwards, whatever happens.
    @discardableResult
    public static func with<T>(_ body: (TemporaryDirectory) async throws -> T) async throws -> T {
        let directory = try TemporaryDirectory()
        do {
            let result = try await body(directory)
            directory.remove()
            return result
        } catch {
            directory.remove()
            throw error
        }
    }
}
