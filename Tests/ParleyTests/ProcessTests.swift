import Foundation
import NIOHTTP1
import NIOPosix
import ParleyContacts
import ParleyCore
import ParleyStorage
import ParleyTestSupport
import Testing
#if canImport(Glibc)
import Glibc
#endif

/// Real `parley` processes: separate roles that outlive each other, graceful shutdown,
/// and the command-line client against a live gateway.
@Suite struct ProcessTests {
    static let listening = #"gateway listening on (http://127\.0\.0\.1:\d+)"#
    static let backendListening = #"backend \(JSON-RPC\) listening on 127\.0\.0\.1:(\d+)"#

    @Test func separateRolesOutliveEachOther() async throws {
        let folder = try TemporaryDirectory()
        defer { folder.remove() }
        let data = folder.path + "/data"
        var backend = try ParleyProcess(["serve", "backend", "--rpc-port", "0", "--data-dir", data])
        let rpcPort = try await backend.waitFor(Self.backendListening)
        let gateway = try ParleyProcess(["serve", "gateway", "--http-port", "0", "--backend", "127.0.0.1:\(rpcPort)"])
        let url = try await gateway.waitFor(Self.listening)
        let api = url + "/api/v1"

        #expect(try await http(.POST, api + "/posts", json: #"{"title":"one","body":"before the crash"}"#).status == 201)

        backend.signal(SIGKILL)
        try await backend.wait()
        let down = try await http(.POST, api + "/posts", json: #"{"title":"two","body":"during the outage"}"#)
        #expect(down.status == 503)
        #expect(down.errorCode == "unavailable")
        #expect(gateway.process.isRunning)

        backend = try ParleyProcess(["serve", "backend", "--rpc-port", rpcPort, "--data-dir", data])
        _ = try await backend.waitFor(Self.backendListening)
        let up = try await http(.POST, api + "/posts", json: #"{"title":"three","body":"after the restart"}"#)
        #expect(up.status == 201)
        let titles = (try await http(.GET, api + "/posts").json()["posts"] as? [[String: Any]])?.compactMap { $0["title"] as? String }
        #expect(titles == ["three", "one"])

        // The backend does not mind a gateway vanishing either.
        gateway.signal(SIGKILL)
        try await gateway.wait()
        let second = try ParleyProcess(["serve", "gateway", "--http-port", "0", "--backend", "127.0.0.1:\(rpcPort)"])
        let secondURL = try await second.waitFor(Self.listening)
        #expect(try await http(.GET, secondURL + "/api/v1/posts").status == 200)
        second.signal(SIGTERM)
        backend.signal(SIGTERM)
        #expect(try await second.wait() == 0)
        #expect(try await backend.wait() == 0)
    }

    @Test func sigtermStopsGracefullyAndKeepsTheData() async throws {
        let folder = try TemporaryDirectory()
        defer { folder.remove() }
        let data = folder.path + "/data"
        let arguments = ["serve", "--http-port", "0", "--rpc-port", "0", "--verifier-port", "0", "--balancer-port", "0", "--chat-port", "0", "--chat-ws-port", "0",
            "--listen", "127.0.0.1:0", "--data-dir", data]
        let first = try ParleyProcess(arguments)
        let url = try await first.waitFor(Self.listening)
        #expect(first.text.contains("data: \(data)/parley.sqlite"))
        #expect(try await http(.POST, url + "/api/v1/posts", json: #"{"title":"kept","body":"across restarts"}"#).status == 201)
        first.signal(SIGTERM)
        #expect(try await first.wait() == 0)

        let second = try ParleyProcess(arguments)
        let again = try await second.waitFor(Self.listening)
        let titles = (try await http(.GET, again + "/api/v1/posts").json()["posts"] as? [[String: Any]])?.compactMap { $0["title"] as? String }
        #expect(titles == ["kept"])
        second.signal(SIGINT)
        #expect(try await second.wait() == 0)
    }

    /// Each port `parley serve` listens on, taken by another socket: the process stops every
    /// role and exits with an error naming the role and the port, instead of hanging or crashing.
    @Test(arguments: [
        ("--http-port", "gateway (HTTP)"), ("--rpc-port", "backend (JSON-RPC)"), ("--verifier-port", "verifier (gRPC)"),
        ("--balancer-port", "balancer (gRPC)"), ("--chat-port", "chat server chat-1"), ("--chat-ws-port", "chat server chat-1"),
        ("--listen", "contacts replica contact-server-1"), ("--metrics-port", "metrics (HTTP)"),
    ])
    func aTakenPortStopsServeWithAClearError(flag: String, role: String) async throws {
        let taken = try await ServerBootstrap(group: MultiThreadedEventLoopGroup.singleton).bind(host: "127.0.0.1", port: 0).get()
        defer { taken.close(promise: nil) }
        let port = try #require(taken.localAddress?.port)
        let folder = try TemporaryDirectory()
        defer { folder.remove() }
        var ports = [
            "--http-port": "0", "--rpc-port": "0", "--verifier-port": "0", "--balancer-port": "0", "--chat-port": "0",
            "--chat-ws-port": "0", "--listen": "127.0.0.1:0", "--metrics-port": "0",
        ]
        ports[flag] = flag == "--listen" ? "127.0.0.1:\(port)" : "\(port)"
        let result = try await ParleyProcess.run(["serve", "--data-dir", folder.path] + ports.flatMap { [$0.key, $0.value] })
        #expect(result.status == 1, "\(result.output)")
        let error = result.output.split(separator: "\n").first { $0.hasPrefix("Error: ") } ?? ""
        #expect(error.hasPrefix("Error: the \(role) on 127.0.0.1"), "\(result.output)")
        #expect(error.contains(":\(port)") && error.contains("Address already in use"), "\(error)")
    }

    @Test func commandLineClient() async throws {
        let folder = try TemporaryDirectory()
        defer { folder.remove() }
        let server = try ParleyProcess(["serve", "--http-port", "0", "--rpc-port", "0", "--verifier-port", "0", "--balancer-port", "0", "--chat-port", "0", "--chat-ws-port", "0",
            "--listen", "127.0.0.1:0", "--data-dir", folder.path + "/data"])
        let url = try await server.waitFor(Self.listening)
        let config = folder.path + "/config"
        let env = ["PARLEY_GATEWAY": url, "XDG_CONFIG_HOME": config, "PARLEY_PASSWORD": "cli password 1"]

        // The code is mailed to the outbox; with nothing on standard input there is no code to give.
        var result = try await ParleyProcess.run(["account", "register", "--username", "cli_user", "--email", "cli@example.com"], environment: env, stdin: "")
        #expect(result.status != 0)
        #expect(result.output.contains("a code was mailed to cli@example.com"), "\(result.output)")
        #expect(result.output.contains("no code given"))
        let code = try Self.lastCode(inOutbox: folder.path + "/data/outbox")
        result = try await ParleyProcess.run(
            ["account", "register", "--username", "cli_user", "--email", "cli@example.com", "--code", code], environment: env
        )
        #expect(result.status == 0, "\(result.output)")
        result = try await ParleyProcess.run(
            ["account", "register", "--username", "CLI_USER", "--email", "other@example.com", "--code", "123456"], environment: env
        )
        #expect(result.status != 0)
        #expect(result.output.contains("already taken"))
        #expect(!result.output.contains("cli password 1"))

        result = try await ParleyProcess.run(["account", "login", "--username", "cli@example.com"], environment: env)
        #expect(result.status == 0, "\(result.output)")
        result = try await ParleyProcess.run(["account", "profile", "--nickname", "Cli Ü"], environment: env)
        #expect(result.status == 0, "\(result.output)")
        #expect(result.output.contains("nickname:    Cli Ü"))
        #expect(result.output.contains("email:       cli@example.com"))
        let saved = config + "/parley/session.json"
        let mode = (try FileManager.default.attributesOfItem(atPath: saved)[.posixPermissions] as? NSNumber)?.intValue
        #expect(mode == 0o600)

        result = try await ParleyProcess.run(["board", "post", "--title", "From the CLI", "Hello from a terminal"], environment: env)
        #expect(result.status == 0, "\(result.output)")
        result = try await ParleyProcess.run(["board", "list"], environment: env)
        #expect(result.output.contains("From the CLI"))
        #expect(result.output.contains("Hello from a terminal"))
        #expect(result.output.contains("cli_user"))

        result = try await ParleyProcess.run(["account", "logout"], environment: env)
        #expect(result.status == 0, "\(result.output)")
        #expect(!FileManager.default.fileExists(atPath: saved))
        result = try await ParleyProcess.run(["board", "post", "--title", "Anon", "as a guest"], environment: env)
        #expect(result.status == 0)
        result = try await ParleyProcess.run(["board", "list"], environment: env)
        #expect(result.output.contains("Guest"))

        server.signal(SIGTERM)
        #expect(try await server.wait() == 0)
    }

    @Test func chatCommandLine() async throws {
        let folder = try TemporaryDirectory()
        defer { folder.remove() }
        let server = try ParleyProcess([
            "serve", "--http-port", "0", "--rpc-port", "0", "--verifier-port", "0", "--balancer-port", "0", "--chat-port", "0",
            "--chat-ws-port", "0", "--listen", "127.0.0.1:0", "--data-dir", folder.path + "/data",
        ])
        let url = try await server.waitFor(Self.listening)
        func account(_ name: String) async throws -> [String: String] {
            let env = ["PARLEY_GATEWAY": url, "XDG_CONFIG_HOME": folder.path + "/" + name, "PARLEY_PASSWORD": "chat password 1"]
            let email = "\(name)@example.com"
            _ = try await ParleyProcess.run(["account", "register", "--username", name, "--email", email], environment: env, stdin: "")
            let code = try Self.lastCode(inOutbox: folder.path + "/data/outbox")
            var result = try await ParleyProcess.run(
                ["account", "register", "--username", name, "--email", email, "--code", code], environment: env
            )
            #expect(result.status == 0, "\(result.output)")
            result = try await ParleyProcess.run(["account", "login", "--username", name], environment: env)
            #expect(result.status == 0, "\(result.output)")
            return env
        }
        let alice = try await account("alice")
        let bob = try await account("bob")

        var result = try await ParleyProcess.run(["chat"], environment: alice, stdin: "/friends\n/search bo\n/add bob Hi Bob, it's Alice\n")
        #expect(result.status == 0, "\(result.output)")
        #expect(result.output.contains("No friends yet"), "\(result.output)")
        #expect(result.output.contains("Connected to chat-1 as alice."), "\(result.output)")
        #expect(result.output.contains("bob · none"))
        #expect(result.output.contains("Friend request sent to bob."))

        result = try await ParleyProcess.run(["chat"], environment: bob, stdin: "/requests\n")
        let request = try #require(result.output.firstMatch(of: /Request #(\d+) from alice: Hi Bob, it's Alice/), "\(result.output)")
        result = try await ParleyProcess.run(["chat"], environment: bob, stdin: "/accept \(request.1) Ally\n")
        #expect(result.output.contains("You and alice are friends now."), "\(result.output)")
        result = try await ParleyProcess.run(["chat"], environment: bob, stdin: "/msg alice Hello \u{1B}[31mAlice\n/msg carol hi\n")
        #expect(result.output.contains("carol is not one of your friends"), "\(result.output)")
        // A friend by the alias given them; one's own texts are not unread.
        result = try await ParleyProcess.run(["chat"], environment: bob, stdin: "/msg ally Second\n/friends\n")
        #expect(result.output.contains("alice (Ally) · offline\n"), "\(result.output)")

        // Alice was offline: her friends list says two unread; the history has Bob's texts, made safe for a terminal.
        result = try await ParleyProcess.run(["chat"], environment: alice, stdin: "/friends\n/history bob\n")
        #expect(result.output.contains("bob · offline · 2 unread"), "\(result.output)")
        #expect(result.output.contains("#1 bob: Hello"), "\(result.output)")
        #expect(result.output.contains("#2 bob: Second"), "\(result.output)")
        #expect(!result.output.contains("\u{1B}"))

        // More friends than one `friends` frame holds (long aliases: about 200 a frame): commands
        // wait for every page, so the last friend by name is known.
        let storage = try await SQLiteStorage.open(dataDirectory: folder.path + "/data")
        let bobID = try #require(try await storage.users.credentials(usernameKey: "bob")).user.id
        for index in 0..<250 {
            let fan = try await storage.users.create(username: try Username("fan\(index)"), passwordHash: "unused", now: Date())
            try await storage.chat.befriend(bobID, fan.id, alias: String(repeating: "\u{1F600}", count: 50))
        }
        try await storage.close()
        result = try await ParleyProcess.run(["chat"], environment: bob, stdin: "/msg fan99 hi\n")
        #expect(!result.output.contains("not one of your friends"), "\(result.output)")
        #expect(result.output.contains("fan99 ("), "\(result.output)")

        server.signal(SIGTERM)
        #expect(try await server.wait() == 0)
    }

    /// Chat timings that would close every connection are refused before anything starts, as a
    /// setting (exit 1, no usage of `parley` itself); a flag that does not parse gets the usage.
    @Test func chatTimingsRefused() async throws {
        let result = try await ParleyProcess.run(["serve", "chat", "--chat-heartbeat", "30", "--chat-idle-timeout", "30"])
        #expect(result.status == 1)
        #expect(result.output.contains("Error: --chat-heartbeat (PARLEY_CHAT_HEARTBEAT) must be 1 to 3600 seconds"), "\(result.output)")
        #expect(!result.output.contains("Usage:"), "\(result.output)")
        let unparsed = try await ParleyProcess.run(["serve", "chat", "--chat-heartbeat", "often"])
        #expect(unparsed.status == 64)
        #expect(unparsed.output.contains("Usage: parley serve"), "\(unparsed.output)")
    }

    /// `parley loadgen chat` against a real chat server: every text it sends is acknowledged,
    /// stored and delivered to the friend, and it reports the figures. Its connections heartbeat
    /// as the server asks: with a 3 s idle timeout, a silent receiver would be closed long before
    /// the end (the run lasts 2 s idle and 4 s of texts).
    @Test func chatLoadGenerator() async throws {
        let folder = try TemporaryDirectory()
        defer { folder.remove() }
        let secret = String(repeating: "5e", count: 32)
        let server = try ParleyProcess(
            [
                "serve", "--http-port", "0", "--rpc-port", "0", "--verifier-port", "0", "--balancer-port", "0", "--chat-port", "0",
                "--chat-ws-port", "0", "--listen", "127.0.0.1:0", "--data-dir", folder.path + "/data",
                "--chat-heartbeat", "1", "--chat-idle-timeout", "3",
            ],
            environment: ["PARLEY_CHAT_SECRET": secret]
        )
        let chatPort = try await server.waitFor(#"chat\.tcp=127\.0\.0\.1:(\d+)"#)
        let result = try await ParleyProcess.run(
            [
                "loadgen", "chat", "--target", "127.0.0.1:\(chatPort)", "--database", "sqlite:\(folder.path)/data/",
                "--connections", "6", "--rate", "15", "--duration", "4", "--server-pid", "\(server.process.processIdentifier)",
            ],
            environment: ["PARLEY_CHAT_SECRET": secret]
        )
        #expect(result.status == 0, "\(result.output)")
        #expect(result.output.contains("connected and authenticated 6 connections"), "\(result.output)")
        #expect(result.output.contains("per connection"), "\(result.output)")
        // Three pairs at 5 texts/s each for 4 s.
        let counts = try #require(result.output.firstMatch(of: #/sent (\d+), acknowledged (\d+), delivered (\d+), errors 0, connections lost 0 in/#), "\(result.output)")
        #expect(Int(counts.1) == 60)
        #expect(counts.2 == counts.1)
        #expect(counts.3 == counts.1)
        #expect(result.output.contains(/delivered \d+ texts\/s; latency p50 [0-9.]+ ms/), "\(result.output)")
        #expect(result.output.contains(/chat server \d+ us, load generator \d+ us/), "\(result.output)")
        // The counters are read: a text takes the server at least a read (the sender's frame) and two writes (ack, push).
        let calls = try #require(result.output.firstMatch(of: /per delivered text, the same time: chat server ([0-9.]+) reads, ([0-9.]+) writes, [0-9.]+ context switches; load generator [0-9.]+ reads/), "\(result.output)")
        #expect(Double(calls.1) ?? 0 >= 1)
        #expect(Double(calls.2) ?? 0 >= 2)

        // A ticket signed with another secret is refused: the generator says so and fails.
        let forged = try await ParleyProcess.run(
            [
                "loadgen", "chat", "--target", "127.0.0.1:\(chatPort)", "--database", "sqlite:\(folder.path)/data/",
                "--connections", "2", "--duration", "1",
            ],
            environment: ["PARLEY_CHAT_SECRET": String(repeating: "7a", count: 32)]
        )
        #expect(forged.status != 0)
        #expect(forged.output.contains("was not authenticated"), "\(forged.output)")

        server.signal(SIGTERM)
        #expect(try await server.wait() == 0)
    }

    /// The code in the newest message of an outbox folder (the subject says "Your Parley code: NNNNNN").
    static func lastCode(inOutbox folder: String) throws -> String {
        let names = try FileManager.default.contentsOfDirectory(atPath: folder).filter { $0.hasSuffix(".eml") }.sorted()
        let newest = try #require(names.last)
        let text = try String(contentsOfFile: folder + "/" + newest, encoding: .utf8)
        let subject = try #require(text.split(separator: "\r\n").first { $0.hasPrefix("Subject: ") })
        return try #require(VerificationSubject.code(String(subject.dropFirst("Subject: ".count))))
    }

    @Test func migrateAppliesAndListsMigrations() async throws {
        let folder = try TemporaryDirectory()
        defer { folder.remove() }
        let database = "sqlite:\(folder.path)/board.sqlite"
        var result = try await ParleyProcess.run(["migrate", "--status", "--database", database])
        #expect(result.status == 0, "\(result.output)")
        #expect(result.output.contains("(pending)"))
        #expect(result.output.contains("\(Migrations.all.count) pending"))

        let refused = try await ParleyProcess.run(["serve", "backend", "--rpc-port", "0", "--database", database, "--skip-migrations"])
        #expect(refused.status != 0)
        #expect(refused.output.contains("pending migration"))

        result = try await ParleyProcess.run(["migrate", "--database", database])
        #expect(result.status == 0, "\(result.output)")
        #expect(result.output.contains("applied 1: ") && result.output.contains("applied 2: "), "\(result.output)")
        result = try await ParleyProcess.run(["migrate", "--database", database])
        #expect(result.output.contains("nothing to do"))
        result = try await ParleyProcess.run(["migrate", "--status"], environment: ["PARLEY_DATABASE_URL": database])
        #expect(result.output.contains("up to date"))

        let bad = try await ParleyProcess.run(["migrate", "--database", "mysql://root@localhost/x"])
        #expect(bad.status != 0)
        #expect(bad.output.contains("unknown kind of database URL"))
    }

    @Test func serveAndMigrateOnPostgreSQLFromTheEnvironment() async throws {
        let server = try await PostgresServer.shared()
        let name = try await server.createDatabase()
        let url = await server.url(database: name).replacingOccurrences(of: "parley@", with: "parley:not-shown-secret@")
        let env = ["PARLEY_DATABASE_URL": url]
        var result = try await ParleyProcess.run(["migrate", "--status"], environment: env)
        #expect(result.output.contains("\(Migrations.all.count) pending"), "\(result.output)")
        result = try await ParleyProcess.run(["migrate"], environment: env)
        #expect(result.output.contains("applied 1: ") && result.output.contains("applied 2: "), "\(result.output)")
        #expect(!result.output.contains("not-shown-secret"))

        let folder = try TemporaryDirectory()
        defer { folder.remove() }
        let serve = try ParleyProcess(
            ["serve", "--http-port", "0", "--rpc-port", "0", "--verifier-port", "0", "--balancer-port", "0", "--chat-port", "0", "--chat-ws-port", "0",
            "--listen", "127.0.0.1:0", "--data-dir", folder.path, "--skip-migrations"],
            environment: env
        )
        let gateway = try await serve.waitFor(Self.listening)
        #expect(try await http(.POST, gateway + "/api/v1/posts", json: #"{"title":"pg","body":"stored in PostgreSQL"}"#).status == 201)
        #expect(serve.text.contains("data: postgres://parley:***@127.0.0.1"))
        #expect(!serve.text.contains("not-shown-secret"))
        serve.signal(SIGTERM)
        #expect(try await serve.wait() == 0)
        #expect(try await server.psql("SELECT title FROM posts", database: name).contains("pg"))
    }
}

/// Three `parley serve contacts` processes; one is killed with SIGKILL and catches up.
@Suite struct ContactsProcessTests {
    static func list(_ user: String, at port: Int) async throws -> [String] {
        try await ContactsClient(user: user, servers: [("127.0.0.1", port)]).list().map { "\($0.name)=\($0.phone)" }
    }

    @Test func standaloneRolesServeTheirMetrics() async throws {
        let folder = try TemporaryDirectory()
        defer { folder.remove() }
        let replica = try ParleyProcess(
            ["serve", "contacts", "--name", "solo", "--listen", "127.0.0.1:0", "--metrics-port", "0", "--data-dir", folder.path]
        )
        let replicaPort = Int(try await replica.waitFor(#"contacts replica solo listening on 127\.0\.0\.1:(\d+)"#))!
        let replicaMetrics = try await replica.waitFor(#"metrics listening on (http://\S+)"#)
        try await ContactsClient(user: "bob", servers: [("127.0.0.1", replicaPort)]).update(contact: "Ann", phone: "123")
        let text = try await http(.GET, replicaMetrics).body
        #expect(text.contains("contacts_entries"), "\(text)")
        #expect(text.contains("contacts_clock"))

        let backend = try ParleyProcess(["serve", "backend", "--rpc-port", "0", "--metrics-port", "0", "--data-dir", folder.path])
        let rpcPort = try await backend.waitFor(ProcessTests.backendListening)
        let backendMetrics = try await backend.waitFor(#"metrics listening on (http://\S+)"#)
        let gateway = try ParleyProcess(["serve", "gateway", "--http-port", "0", "--backend", "127.0.0.1:\(rpcPort)"])
        let url = try await gateway.waitFor(ProcessTests.listening)
        #expect(try await http(.GET, url + "/api/v1/posts").status == 200)
        let backendText = try await http(.GET, backendMetrics).body
        #expect(backendText.contains("jsonrpc_server_requests_total"), "\(backendText)")
        #expect(backendText.contains("Board.List"))
        for process in [replica, backend, gateway] { process.signal(SIGTERM) }
        for process in [replica, backend, gateway] { #expect(try await process.wait() == 0) }
    }

    @Test func aReplicaKilledWithSIGKILLCatchesUp() async throws {
        let folder = try TemporaryDirectory()
        defer { folder.remove() }
        let ports = try (1...3).map { _ in try TestProcesses.freePort() }
        func start(_ index: Int) throws -> ParleyProcess {
            let peers = (0..<3).filter { $0 != index }.flatMap { ["--peer", "r\($0)@127.0.0.1:\(ports[$0])"] }
            return try ParleyProcess(
                ["serve", "contacts", "--name", "r\(index)", "--listen", "127.0.0.1:\(ports[index])", "--data-dir", folder.path] + peers
            )
        }
        var replicas = try (0..<3).map(start)
        for replica in replicas { _ = try await replica.waitFor(#"contacts replica r\d listening"#) }
        let first = ContactsClient(user: "alice", servers: [("127.0.0.1", ports[0])])
        try await first.update(contact: "Juan", phone: "85999999999")
        try await first.update(contact: "王芳", phone: "+8613800000000")

        func converged(_ expected: [String], at port: Int) async -> Bool {
            for _ in 0..<100 {
                if (try? await Self.list("alice", at: port)) == expected { return true }
                try? await Task.sleep(for: .milliseconds(100))
            }
            return false
        }
        #expect(await converged(["Juan=85999999999", "王芳=+8613800000000"], at: ports[2]))

        replicas[2].signal(SIGKILL)
        try await replicas[2].wait()
        try await first.delete(contact: "Juan")
        try await ContactsClient(user: "alice", servers: [("127.0.0.1", ports[1])]).update(contact: "Zoë", phone: "123")
        let expected = ["Zoë=123", "王芳=+8613800000000"]
        #expect(await converged(expected, at: ports[0]))

        replicas[2] = try start(2)
        _ = try await replicas[2].waitFor(#"contacts replica r2 listening"#)
        #expect(await converged(expected, at: ports[2]))
        for replica in replicas { replica.signal(SIGTERM) }
        for replica in replicas { #expect(try await replica.wait() == 0) }
    }
}
