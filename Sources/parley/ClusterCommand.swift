import ArgumentParser
import Foundation
import JSONRPC
import NIOCore
import NIOPosix
import ParleyCore
#if canImport(Glibc)
import Glibc
#endif

/// `parley cluster up|status|down`: a whole cluster on this machine, for trying it out.
struct ClusterCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "cluster",
        abstract: "Start, inspect and stop a cluster on this machine: ZooKeeper, a verifier, N backends, M gateways.",
        discussion: """
            Everything lives in --dir (default ./parley-cluster): cluster.json (what runs), logs/, the \
            shared SQLite data (or --database postgres://…), the outbox of verification mails, and \
            ZooKeeper's data when `up` starts it (Debian's zookeeper package, tickTime 500 ms so that \
            the default 1.5 s session timeout is allowed).
            """,
        subcommands: [Up.self, Status.self, Down.self]
    )

    struct Options: ParsableArguments {
        @Option(help: "The cluster's folder (default ./parley-cluster).")
        var dir: String = "./parley-cluster"

        var folder: URL { URL(fileURLWithPath: self.dir, isDirectory: true).standardizedFileURL }
        var stateFile: URL { self.folder.appendingPathComponent("cluster.json") }
    }

    /// What `up` started, kept in cluster.json.
    struct State: Codable {
        struct Member: Codable {
            var role: String
            var pid: Int32
            var address: String
        }
        var zookeeper: String
        var members: [Member]
    }

    struct Up: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Start the cluster and print its URLs.")

        @OptionGroup var options: Options

        @Option(help: "How many backends (default 3).")
        var backends: Int = 3

        @Option(help: "How many gateways (default 1).")
        var gateways: Int = 1

        @Option(help: "An existing ZooKeeper ensemble, HOST:PORT,… (default: start one from Debian's zookeeper package).")
        var zookeeper: String?

        @Option(help: "The database of the backends (default: one SQLite file in --dir/data).")
        var database: String?

        func validate() throws {
            guard (1...9).contains(self.backends), (1...9).contains(self.gateways) else {
                throw ValidationError("--backends and --gateways take 1 to 9.")
            }
        }

        func run() async throws {
            let folder = self.options.folder
            if FileManager.default.fileExists(atPath: self.options.stateFile.path) {
                throw ValidationError("a cluster already runs from \(folder.path); stop it first with `parley cluster down --dir \(self.options.dir)`.")
            }
            let logs = folder.appendingPathComponent("logs")
            try FileManager.default.createDirectory(at: logs, withIntermediateDirectories: true)
            let data = folder.appendingPathComponent("data").path
            var state = State(zookeeper: "", members: [])
            do {
                if let zookeeper = self.zookeeper {
                    state.zookeeper = zookeeper
                } else {
                    let (pid, address) = try await startZooKeeper(in: folder)
                    state.zookeeper = address
                    state.members.append(.init(role: "zookeeper", pid: pid, address: address))
                }
                let verifier = try await launch(
                    ["serve", "verifier", "--verifier-port", "0", "--data-dir", data], log: logs.appendingPathComponent("verifier.log"),
                    until: #"verifier \(gRPC\) listening on (\S+)"#
                )
                state.members.append(.init(role: "verifier", pid: verifier.pid, address: verifier.address))
                let common = ["--zookeeper", state.zookeeper, "--verifier", verifier.address]
                // The database URL goes in the environment: it may hold a password, which `ps` would show.
                let environment = self.database.map { ["PARLEY_DATABASE_URL": $0] } ?? [:]
                for index in 1...self.backends {
                    let backend = try await launch(
                        ["serve", "backend", "--rpc-port", "0", "--data-dir", data] + common, environment: environment,
                        log: logs.appendingPathComponent("backend-\(index).log"), until: #"backend \(JSON-RPC\) listening on (\S+)"#
                    )
                    state.members.append(.init(role: "backend", pid: backend.pid, address: backend.address))
                }
                for index in 1...self.gateways {
                    let gateway = try await launch(
                        ["serve", "gateway", "--http-port", "0"] + common,
                        log: logs.appendingPathComponent("gateway-\(index).log"), until: #"gateway listening on (\S+)"#
                    )
                    state.members.append(.init(role: "gateway", pid: gateway.pid, address: gateway.address))
                }
            } catch {
                stop(state.members)
                throw error
            }
            try JSONEncoder().encode(state).write(to: self.options.stateFile)
            print("cluster up in \(folder.path) (ZooKeeper \(state.zookeeper))")
            for member in state.members where member.role == "gateway" { print("gateway: \(member.address)") }
            print("verification mails: \(data)/outbox")
            print("see who leads: parley cluster status --dir \(self.options.dir)")
        }
    }

    struct Status: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Show the members, which are alive, and which backend leads.")

        @OptionGroup var options: Options

        func run() async throws {
            let state = try loadState(self.options)
            print("ZooKeeper: \(state.zookeeper)")
            for member in state.members {
                let alive = isRunning(member)
                var role = member.role
                if member.role == "backend", alive, let port = member.address.split(separator: ":").last.flatMap({ Int($0) }) {
                    role += await probe(port: port)
                }
                print("\(role.padding(toLength: 22, withPad: " ", startingAt: 0)) \(member.address.padding(toLength: 28, withPad: " ", startingAt: 0)) pid \(member.pid) \(alive ? "running" : "stopped")")
            }
        }
    }

    struct Down: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Stop everything `up` started.")

        @OptionGroup var options: Options

        func run() async throws {
            let state = try loadState(self.options)
            stop(state.members)
            try FileManager.default.removeItem(at: self.options.stateFile)
            print("cluster down")
        }
    }
}

