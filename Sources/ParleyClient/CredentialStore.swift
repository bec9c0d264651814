#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif
import Foundation
import ParleyCore

/// The session the CLI keeps between runs.
public struct StoredSession: Sendable, Equatable, Codable {
    /// The gateway that issued the token, normalized.
    public var gateway: String
    /// The username the token belongs to.
    public var username: String
    /// The bearer token.
    public var token: String

    /// Creates the value.
    public init(gateway: String, username: String, token: String) {
        self.gateway = gateway
        self.username = username
        self.token = token
    }
}

/// Keeps the CLI's session in `CONFIG/parley/session.json`, where CONFIG is
/// `$XDG_CONFIG_HOME` or `~/.config`.
///
/// The folder is made with mode 0700 and the file is written with mode 0600 from its
/// creation (a temporary file opened `O_CREAT|O_EXCL` with 0600, then renamed over the
/// old one), so the token is never readable by others, not even for an instant.
public struct CredentialStore: Sendable {
    /// The folder holding the file: `CONFIG/parley`.
    public let directory: URL
    /// The session file: `CONFIG/parley/session.json`.
    public var file: URL { self.directory.appending(path: "session.json", directoryHint: .notDirectory) }

    /// A store under `configRoot` (the file is `configRoot/parley/session.json`).
    public init(configRoot: URL) {
        self.directory = configRoot.appending(path: "parley", directoryHint: .isDirectory)
    }

    /// The store at the standard place: `$XDG_CONFIG_HOME` when it is an absolute path,
    /// else `$HOME/.config`.
    public static func standard(environment: [String: String] = ProcessInfo.processInfo.environment) -> CredentialStore {
        if let xdg = environment["XDG_CONFIG_HOME"], xdg.hasPrefix("/") {
            return CredentialStore(configRoot: URL(filePath: xdg, directoryHint: .isDirectory))
        }
        let home: URL
        if let path = environment["HOME"], path.hasPrefix("/") {
            home = URL(filePath: path, directoryHint: .isDirectory)
        } else {
            home = FileManager.default.homeDirectoryForCurrentUser
        }
        return CredentialStore(configRoot: home.appending(path: ".config", directoryHint: .isDirectory))
    }

    /// Writes `session`, replacing any saved one; the file has mode 0600 throughout.
    public func save(_ session: StoredSession) throws(ParleyError) {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
        let data: Data
        do { data = try encoder.encode(session) } catch {
            throw ParleyError(.internal, "cannot encode the session: \(error)")
        }
        try self.makeDirectory()
        let finalPath = self.file.path(percentEncoded: false)
        let temporaryPath = self.directory.appending(path: ".session.json.\(getpid()).\(UUID().uuidString).tmp").path(percentEncoded: false)
        let descriptor = open(temporaryPath, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, 0o600)
        guard descriptor >= 0 else { throw Self.failure("cannot create", temporaryPath) }
        var failure: ParleyError?
        if fchmod(descriptor, 0o600) != 0 { failure = Self.failure("cannot set the mode of", temporaryPath) }
        if failure == nil {
            failure = data.withUnsafeBytes { buffer -> ParleyError? in
                var offset = 0
                while offset < buffer.count {
                    let written = write(descriptor, buffer.baseAddress! + offset, buffer.count - offset)
                    if written < 0 {
                        if errno == EINTR { continue }
                        return Self.failure("cannot write", temporaryPath)
                    }
                    offset += written
                }
                return nil
            }
        }
        if failure == nil, fsync(descriptor) != 0 { failure = Self.failure("cannot flush", temporaryPath) }
        if close(descriptor) != 0, failure == nil { failure = Self.failure("cannot close", temporaryPath) }
        if failure == nil, rename(temporaryPath, finalPath) != 0 { failure = Self.failure("cannot replace", finalPath) }
        if let failure {
            unlink(temporaryPath)
            throw failure
        }
    }

    /// The saved session, or nil when there is none.
    ///
    /// Throws `.invalidInput` when the file exists but is not a session (delete it with
    /// `delete()`).
    public func load() throws(ParleyError) -> StoredSession? {
        let path = self.file.path(percentEncoded: false)
        guard let data = FileManager.default.contents(atPath: path) else {
            if FileManager.default.fileExists(atPath: path) { throw Self.failure("cannot read", path) }
            return nil
        }
        do {
            return try JSONDecoder().decode(StoredSession.self, from: data)
        } catch {
            throw ParleyError(.invalidInput, "the saved session in \(path) is damaged; remove it with `parley account logout`")
        }
    }

    /// Removes the saved session; returns whether there was one.
    @discardableResult
    public func delete() throws(ParleyError) -> Bool {
        let path = self.file.path(percentEncoded: false)
        if unlink(path) == 0 { return true }
        if errno == ENOENT { return false }
        throw Self.failure("cannot remove", path)
    }

    /// Creates the folder (and missing parents) with mode 0700, and tightens an existing
    /// `parley` folder to 0700.
    private func makeDirectory() throws(ParleyError) {
        let path = self.directory.path(percentEncoded: false)
        let parent = self.directory.deletingLastPathComponent().path(percentEncoded: false)
        do {
            try FileManager.default.createDirectory(
                atPath: parent, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700])
        } catch {
            throw ParleyError(.internal, "cannot create the folder \(parent): \(error.localizedDescription)")
        }
        if mkdir(path, 0o700) != 0, errno != EEXIST { throw Self.failure("cannot create the folder", path) }
        var status = stat()
        guard lstat(path, &status) == 0 else { throw Self.failure("cannot inspect", path) }
        guard (status.st_mode & S_IFMT) == S_IFDIR else {
            throw ParleyError(.internal, "\(path) is not a folder; move it away to keep a session")
        }
        if (status.st_mode & 0o777) != 0o700, chmod(path, 0o700) != 0 {
            throw Self.failure("cannot set the mode of", path)
        }
    }

    /// A `ParleyError` for a failed system call, with `errno`'s text.
    private static func failure(_ what: String, _ path: String) -> ParleyError {
        ParleyError(.internal, "\(what) \(path): \(String(cString: strerror(errno)))")
    }
}
