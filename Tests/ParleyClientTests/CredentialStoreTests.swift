#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import Foundation
import ParleyClient
import ParleyCore
import Testing

@Suite struct CredentialStoreTests {
    /// A fresh temporary config root, removed by the caller.
    static func temporaryRoot() throws -> URL {
        let root = FileManager.default.temporaryDirectory.appending(path: "parley-client-tests-\(UUID().uuidString)", directoryHint: .isDirectory)
        try FileManager.default.createDirectory(at: root, withIntermediateDirectories: true)
        return root
    }

    /// The permission bits of a path, from `stat(2)`.
    static func mode(_ url: URL) -> mode_t? {
        var status = stat()
        guard stat(url.path(percentEncoded: false), &status) == 0 else { return nil }
        return status.st_mode & 0o777
    }

    /// The permission bits of a path, from FileManager's attributes.
    static func attributeMode(_ url: URL) throws -> Int? {
        let attributes = try FileManager.default.attributesOfItem(atPath: url.path(percentEncoded: false))
        return (attributes[.posixPermissions] as? NSNumber)?.intValue
    }

    let session = StoredSession(gateway: "http://127.0.0.1:8080", username: "alice", token: "tok-123")

    @Test func roundTrip() throws {
        let root = try Self.temporaryRoot()
        defer { try? FileManager.default.removeItem(at: root) }
        let store = CredentialStore(configRoot: root)
        #expect(try store.load() == nil)
        try store.save(self.session)
        #expect(try store.load() == self.session)
        #expect(store.file.path(percentEncoded: false) == root.path(percentEncoded: false) + "parley/session.json")
        let json = try JSONSerialization.jsonObject(with: Data(contentsOf: store.file)) as? [String: String]
        #expect(json == ["gateway": "http://127.0.0.1:8080", "username": "alice", "token": "tok-123"])
    }

    @Test func fileIs0600AndFolder0700() throws {
        let root = try Self.temporaryRoot()
        defer { try? FileManager.default.removeItem(at: root) }
        let store = CredentialStore(configRoot: root)
        try store.save(self.session)
        #expect(Self.mode(store.file) == 0o600)
        #expect(Self.mode(store.directory) == 0o700)
        #expect(try Self.attributeMode(store.file) == 0o600)
        #expect(try Self.attributeMode(store.directory) == 0o700)
        let leftovers = try FileManager.default.contentsOfDirectory(atPath: store.directory.path(percentEncoded: false))
        #expect(leftovers == ["session.json"])
    }

    @Test func overwriteKeeps0600EvenOverAWiderFile() throws {
        let root = try Self.temporaryRoot()
        defer { try? FileManager.default.removeItem(at: root) }
        let store = CredentialStore(configRoot: root)
        try store.save(self.session)
        #expect(chmod(store.file.path(percentEncoded: false), 0o644) == 0)
        let second = StoredSession(gateway: "https://parley.example", username: "bob", token: "tok-456")
        try store.save(second)
        #expect(try store.load() == second)
        #expect(Self.mode(store.file) == 0o600)
    }

    @Test func existingWideFolderIsTightened() throws {
        let root = try Self.temporaryRoot()
        defer { try? FileManager.default.removeItem(at: root) }
        let store = CredentialStore(configRoot: root)
        try FileManager.default.createDirectory(at: store.directory, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o755])
        try store.save(self.session)
        #expect(Self.mode(store.directory) == 0o700)
    }

    @Test func createsMissingParents() throws {
        let root = try Self.temporaryRoot()
        defer { try? FileManager.default.removeItem(at: root) }
        let store = CredentialStore(configRoot: root.appending(path: "a/b/config", directoryHint: .isDirectory))
        try store.save(self.session)
        #expect(try store.load() == self.session)
        #expect(Self.mode(store.directory) == 0o700)
    }

    @Test func delete() throws {
        let root = try Self.temporaryRoot()
        defer { try? FileManager.default.removeItem(at: root) }
        let store = CredentialStore(configRoot: root)
        try store.save(self.session)
        #expect(try store.delete() == true)
        #expect(try store.load() == nil)
        #expect(!FileManager.default.fileExists(atPath: store.file.path(percentEncoded: false)))
        #expect(try store.delete() == false)
    }

    @Test func damagedFileIsReported() throws {
        let root = try Self.temporaryRoot()
        defer { try? FileManager.default.removeItem(at: root) }
        let store = CredentialStore(configRoot: root)
        try store.save(self.session)
        try Data("not json".utf8).write(to: store.file)
        #expect(throws: ParleyError.self) { try store.load() }
        do {
            _ = try store.load()
        } catch {
            #expect(error.code == .invalidInput)
        }
        #expect(try store.delete() == true)
    }

    @Test func standardLocation() {
        let xdg = CredentialStore.standard(environment: ["XDG_CONFIG_HOME": "/tmp/xdg", "HOME": "/home/u"])
        #expect(xdg.file.path(percentEncoded: false) == "/tmp/xdg/parley/session.json")
        let home = CredentialStore.standard(environment: ["HOME": "/home/u"])
        #expect(home.file.path(percentEncoded: false) == "/home/u/.config/parley/session.json")
        let relative = CredentialStore.standard(environment: ["XDG_CONFIG_HOME": "relative", "HOME": "/home/u"])
        #expect(relative.file.path(percentEncoded: false) == "/home/u/.config/parley/session.json")
    }
}