private func loadState(_ options: ClusterCommand.Options) throws -> ClusterCommand.State {
    guard let data = FileManager.default.contents(atPath: options.stateFile.path) else {
        throw ValidationError("no cluster runs from \(options.folder.path) (no cluster.json); start one with `parley cluster up`.")
    }
    return try JSONDecoder().decode(ClusterCommand.State.self, from: data)
}

/// ` (leader)`, ` (follower)` or ` (no answer)`, asking the backend itself.
private func probe(port: Int) async -> String {
    let client = JSONRPCClient(configuration: .init(host: "127.0.0.1", port: port, connectTimeout: .seconds(1), requestTimeout: .seconds(2)))
    defer { Task { await client.shutdown() } }
    do {
        _ = try await client.call(BackendAPI.list, BackendAPI.ListParams(limit: 1, before: nil), as: BackendAPI.PostPage.self)
        return " (leader)"
    } catch let error as JSONRPCClientError {
        if case .remote(let code, _) = error.code, code == ParleyError.Code.notLeader.rawValue { return " (follower)" }
        return " (no answer)"
    } catch {
        return " (no answer)"
    }
}

/// Starts `parley ARGUMENTS` in the background with its output in `log`; returns its pid and
/// the first capture of `pattern` in the log (its address), waiting up to 30 s.
private func launch(
    _ arguments: [String], environment: [String: String] = [:], log: URL, until pattern: String
) async throws -> (pid: Int32, address: String) {
    let process = Process()
    process.environment = ProcessInfo.processInfo.environment.merging(environment) { $1 }
    process.executableURL = URL(fileURLWithPath: CommandLine.arguments[0]).standardizedFileURL
    if !FileManager.default.isExecutableFile(atPath: process.executableURL!.path) {
        process.executableURL = URL(fileURLWithPath: "/proc/self/exe").resolvingSymlinksInPath()
    }
    return try await start(process, arguments: arguments, log: log, until: pattern)
}

/// Starts `process` with its output in `log`; with a `pattern`, waits for its first capture in the log.
private func start(_ process: Process, arguments: [String], log: URL, until pattern: String?) async throws -> (pid: Int32, address: String) {
    _ = FileManager.default.createFile(atPath: log.path, contents: nil)
    let handle = try FileHandle(forWritingTo: log)
    process.arguments = arguments
    process.standardOutput = handle
    process.standardError = handle
    process.standardInput = FileHandle.nullDevice
    try process.run()
    guard let pattern else { return (process.processIdentifier, "") }
    let regex = try NSRegularExpression(pattern: pattern)
    let deadline = ContinuousClock.now + .seconds(30)
    while ContinuousClock.now < deadline {
        let text = (try? String(contentsOf: log, encoding: .utf8)) ?? ""
        if let match = regex.firstMatch(in: text, range: NSRange(text.startIndex..., in: text)), let range = Range(match.range(at: 1), in: text) {
            return (process.processIdentifier, String(text[range]))
        }
        guard process.isRunning else { break }
        try await Task.sleep(for: .milliseconds(100))
    }
    kill(process.processIdentifier, SIGKILL)
    throw ValidationError("\((arguments.prefix(2)).joined(separator: " ")) did not start; see \(log.path)")
}

