import Foundation
import Synchronization

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// A private ZooKeeper server for tests, from the binaries of Debian's `zookeeper` package:
/// `zkServer.sh start-foreground` on a `zoo.cfg` in a fresh folder `/tmp/zk-test-*`, listening on
/// a free port on 127.0.0.1. Self-contained (Foundation and libc only), so it can move to a shared
/// test-support library.
///
/// - `ZooKeeperServer.shared()`: one standalone server for the whole test run, started on first use;
///   tests keep apart by using their own paths.
/// - `ZooKeeperServer.startEnsemble(size:)`: an ensemble of its own (`server.N` lines, a `myid`
///   each), returned once every member serves (one leader, the rest followers).
/// - Tests that kill or stop a server make their own (`ZooKeeperServer()`, `start()`, `shutdown()`).
/// - Missing binaries make `start()` throw "install ZooKeeper: apt-get install -y zookeeper".
///   With `PARLEY_SKIP_ZOOKEEPER=1`, and only when `CI` is not `true`, `isEnabled` is `false`:
///   suites use `.enabled(if: ZooKeeperServer.isEnabled)` and are reported as skipped.
/// - The script execs `java`, so the process held is the JVM itself: `kill(signal:)` reaches it.
///   Its output goes to `server.log` in the folder (SLF4J falls back to no logging with Debian's jars).
/// - Cleanup: servers still running when the test process exits are killed by an `atexit` hook
///   and their folders removed. Should the process die without running it, the next `start()`
///   kills the JVM of every `/tmp/zk-test-*` whose owning process is gone and removes the folder.
public actor ZooKeeperServer {
    /// Whether tests that need ZooKeeper run: `false` only on a developer's machine that sets
    /// `PARLEY_SKIP_ZOOKEEPER=1`; under `CI=true` they always run.
    public static let isEnabled: Bool = {
        let environment = ProcessInfo.processInfo.environment
        return environment["PARLEY_SKIP_ZOOKEEPER"] != "1" || environment["CI"] == "true"
    }()

    /// Debian's start script.
    public static let script = "/usr/share/zookeeper/bin/zkServer.sh"

    /// The server shared by the whole test run, started on first use.
    public static func shared() async throws -> ZooKeeperServer {
        try await SharedZooKeeperServer.instance.server()
    }

    /// Ports of one ensemble member: clients, followers to the leader, leader election.
    public struct Ports: Sendable, Hashable {
        public var client: Int
        public var peer: Int
        public var election: Int
    }

    /// The folder holding `zoo.cfg`, the data, `myid` and `server.log`.
    public nonisolated let root: URL
    /// The `tickTime` in milliseconds: sessions may last 2 to 20 ticks.
    public nonisolated let tickTime: Int
    /// This server's ports.
    public nonisolated let ports: Ports
    /// The ensemble's members by id (empty for a standalone server) and this server's id.
    private let members: [Int: Ports]
    private let id: Int
    /// The running JVM and its exit status.
    private var process: (handle: Process, exit: AsyncStream<Int32>)?

    /// Describes a standalone server on free ports; nothing runs before `start()`.
    public init(tickTime: Int = 200) throws {
        try self.init(id: 0, members: [:], ports: Ports(client: TestProcesses.freePort(), peer: 0, election: 0), tickTime: tickTime)
    }

    private init(id: Int, members: [Int: Ports], ports: Ports, tickTime: Int) throws {
        self.root = URL(fileURLWithPath: "/tmp/zk-test-\(UUID().uuidString.lowercased())", isDirectory: true)
        self.id = id
        self.members = members
        self.ports = ports
        self.tickTime = tickTime
    }

    /// Describes `size` ensemble members on free ports and starts them; returns once all serve.
    public static func startEnsemble(size: Int = 3, tickTime: Int = 200) async throws -> [ZooKeeperServer] {
        var members: [Int: Ports] = [:]
        for id in 1...size {
            members[id] = Ports(client: try TestProcesses.freePort(), peer: try TestProcesses.freePort(), election: try TestProcesses.freePort())
        }
        let servers = try (1...size).map { try ZooKeeperServer(id: $0, members: members, ports: members[$0]!, tickTime: tickTime) }
        do {
            for server in servers { try await server.launch() }
            for server in servers { try await server.waitUntilServing() }
        } catch {
            for server in servers { await server.shutdown() }
            throw error
        }
        return servers
    }

    /// `127.0.0.1:PORT` of this server.
    public nonisolated var connectionString: String { "127.0.0.1:\(self.ports.client)" }

    /// The PID of the running JVM, if any.
    public var pid: pid_t? { self.process.map { $0.handle.processIdentifier } }

    /// Writes the configuration, starts the JVM and waits until the server serves clients.
    public func start() async throws {
        try await self.launch()
        try await self.waitUntilServing()
    }

    /// Sends `signal` to the JVM: `SIGKILL` to crash it (then it is gone), `SIGSTOP`/`SIGCONT` to
    /// freeze and thaw it.
    public func kill(signal: Int32 = SIGKILL) async {
        guard let process = self.process else { return }
        _ = posixKill(process.handle.processIdentifier, signal)
        if signal == SIGKILL {
            self.process = nil
            for await _ in process.exit {}
        }
    }

    /// Stops the JVM (SIGTERM, then SIGKILL after 5 s) and waits until it has exited.
    public func stop() async {
        guard let process = self.process else { return }
        self.process = nil
        let pid = process.handle.processIdentifier
        _ = posixKill(pid, SIGCONT)
        _ = posixKill(pid, SIGTERM)
        let killer = Task {
            try await Task.sleep(for: .seconds(5))
            _ = posixKill(pid, SIGKILL)
        }
        for await _ in process.exit {}
        killer.cancel()
    }

    /// Stops the server and removes its folder.
    public func shutdown() async {
        await self.stop()
        try? FileManager.default.removeItem(at: self.root)
        Self.forget(self.root.path)
    }

    /// Sends a four-letter command (`srvr`, `ruok`, `cons`, …) and returns the answer.
    public nonisolated func fourLetterWord(_ command: String) throws -> String {
        try Self.fourLetterWord(command, port: self.ports.client)
    }

    /// `leader`, `follower` or `standalone` while serving, `nil` otherwise.
    public nonisolated func mode() -> String? {
        guard let answer = try? self.fourLetterWord("srvr") else { return nil }
        for line in answer.split(separator: "\n") where line.hasPrefix("Mode: ") {
            return String(line.dropFirst("Mode: ".count))
        }
        return nil
    }

    // MARK: - Starting

    private func launch() async throws {
        guard self.process == nil else { return }
        guard FileManager.default.isExecutableFile(atPath: Self.script) else {
            throw ZooKeeperServerError("\(Self.script) not found: install ZooKeeper: apt-get install -y zookeeper")
        }
        Self.reapStrayServersOnce()
        let fileManager = FileManager.default
        let data = self.root.appendingPathComponent("data")
        try fileManager.createDirectory(at: data, withIntermediateDirectories: true)
        try "\(getpid())".write(to: self.root.appendingPathComponent("owner.pid"), atomically: true, encoding: .utf8)
        Self.remember(self.root.path)
        var config = [
            "tickTime=\(self.tickTime)",
            "dataDir=\(data.path)",
            "clientPort=\(self.ports.client)",
            "clientPortAddress=127.0.0.1",
            "admin.enableServer=false",
            "4lw.commands.whitelist=*",
            "maxClientCnxns=0",
        ]
        if !self.members.isEmpty {
            config += ["initLimit=20", "syncLimit=10", "standaloneEnabled=false", "cnxTimeout=500"]
            for (id, ports) in self.members.sorted(by: { $0.key < $1.key }) {
                config.append("server.\(id)=127.0.0.1:\(ports.peer):\(ports.election)")
            }
            try "\(self.id)\n".write(to: data.appendingPathComponent("myid"), atomically: true, encoding: .utf8)
        }
        let configPath = self.root.appendingPathComponent("zoo.cfg").path
        try (config.joined(separator: "\n") + "\n").write(toFile: configPath, atomically: true, encoding: .utf8)

        let logPath = self.root.appendingPathComponent("server.log").path
        _ = fileManager.createFile(atPath: logPath, contents: nil)
        let log = try FileHandle(forWritingTo: URL(fileURLWithPath: logPath))
        defer { try? log.close() }
        let process = Process()
        process.executableURL = URL(fileURLWithPath: Self.script)
        process.arguments = ["start-foreground", configPath]
        var environment = ProcessInfo.processInfo.environment
        environment["ZOO_LOG_DIR"] = self.root.path
        environment["ZOO_LOG4J_PROP"] = "WARN,CONSOLE"
        // Start faster and smaller: these servers live for seconds.
        environment["JVMFLAGS"] = "-XX:TieredStopAtLevel=1 -XX:+UseSerialGC -Xms32m -Xss512k -XX:-UsePerfData -Dzookeeper.root.logger=WARN,CONSOLE"
        process.environment = environment
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
        try "\(process.processIdentifier)".write(to: self.root.appendingPathComponent("server.pid"), atomically: true, encoding: .utf8)
        self.process = (process, exit)
    }

    /// Polls `srvr` until the server reports a mode, or fails when the JVM exits or 60 s pass.
    private func waitUntilServing() async throws {
        let clock = ContinuousClock()
        let deadline = clock.now + .seconds(60)
        while clock.now < deadline {
            guard let process = self.process, process.handle.isRunning else {
                let log = (try? String(contentsOf: self.root.appendingPathComponent("server.log"), encoding: .utf8)) ?? ""
                throw ZooKeeperServerError("ZooKeeper exited while starting:\n\(log.suffix(3000))")
            }
            if self.mode() != nil { return }
            try await Task.sleep(for: .milliseconds(50))
        }
        throw ZooKeeperServerError("ZooKeeper on port \(self.ports.client) did not serve within 60 s; see \(self.root.path)/server.log")
    }

    // MARK: - Sockets

    /// Connects to 127.0.0.1:`port`, sends `command`, and reads until the server closes (2 s at most).
    public static func fourLetterWord(_ command: String, port: Int) throws -> String {
        let descriptor = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard descriptor >= 0 else { throw ZooKeeperServerError("socket() failed: errno \(errno)") }
        defer { close(descriptor) }
        var timeout = timeval(tv_sec: 2, tv_usec: 0)
        setsockopt(descriptor, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
        setsockopt(descriptor, SOL_SOCKET, SO_SNDTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
        var address = TestProcesses.loopback(port: port)
        let connected = withUnsafePointer(to: &address) { pointer in
            pointer.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                connect(descriptor, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) == 0
            }
        }
        guard connected else { throw ZooKeeperServerError("cannot connect to port \(port): errno \(errno)") }
        let bytes = Array(command.utf8)
        guard send(descriptor, bytes, bytes.count, 0) == bytes.count else {
            throw ZooKeeperServerError("cannot send to port \(port): errno \(errno)")
        }
        var answer: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 4096)
        while true {
            let count = recv(descriptor, &chunk, chunk.count, 0)
            if count <= 0 { break }
            answer += chunk[0..<count]
        }
        return String(decoding: answer, as: UTF8.self)
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
        atexit { ZooKeeperServer.killAllAtExit() }
        let folders = (try? FileManager.default.contentsOfDirectory(atPath: "/tmp")) ?? []
        for folder in folders where folder.hasPrefix("zk-test-") {
            let root = "/tmp/\(folder)"
            if let owner = TestProcesses.readPID("\(root)/owner.pid"), TestProcesses.isAlive(owner) { continue }
            Self.killAndRemove(root)
        }
    }

    private static func killAllAtExit() {
        for root in Self.running.withLock({ $0 }) {
            Self.killAndRemove(root)
        }
    }

    /// Kills the folder's JVM (checking that the PID still runs this folder's configuration, not a
    /// recycled PID) and removes the folder. Synchronous: it runs in the exit hook.
    private static func killAndRemove(_ root: String) {
        if let pid = TestProcesses.readPID("\(root)/server.pid"), pid > 0,
            let commandLine = try? String(contentsOfFile: "/proc/\(pid)/cmdline", encoding: .utf8),
            commandLine.contains(root)
        {
            _ = posixKill(pid, SIGKILL)
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
private actor SharedZooKeeperServer {
    static let instance = SharedZooKeeperServer()
    private var starting: Task<ZooKeeperServer, any Error>?

    func server() async throws -> ZooKeeperServer {
        if let starting { return try await starting.value }
        let task = Task {
            let server = try ZooKeeperServer()
            try await server.start()
            return server
        }
        self.starting = task
        return try await task.value
    }
}

/// The test server could not be set up; the message says why and what to install.
public struct ZooKeeperServerError: Error, CustomStringConvertible {
    /// What went wrong.
    public let message: String

    public init(_ message: String) {
        self.message = message
    }

    public var description: String { self.message }
}

/// `kill(2)`, named apart from ``ZooKeeperServer/kill(signal:)``.
private func posixKill(_ pid: pid_t, _ signal: Int32) -> Int32 {
    kill(pid, signal)
}
