#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import Foundation
import ParleyCore
import SMTPClient
import Synchronization

/// A ``Mailer`` that writes each message as an `.eml` file into a folder: the `parley serve` default,
/// so that someone running Parley on their own machine can read the codes.
///
/// - The folder is created with mode 0700 if missing (with its parents); each file has mode 0600,
///   because a code in it is a credential.
/// - Files are named `YYYYMMDDTHHMMSS.ffffffZ-NNNNNN-RRRRRRRR.eml` (UTC time to the microsecond, a
///   sequence number of this mailer, 8 random hex digits), so that names sort by time.
/// - The content is ``Email/rendered()``, as sent over SMTP; any mail program opens it.
/// - Each file is written under a hidden temporary name and renamed, so a reader never sees half a
///   message.
public final class OutboxMailer: Mailer {
    /// The folder the messages are written to; what `parley serve` prints at start.
    public let folder: URL
    private let now: @Sendable () -> Date
    private let sequence = Mutex<UInt64>(0)

    /// Creates the mailer and its folder.
    ///
    /// - Parameters:
    ///   - folder: Where to write; created with mode 0700 if it does not exist.
    ///   - now: The wall clock for file names; injected by tests.
    /// - Throws: `ParleyError(.unavailable, …)` if the folder cannot be created or is not a folder.
    public init(folder: URL, now: @escaping @Sendable () -> Date = { Date() }) throws {
        self.folder = folder.standardizedFileURL
        self.now = now
        try Self.makeFolder(self.folder)
    }

    /// Writes `message` into the folder.
    ///
    /// - Throws: `ParleyError(.unavailable, …)` naming the file and the system's reason.
    public func send(_ message: Email) async throws {
        let number = self.sequence.withLock { value -> UInt64 in
            value += 1
            return value
        }
        let name = "\(Self.timestamp(self.now()))-\(Self.pad(number, 6))-\(String(UInt32.random(in: 0...UInt32.max), radix: 16).leftPadded(8)).eml"
        let path = self.folder.appendingPathComponent(name).path
        let temporary = self.folder.appendingPathComponent(".\(name).tmp").path
        do {
            try Self.write(Array(message.rendered().utf8), to: temporary)
            guard rename(temporary, path) == 0 else {
                throw Self.systemError("cannot rename \(temporary) to \(path)")
            }
        } catch {
            unlink(temporary)
            throw error
        }
    }

    // MARK: - Files

    private static func makeFolder(_ folder: URL) throws {
        var isDirectory: ObjCBool = false
        if FileManager.default.fileExists(atPath: folder.path, isDirectory: &isDirectory) {
            guard isDirectory.boolValue else {
                throw ParleyError(.unavailable, "The outbox \(folder.path) exists and is not a folder.")
            }
            return
        }
        do {
            try FileManager.default.createDirectory(
                at: folder, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700]
            )
            // The umask may have removed bits, never added them; make the mode exact anyway.
            guard chmod(folder.path, 0o700) == 0 else {
                throw Self.systemError("cannot set the mode of \(folder.path)")
            }
        } catch let error as ParleyError {
            throw error
        } catch {
            throw ParleyError(.unavailable, "Cannot create the outbox \(folder.path): \(error.localizedDescription)")
        }
    }

    /// Writes `bytes` to a new file of mode 0600 (refusing an existing file or a symbolic link).
    private static func write(_ bytes: [UInt8], to path: String) throws {
        let descriptor = open(path, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0o600)
        guard descriptor >= 0 else {
            throw Self.systemError("cannot create \(path)")
        }
        defer { close(descriptor) }
        var offset = 0
        while offset < bytes.count {
            let written = bytes.withUnsafeBytes { buffer in
                Self.systemWrite(descriptor, buffer.baseAddress! + offset, buffer.count - offset)
            }
            if written < 0 {
                if errno == EINTR { continue }
                throw Self.systemError("cannot write \(path)")
            }
            offset += written
        }
        guard fsync(descriptor) == 0 else {
            throw Self.systemError("cannot write \(path)")
        }
    }

    private static func systemWrite(_ descriptor: Int32, _ bytes: UnsafeRawPointer, _ count: Int) -> Int {
        #if canImport(Glibc)
        return Glibc.write(descriptor, bytes, count)
        #else
        return Darwin.write(descriptor, bytes, count)
        #endif
    }

    private static func systemError(_ what: String) -> ParleyError {
        ParleyError(.unavailable, "The outbox \(what): \(String(cString: strerror(errno))).")
    }

    // MARK: - Names

    /// `20261128T140512.123456Z`.
    static func timestamp(_ date: Date) -> String {
        let microseconds = Int64((date.timeIntervalSince1970 * 1_000_000).rounded(.down))
        var seconds = time_t(microseconds / 1_000_000)
        var parts = tm()
        gmtime_r(&seconds, &parts)
        return Self.pad(UInt64(parts.tm_year + 1900), 4) + Self.pad(UInt64(parts.tm_mon + 1), 2) + Self.pad(UInt64(parts.tm_mday), 2)
            + "T" + Self.pad(UInt64(parts.tm_hour), 2) + Self.pad(UInt64(parts.tm_min), 2) + Self.pad(UInt64(parts.tm_sec), 2)
            + "." + Self.pad(UInt64(microseconds % 1_000_000), 6) + "Z"
    }

    private static func pad(_ value: UInt64, _ width: Int) -> String {
        String(value).leftPadded(width)
    }
}

extension String {
    /// The string with leading zeros up to `width` characters.
    fileprivate func leftPadded(_ width: Int) -> String {
        String(repeating: "0", count: max(0, width - self.count)) + self
    }
}