/// Starts a ZooKeeper server from Debian's package on a free port, data in `folder/zookeeper`.
private func startZooKeeper(in folder: URL) async throws -> (pid: Int32, address: String) {
    let script = "/usr/share/zookeeper/bin/zkServer.sh"
    guard FileManager.default.isExecutableFile(atPath: script) else {
        throw ValidationError("ZooKeeper is not installed (apt-get install zookeeper), and no --zookeeper was given.")
    }
    let root = folder.appendingPathComponent("zookeeper")
    try FileManager.default.createDirectory(at: root.appendingPathComponent("data"), withIntermediateDirectories: true)
    let port = try await freePort()
    let config = root.appendingPathComponent("zoo.cfg")
    try """
        tickTime=500
        initLimit=10
        syncLimit=5
        dataDir=\(root.appendingPathComponent("data").path)
        clientPort=\(port)
        clientPortAddress=127.0.0.1
        admin.enableServer=false
        4lw.commands.whitelist=ruok,srvr
        """.write(to: config, atomically: true, encoding: .utf8)
    let process = Process()
    process.executableURL = URL(fileURLWithPath: script)
    process.environment = ProcessInfo.processInfo.environment.merging(["ZOO_LOG_DIR": root.path]) { $1 }
    let address = "127.0.0.1:\(port)"
    let log = folder.appendingPathComponent("logs/zookeeper.log")
    // ZooKeeper logs elsewhere (/var/log/zookeeper): it serves once a TCP connection is accepted.
    let started = try await start(process, arguments: ["start-foreground", config.path], log: log, until: nil)
    let deadline = ContinuousClock.now + .seconds(30)
    while ContinuousClock.now < deadline {
        if (try? await ClientBootstrap(group: MultiThreadedEventLoopGroup.singleton).connect(host: "127.0.0.1", port: port).get().close()) != nil {
            return (started.pid, address)
        }
        try await Task.sleep(for: .milliseconds(100))
    }
    kill(started.pid, SIGKILL)
    throw ValidationError("ZooKeeper did not start; see \(log.path)")
}

/// A port nothing listens on now.
private func freePort() async throws -> Int {
    let channel = try await ServerBootstrap(group: MultiThreadedEventLoopGroup.singleton).bind(host: "127.0.0.1", port: 0).get()
    let port = channel.localAddress?.port ?? 0
    try await channel.close()
    return port
}

/// SIGTERM to every member, gateways first and ZooKeeper last; SIGKILL to any still running after 10 s.
private func stop(_ members: [ClusterCommand.State.Member]) {
    let order = ["gateway", "backend", "verifier", "zookeeper"]
    for role in order {
        let running = members.filter { $0.role == role && isRunning($0) }
        for member in running { kill(member.pid, SIGTERM) }
        let deadline = Date().addingTimeInterval(10)
        while running.contains(where: isRunning), Date() < deadline { usleep(100_000) }
        for member in running where isRunning(member) { kill(member.pid, SIGKILL) }
    }
}

/// Whether the member's process still runs: its pid is alive, not a zombie, and still the
/// process `up` started (after a reboot the pid may belong to something else, never signalled).
private func isRunning(_ member: ClusterCommand.State.Member) -> Bool {
    guard let stat = try? String(contentsOfFile: "/proc/\(member.pid)/stat", encoding: .utf8),
        stat.split(separator: ")").last?.split(separator: " ").first != "Z",
        let raw = FileManager.default.contents(atPath: "/proc/\(member.pid)/cmdline")
    else { return false }
    let arguments = raw.split(separator: 0).map { String(decoding: $0, as: UTF8.self) }
    return member.role == "zookeeper"
        ? arguments.contains { $0.hasSuffix("zoo.cfg") }
        : arguments.contains("serve") && arguments.contains(member.role)
}
