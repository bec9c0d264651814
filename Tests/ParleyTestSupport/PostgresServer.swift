import Foundation
import Synchronization

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// A private PostgreSQL server for tests, from the binaries of Debian's `postgresql` package:
/// `initdb` in a fresh folder `/tmp/parley-pg-*`, `postgres` on a free port on 127.0.0.1.
///
/// Lives in the `ParleyTestSupport` library, which every test target may depend on.
///
/// - `PostgresServer.shared()` is one server for the whole test run, started on first use;
///   each test takes its own database from it with `createDatabase()`.
/// - Tests that stop the server make their own (`PostgresServer()`, `start()`, `shutdown()`).
/// - Missing binaries make `start()` throw "install PostgreSQL: apt-get install -y postgresql".
///   With `PARLEY_SKIP_POSTGRES=1`, and only when `CI` is not `true`, `isEnabled` is `false`:
///   suites use `.enabled(if: PostgresServer.isEnabled)` and are reported as skipped.
/// - Cleanup: servers still running when the process exits are stopped by an `atexit` hook
///   and their folders removed. Should the process die without running it, the next
///   `start()` stops and removes every `/tmp/parley-pg-*` whose owning process is gone.
/// - Runs as root through `runuser -u postgres` (initdb refuses root); as another user, directly.
public actor PostgresServer {
    /// Whether tests that need PostgreSQL run: `false` only on a developer's machine that
    /// sets `PARLEY_SKIP_POSTGRES=1`; under `CI=true` they always run.
    public static let isEnabled: Bool = {
        let environment = ProcessInfo.processInfo.environment
        return environment["PARLEY_SKIP_POSTGRES"] != "1" || environment["CI"] == "true"
    }()

    /// The role every server has, with trust authentication on 127.0.0.1.
    public static let user = "parley"

    /// The server shared by the whole test run, started on first use.
    public static func shared() async throws -> PostgresServer {
        try await SharedPostgresServer.instance.server()
    }

    /// The folder holding the data, the socket, the log and any certificate.
    public let root: URL
    /// Extra `-c name=value` settings.
    private let settings: [String]
    /// Whether the server speaks TLS with a self-signed certificate for `localhost` and 127.0.0.1.
    public let usesTLS: Bool
    /// The TCP port, chosen on first start and kept across restarts.
    public private(set) var port = 0
    /// The running `postgres` (through `runuser`), and its exit status when it ends.
    private var process: (handle: Process, exit: AsyncStream<Int32>)?

    /// Describes a server; nothing runs before `start()`.
    public init(settings: [String] = [], tls: Bool = false) {
        self.root = URL(fileURLWithPath: "/tmp/parley-pg-\(UUID().uuidString.lowercased())", isDirectory: true)
        self.settings = settings
        self.usesTLS = tls
    }

    /// The PEM certificate a TLS server presents; also its own authority (`sslrootcert`).
    public nonisolated var certificatePath: String { self.root.appendingPathComponent("server.crt").path }

    private nonisolated var dataDirectory: String { self.root.appendingPathComponent("data").path }
    private nonisolated var socketDirectory: String { self.root.appendingPathComponent("sock").path }
    private nonisolated var logPath: String { self.root.appendingPathComponent("server.log").path }

    /// A `postgres://` URL for `database` as the trusted user, with extra `options` (`a=b&c=d`).
    public func url(database: String, host: String = "127.0.0.1", options: String = "sslmode=disable") -> String {
        "postgres://\(Self.user)@\(host):\(self.port)/\(database)" + (options.isEmpty ? "" : "?\(options)")
    }

    /// Creates the folder and the cluster, then starts the server and waits until it accepts connections.
    public func start() async throws {
        guard self.process == nil else { return }
        let bin = try Self.binaryDirectory()
        if !FileManager.default.fileExists(atPath: self.dataDirectory) {
            try await self.initialise(bin: bin)
        }
        var attempts = 0
        while true {
            if self.port == 0 || attempts > 0 { self.port = try TestProcesses.freePort() }
            attempts += 1
            do {
                try await self.launch(bin: bin)
                return
            } catch let error as PostgresServerError where error.portInUse && attempts < 3 {
                continue
            }
        }
    }

    /// Stops the server (`pg_ctl stop -m fast`: sessions are ended) and waits until it has exited.
    public func stop() async throws {
        guard let process = self.process else { return }
        self.process = nil
        let bin = try Self.binaryDirectory()
        try await Self.run(
            bin.appendingPathComponent("pg_ctl").path,
            ["-D", self.dataDirectory, "-m", "fast", "-w", "stop"],
            asPostgres: true,
            in: self.root
        )
        for await _ in process.exit {}
    }

    /// Stops the server and starts it again on the same port with the same data.
    public func restart() async throws {
        try await self.stop()
        try await self.launch(bin: try Self.binaryDirectory())
    }

    /// Stops the server and removes its folder (signalling the postmaster directly should
    /// `pg_ctl` have failed).
    public func shutdown() async {
        try? await self.stop()
        Self.stopAndRemove(self.root.path)
        Self.forget(self.root.path)
    }

    /// Creates an empty database with a unique name and returns the name.
    public func createDatabase() async throws -> String {
        let name = "test_" + UUID().uuidString.lowercased().replacingOccurrences(of: "-", with: "")
        try await self.psql("CREATE DATABASE \(name)", database: "postgres")
        return name
    }

    /// Runs SQL through `psql` on `database` and returns its unaligned, tuples-only output.
    @discardableResult
    public func psql(_ sql: String, database: String) async throws -> String {
        let bin = try Self.binaryDirectory()
        return try await Self.run(
            bin.appendingPathComponent("psql").path,
            ["-h", "127.0.0.1", "-p", "\(self.port)", "-U", Self.user, "-d", database, "-X", "-q", "-A", "-t",
             "-v", "ON_ERROR_STOP=1", "-c", sql],
            asPostgres: false,
            in: self.root
        )
    }

    // MARK: - Starting

    /// Makes the folder (owned by postgres, recorded for cleanup), runs `initdb` and, for TLS, `openssl`.
    private func initialise(bin: URL) async throws {
        Self.reapStrayServersOnce()
        let fileManager = FileManager.default
        try fileManager.createDirectory(at: self.root, withIntermediateDirectories: true)
        try "\(getpid())".write(to: self.root.appendingPathComponent("owner.pid"), atomically: true, encoding: .utf8)
        Self.remember(self.root.path)
        try fileManager.createDirectory(atPath: self.socketDirectory, withIntermediateDirectories: true)
        try Self.giveToPostgres(self.root.path)
        try Self.giveToPostgres(self.socketDirectory)
        try await Self.run(
            bin.appendingPathComponent("initdb").path,
            ["-D", self.dataDirectory, "-U", Self.user, "--auth=trust", "--no-sync", "-E", "UTF8", "--locale=C"],
            asPostgres: true,
            in: self.root
        )
        if self.usesTLS {
            let key = self.root.appendingPathComponent("server.key").path
            try await Self.run(
                "/usr/bin/openssl",
                ["req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2", "-subj", "/CN=localhost",
                 "-addext", "subjectAltName=DNS:localhost,IP:127.0.0.1", "-keyout", key, "-out", self.certificatePath],
                asPostgres: false,
                in: self.root
            )
            try Self.giveToPostgres(key, mode: 0o600)
            try Self.giveToPostgres(self.certificatePath, mode: 0o644)
        }
    }

    /// Starts `postgres` on `port` and waits until `pg_isready` says yes, or the server exits.
    private func launch(bin: URL) async throws {
        _ = FileManager.default.createFile(atPath: self.logPath, contents: nil)
        let log = try FileHandle(forWritingTo: URL(fileURLWithPath: self.logPath))
        var arguments = [
            "-D", self.dataDirectory, "-k", self.socketDirectory, "-p", "\(self.port)",
            "-c", "listen_addresses=127.0.0.1", "-c", "fsync=off", "-c", "max_connections=300",
        ]
        if self.usesTLS {
            arguments += [
                "-c", "ssl=on", "-c", "ssl_cert_file=\(self.certificatePath)",
                "-c", "ssl_key_file=\(self.root.appendingPathComponent("server.key").path)",
            ]
        }
        for setting in self.settings { arguments += ["-c", setting] }
        let (handle, exit) = try Self.spawn(bin.appendingPathComponent("postgres").path, arguments, asPostgres: true,
                                            in: self.root, output: log)
        try? log.close()
        self.process = (handle, exit)

        let isReady = bin.appendingPathComponent("pg_isready").path
        for _ in 0..<600 {
            guard handle.isRunning else {
                self.process = nil
                let output = (try? String(contentsOfFile: self.logPath, encoding: .utf8)) ?? ""
                throw PostgresServerError(
                    "postgres exited while starting:\n\(output.suffix(2000))",
                    portInUse: output.contains("could not bind") || output.contains("already in use")
                )
            }
            let arguments = ["-q", "-h", "127.0.0.1", "-p", "\(self.port)", "-U", Self.user]
            if (try? await Self.run(isReady, arguments, asPostgres: false, in: self.root)) != nil {
                return
            }
            try await Task.sleep(for: .milliseconds(50))
        }
        throw PostgresServerError("postgres did not accept connections within 30 s; see \(self.logPath)")
    }

    // MARK: - Processes

    /// Finds `/usr/lib/postgresql/VERSION/bin` with `initdb`, preferring 15, else the newest.
    public static func binaryDirectory() throws -> URL {
        let base = "/usr/lib/postgresql"
        let versions = ((try? FileManager.default.contentsOfDirectory(atPath: base)) ?? [])
            .filter { FileManager.default.isExecutableFile(atPath: "\(base)/\($0)/bin/initdb") }
            .sorted { (Int($0) ?? 0) > (Int($1) ?? 0) }
        guard let version = versions.contains("15") ? "15" : versions.first else {
            throw PostgresServerError("no \(base)/*/bin/initdb: install PostgreSQL: apt-get install -y postgresql")
        }
        return URL(fileURLWithPath: "\(base)/\(version)/bin", isDirectory: true)
    }

    /// Runs a command in `directory` to its end; throws with its output unless it exits with 0.
    /// The output goes through a file in `directory`, removed afterwards.
    @discardableResult
    static func run(_ executable: String, _ arguments: [String], asPostgres: Bool, in directory: URL) async throws -> String {
        let logURL = directory.appendingPathComponent("command-\(UUID().uuidString).log")
        _ = FileManager.default.createFile(atPath: logURL.path, contents: nil)
        defer { try? FileManager.default.removeItem(at: logURL) }
        let log = try FileHandle(forWritingTo: logURL)
        let (_, exit) = try Self.spawn(executable, arguments, asPostgres: asPostgres, in: directory, output: log)
        try? log.close()
        var status: Int32 = -1
        for await code in exit { status = code }
        let output = (try? String(contentsOf: logURL, encoding: .utf8)) ?? ""
        guard status == 0 else {
            let name = URL(fileURLWithPath: executable).lastPathComponent
            throw PostgresServerError("\(name) \(arguments.joined(separator: " ")) failed (\(status)):\n\(output.suffix(2000))")
        }
        return output
    }

    /// Starts a process (as postgres through runuser when root) writing to `output`.
    private static func spawn(
        _ executable: String, _ arguments: [String], asPostgres: Bool, in directory: URL, output: FileHandle
    ) throws -> (Process, AsyncStream<Int32>) {
        let process = Process()
        if asPostgres && geteuid() == 0 {
            process.executableURL = URL(fileURLWithPath: "/usr/sbin/runuser")
            process.arguments = ["-u", "postgres", "--", executable] + arguments
        } else {
            process.executableURL = URL(fileURLWithPath: executable)
            process.arguments = arguments
        }
        process.currentDirectoryURL = directory
        process.standardInput = FileHandle.nullDevice
        process.standardOutput = output
        process.standardError = output
        let (exit, continuation) = AsyncStream.makeStream(of: Int32.self)
        process.terminationHandler = { process in
            continuation.yield(process.terminationStatus)
            continuation.finish()
        }
        try process.run()
        return (process, exit)
    }

    /// Makes `path` owned by the postgres user (when running as root) with `mode`.
    private static func giveToPostgres(_ path: String, mode: mode_t = 0o700) throws {
        if geteuid() == 0 {
            guard let user = getpwnam("postgres") else {
                throw PostgresServerError("there is no postgres user: install PostgreSQL: apt-get install -y postgresql")
            }
            guard chown(path, user.pointee.pw_uid, user.pointee.pw_gid) == 0 else {
                throw PostgresServerError("chown \(path) failed: errno \(errno)")
            }
        }
        guard chmod(path, mode) == 0 else { throw PostgresServerError("chmod \(path) failed: errno \(errno)") }
    }

    // MARK: - Cleanup

    /// The folders of servers this process started and has not removed.
    private static let running = Mutex<Set<String>>([])
    /// Whether the exit hook is installed and stray servers were reaped.
    private static let preparedCleanup = Mutex(false)

    private static func remember(_ root: String) { _ = Self.running.withLock { $0.insert(root) } }
    private static func forget(_ root: String) { _ = Self.running.withLock { $0.remove(root) } }

    /// Once per process: installs the exit hook and removes the servers of test runs that died.
    private static func reapStrayServersOnce() {
        let first = Self.preparedCleanup.withLock { done in
            defer { done = true }
            return !done
        }
        guard first else { return }
        atexit { PostgresServer.stopAllAtExit() }
        let folders = (try? FileManager.default.contentsOfDirectory(atPath: "/tmp")) ?? []
        for folder in folders where folder.hasPrefix("parley-pg-") {
            let root = "/tmp/\(folder)"
            guard let owner = TestProcesses.readPID("\(root)/owner.pid"), !TestProcesses.isAlive(owner) else { continue }
            Self.stopAndRemove(root)
        }
    }

    /// Stops every server of this process still running and removes its folder.
    private static func stopAllAtExit() {
        for root in Self.running.withLock({ $0 }) {
            Self.stopAndRemove(root)
        }
    }

    /// Sends the postmaster of the folder a fast shutdown (SIGINT), waits up to 5 s (then
    /// SIGKILL), and removes the folder. Synchronous: it runs in the exit hook.
    private static func stopAndRemove(_ root: String) {
        if let pid = TestProcesses.readPID("\(root)/data/postmaster.pid"), pid > 0 {
            kill(pid, SIGINT)
            var waited = 0
            while TestProcesses.isAlive(pid) && waited < 500 {
                usleep(10_000)
                waited += 1
            }
            if TestProcesses.isAlive(pid) { kill(pid, SIGKILL) }
        }
        try? FileManager.default.removeItem(atPath: root)
    }
}

/// Starts the shared server once and hands it to every test.
private actor SharedPostgresServer {
    static let instance = SharedPostgresServer()
    private var starting: Task<PostgresServer, any Error>?

    func server() async throws -> PostgresServer {
        if let starting { return try await starting.value }
        let task = Task {
            let server = PostgresServer()
            try await server.start()
            return server
        }
        self.starting = task
        return try await task.value
    }
}

/// The test server could not be set up; the message says why and what to install.
public struct PostgresServerError: Error, CustomStringConvertible {
    /// What went wrong.
    public let message: String
    /// Whether the chosen port was taken meanwhile (the start is retried on another).
    let portInUse: Bool

    init(_ message: String, portInUse: Bool = false) {
        self.message = message
        self.portInUse = portInUse
    }

    public var description: String { self.message }
}
