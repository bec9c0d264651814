import Foundation
import Synchronization

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// A private Redis server for tests, from the binary of Debian's `redis-server` package, in a
/// fresh folder `/tmp/parley-redis-*`, on a free port on 127.0.0.1, with a random password and
/// no persistence: `redis-server --port PORT --bind 127.0.0.1 --save '' --appendonly no` and
/// `requirepass` (from a config file, so the password does not show in `ps`).
///
/// - `RedisServer.shared()` is one server for the whole test run, started on first use; tests
///   keep apart by key prefix or database index. Tests that kill the server start their own.
/// - A missing binary makes `start()` throw "install Redis: apt-get install -y redis-server".
///   With `PARLEY_SKIP_REDIS=1`, and only when `CI` is not `true`, `isEnabled` is `false`:
///   suites use `.enabled(if: RedisServer.isEnabled)` and are reported as skipped.
/// - Cleanup: servers still running when the process exits are killed by an `atexit` hook and
///   their folders removed. Should the process die without running it, the next `start()` kills
///   and removes every `/tmp/parley-redis-*` whose owning process is gone.
public actor RedisServer {
    /// Whether tests that need Redis run: `false` only on a developer's machine that sets
    /// `PARLEY_SKIP_REDIS=1`; under `CI=true` they always run.
    public static let isEnabled: Bool = {
        let environment = ProcessInfo.processInfo.environment
        return environment["PARLEY_SKIP_REDIS"] != "1" || environment["CI"] == "true"
    }()

    /// The server shared by the whole test run, started on first use.
    public static func shared() async throws -> RedisServer {
        try await SharedRedisServer.instance.server()
    }

    /// The folder holding the config, the pid file and the log.
    public nonisolated let root: URL
    /// The password clients must give (`requirepass`).
    public nonisolated let password: String
    /// The TCP port, chosen on first start and kept across restarts.
    public private(set) var port = 0
    /// The running `redis-server`, and its exit status when it ends.
    private var process: (handle: Process, exit: AsyncStream<Int32>)?

    /// Describes a server; nothing runs before `start()`.
    public init() {
        let id = UUID().uuidString.lowercased()
        self.root = URL(fileURLWithPath: "/tmp/parley-redis-\(id)", isDirectory: true)
        self.password = "test-\(id.prefix(8))"
    }

    private nonisolated var logPath: String { self.root.appendingPathComponent("redis.log").path }
    private nonisolated var pidPath: String { self.root.appendingPathComponent("redis.pid").path }

    /// Starts the server (on the port of the previous start, if any) and waits until `PING` answers.
    public func start() async throws {
        guard self.process == nil else { return }
        let binary = try Self.binary()
        if !FileManager.default.fileExists(atPath: self.root.path) {
            Self.reapStrayServersOnce()
            try FileManager.default.createDirectory(at: self.root, withIntermediateDirectories: true)
            try "\(getpid())".write(to: self.root.appendingPathComponent("owner.pid"), atomically: true, encoding: .utf8)
            try "requirepass \(self.password)\n".write(to: self.root.appendingPathComponent("redis.conf"), atomically: true, encoding: .utf8)
            Self.running.withLock { _ = $0.insert(self.root.path) }
        }
        let keepPort = self.port != 0
        for attempt in 1...20 {
            if !keepPort { self.port = try TestProcesses.freePort() }
            do {
                try await self.launch(binary: binary)
                return
            } catch let error as RedisServerError where error.portInUse && attempt < 20 {
                // Another process took the port; after a restart the old socket may linger briefly.
                try await Task.sleep(for: .milliseconds(100))
            }
        }
    }

    /// Kills the server with SIGKILL, as a crash would, and waits until it has exited.
    public func kill() async {
        guard let process = self.process else { return }
        self.process = nil
        Self.signal(process.handle.processIdentifier, SIGKILL)
        for await _ in process.exit {}
    }

    /// Kills the server and removes its folder.
    public func shutdown() async {
        await self.kill()
        try? FileManager.default.removeItem(at: self.root)
        Self.running.withLock { _ = $0.remove(self.root.path) }
    }

    /// Starts `redis-server` on `port` and waits until it answers `PING`, or exits.
    private func launch(binary: String) async throws {
        _ = FileManager.default.createFile(atPath: self.logPath, contents: nil)
        let log = try FileHandle(forWritingTo: URL(fileURLWithPath: self.logPath))
        defer { try? log.close() }
        let process = Process()
        process.executableURL = URL(fileURLWithPath: binary)
        process.arguments = [
            self.root.appendingPathComponent("redis.conf").path,
            "--port", "\(self.port)", "--bind", "127.0.0.1", "--save", "", "--appendonly", "no",
            "--daemonize", "no", "--dir", self.root.path, "--pidfile", self.pidPath,
        ]
        process.currentDirectoryURL = self.root
        process.standardInput = FileHandle.nullDevice
        process.standardOutput = log
        process.standardError = log
        let (exit, continuation) = AsyncStream.makeStream(of: Int32.self)
        process.terminationHandler = { process in
            continuation.yield(process.terminationStatus)
            continuation.finish()
        }
        try process.run()
        self.process = (process, exit)

        for _ in 0..<400 {
            guard process.isRunning else {
                self.process = nil
                let output = (try? String(contentsOfFile: self.logPath, encoding: .utf8)) ?? ""
                throw RedisServerError(
                    "redis-server exited while starting:\n\(output.suffix(2000))",
                    portInUse: output.contains("Address already in use")
                )
            }
            if Self.ping(port: self.port, password: self.password) {
                return
            }
            try await Task.sleep(for: .milliseconds(25))
        }
        await self.kill()
        throw RedisServerError("redis-server did not answer PING within 10 s; see \(self.logPath)")
    }

    /// Finds `redis-server` in the usual places and on `PATH`.
    public static func binary() throws -> String {
        let path = ProcessInfo.processInfo.environment["PATH"] ?? ""
        let candidates = ["/usr/bin", "/usr/local/bin", "/usr/sbin"] + path.split(separator: ":").map(String.init)
        for directory in candidates where FileManager.default.isExecutableFile(atPath: "\(directory)/redis-server") {
            return "\(directory)/redis-server"
        }
        throw RedisServerError("redis-server not found: install Redis: apt-get install -y redis-server")
    }

    // MARK: - Sockets

    /// Whether the server answers `AUTH` and `PING` within a second (blocking; tests only).
    private static func ping(port: Int, password: String) -> Bool {
        let descriptor = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard descriptor >= 0 else { return false }
        defer { close(descriptor) }
        var timeout = timeval(tv_sec: 1, tv_usec: 0)
        setsockopt(descriptor, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
        var address = TestProcesses.loopback(port: port)
        let connected = withUnsafePointer(to: &address) { pointer in
            pointer.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                connect(descriptor, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) == 0
            }
        }
        guard connected else { return false }
        let request = Array("AUTH \(password)\r\nPING\r\n".utf8)
        guard send(descriptor, request, request.count, 0) == request.count else { return false }
        var received: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 256)
        while received.count < 12 {
            let count = recv(descriptor, &chunk, chunk.count, 0)
            guard count > 0 else { return false }
            received += chunk[0..<count]
        }
        return String(decoding: received, as: UTF8.self).hasPrefix("+OK\r\n+PONG\r\n")
    }

    // MARK: - Cleanup

    /// The folders of servers this process started and has not removed.
    private static let running = Mutex<Set<String>>([])
    /// Whether the exit hook is installed and stray servers were reaped.
    private static let preparedCleanup = Mutex(false)

    /// Once per process: installs the exit hook and removes the servers of test runs that died.
    private static func reapStrayServersOnce() {
        let first = Self.preparedCleanup.withLock { done in
            defer { done = true }
            return !done
        }
        guard first else { return }
        atexit { RedisServer.killAllAtExit() }
        let folders = (try? FileManager.default.contentsOfDirectory(atPath: "/tmp")) ?? []
        for folder in folders where folder.hasPrefix("parley-redis-") {
            let root = "/tmp/\(folder)"
            if let owner = TestProcesses.readPID("\(root)/owner.pid"), TestProcesses.isAlive(owner) { continue }
            Self.killAndRemove(root)
        }
    }

    /// `kill(2)`, named apart from the actor's `kill()`.
    @discardableResult
    private static func signal(_ pid: pid_t, _ signal: Int32) -> Int32 {
        #if canImport(Glibc)
        Glibc.kill(pid, signal)
        #else
        Darwin.kill(pid, signal)
        #endif
    }

    /// Kills every server of this process still running and removes its folder.
    private static func killAllAtExit() {
        for root in Self.running.withLock({ $0 }) {
            Self.killAndRemove(root)
        }
    }

    /// Kills the `redis-server` whose pid the folder records (checking that the pid is still a
    /// redis-server), and removes the folder. Synchronous: it runs in the exit hook.
    private static func killAndRemove(_ root: String) {
        if let pid = TestProcesses.readPID("\(root)/redis.pid"), pid > 0,
            let command = try? String(contentsOfFile: "/proc/\(pid)/cmdline", encoding: .utf8),
            command.contains("redis-server")
        {
            Self.signal(pid, SIGKILL)
            var waited = 0
            while TestProcesses.isAlive(pid) && waited < 200 {
                usleep(10_000)
                waited += 1
            }
        }
        try? FileManager.default.removeItem(atPath: root)
    }
}

/// Starts the shared server once and hands it to every test.
private actor SharedRedisServer {
    static let instance = SharedRedisServer()
    private var starting: Task<RedisServer, any Error>?

    func server() async throws -> RedisServer {
        if let starting { return try await starting.value }
        let task = Task {
            let server = RedisServer()
            try await server.start()
            return server
        }
        self.starting = task
        return try await task.value
    }
}

/// The test server could not be set up; the message says why and what to install.
public struct RedisServerError: Error, CustomStringConvertible {
    /// What went wrong.
    let message: String
    /// Whether the chosen port was taken meanwhile (the start is retried).
    let portInUse: Bool

    init(_ message: String, portInUse: Bool = false) {
        self.message = message
        self.portInUse = portInUse
    }

    public var description: String { self.message }
}
