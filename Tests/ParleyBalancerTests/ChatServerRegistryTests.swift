import ParleyBalancer
import ParleyCore
import Testing

/// The registry's rules, on a clock moved by hand.
@Suite("Chat server registry")
struct ChatServerRegistryTests {
    let clock = ManualClock()

    func registry(_ configuration: ChatServerRegistry.Configuration = .init()) -> ChatServerRegistry {
        ChatServerRegistry(configuration: configuration, clock: self.clock.clock, logger: BalancerTesting.quietLogger)
    }

    @Test("Defaults: reports every 2 s, a lease of 3 intervals (6 s); the terms say so")
    func defaults() throws {
        let configuration = ChatServerRegistry.Configuration()
        #expect(configuration.reportInterval == .seconds(2))
        #expect(configuration.lease == .seconds(6))
        #expect(ChatServerRegistry.Configuration(reportInterval: .milliseconds(100)).lease == .milliseconds(300))
        let terms = try self.registry().register(BalancerTesting.server("chat-1"))
        #expect(terms == ChatServerRegistry.Terms(reportInterval: .seconds(2), lease: .seconds(6)))
    }

    @Test("The least-loaded live server wins, whatever the order of registration")
    func leastLoaded() throws {
        let registry = self.registry()
        for name in ["chat-a", "chat-b", "chat-c"] {
            try registry.register(BalancerTesting.server(name))
        }
        try registry.report(name: "chat-a", connections: 5)
        try registry.report(name: "chat-b", connections: 2)
        try registry.report(name: "chat-c", connections: 9)
        #expect(try registry.assign().name == "chat-b")

        // New reports change the choice.
        try registry.report(name: "chat-b", connections: 7)
        #expect(try registry.assign().name == "chat-a")
        try registry.report(name: "chat-c", connections: 0)
        #expect(try registry.assign().name == "chat-c")
    }

    @Test("Ties go to the first name in byte order, not to the first registered")
    func ties() throws {
        let registry = self.registry()
        for name in ["chat-b", "chat-c", "chat-a", "Chat-z"] {
            try registry.register(BalancerTesting.server(name))
            try registry.report(name: name, connections: 3)
        }
        // "C" (0x43) sorts before "c" (0x63).
        #expect(try registry.assign().name == "Chat-z")
        try registry.report(name: "Chat-z", connections: 4)
        #expect(try registry.assign().name == "chat-a")
    }

    @Test("Users assigned since the last report count as load until the next report")
    func assignmentsCount() throws {
        let registry = self.registry()
        try registry.register(BalancerTesting.server("chat-a"))
        try registry.register(BalancerTesting.server("chat-b"))
        try registry.report(name: "chat-b", connections: 2)
        // a: 0, b: 2 → a, a (now 2, tie → a), b, a, b …
        let picks = try (0..<6).map { _ in try registry.assign().name }
        #expect(picks == ["chat-a", "chat-a", "chat-a", "chat-b", "chat-a", "chat-b"])
        #expect(registry.servers().map(\.load) == [4, 4])
        #expect(registry.servers().map(\.assignedSinceReport) == [4, 2])
        // A report replaces the estimate with the real count.
        try registry.report(name: "chat-a", connections: 1)
        #expect(registry.servers().map(\.load) == [1, 4])
        #expect(try registry.assign().name == "chat-a")
    }

    @Test("A server with no report for its lease is dropped; one that reports stays")
    func leaseExpiry() throws {
        let registry = self.registry()
        try registry.register(BalancerTesting.server("chat-a"))
        try registry.register(BalancerTesting.server("chat-b"))
        try registry.report(name: "chat-a", connections: 10)
        try registry.report(name: "chat-b", connections: 0)

        self.clock.advance(by: .seconds(4))
        try registry.report(name: "chat-a", connections: 10)  // a renews; b does not
        self.clock.advance(by: .milliseconds(1999))
        // b: 5.999 s since its report, still live and least loaded.
        #expect(try registry.assign().name == "chat-b")
        self.clock.advance(by: .milliseconds(1))
        // b: 6 s, the lease: dropped.
        #expect(try registry.assign().name == "chat-a")
        #expect(registry.servers().map(\.info.name) == ["chat-a"])
        let late = try BalancerTestingSync.parleyError { try registry.report(name: "chat-b", connections: 0) }
        #expect(late.code == .notFound)
        #expect(late.message.contains("chat-b"))
        #expect(late.message.contains("register again"))

        // a stops reporting too: nothing is left.
        self.clock.advance(by: .seconds(6))
        #expect(registry.servers().isEmpty)
        let none = try BalancerTestingSync.parleyError { _ = try registry.assign() }
        #expect(none == ParleyError.noChatServer)
    }

    @Test("Registering again replaces the entry: new address, no connections, a new lease")
    func reRegister() throws {
        let registry = self.registry()
        try registry.register(BalancerTesting.server("chat-a", port: 60000))
        try registry.register(BalancerTesting.server("chat-b", port: 61000))
        try registry.report(name: "chat-a", connections: 50)
        try registry.report(name: "chat-b", connections: 10)
        #expect(try registry.assign().name == "chat-b")

        self.clock.advance(by: .seconds(5))
        try registry.register(BalancerTesting.server("chat-a", host: "10.0.0.7", port: 62000))
        let a = try #require(registry.servers().first { $0.info.name == "chat-a" })
        #expect(a.info == BalancerTesting.server("chat-a", host: "10.0.0.7", port: 62000))
        #expect(a.reportedConnections == 0)
        #expect(a.load == 0)
        #expect(try registry.assign() == BalancerTesting.server("chat-a", host: "10.0.0.7", port: 62000))

        // The registration renewed a's lease; b's ran out.
        self.clock.advance(by: .seconds(1))
        #expect(registry.servers().map(\.info.name) == ["chat-a"])

        // A dropped server may register again.
        self.clock.advance(by: .seconds(10))
        #expect(registry.servers().isEmpty)
        try registry.register(BalancerTesting.server("chat-b"))
        #expect(try registry.assign().name == "chat-b")
    }

    @Test("Nothing registered: .unavailable with the documented message")
    func empty() throws {
        let error = try BalancerTestingSync.parleyError { _ = try self.registry().assign() }
        #expect(error == ParleyError(.unavailable, "No chat server is available right now; try again in a moment."))
    }

    @Test("Reports: unknown name is .notFound, a bad name or a negative count .invalidInput")
    func badReports() throws {
        let registry = self.registry()
        #expect(try BalancerTestingSync.parleyError { try registry.report(name: "chat-x", connections: 1) }.code == .notFound)
        #expect(try BalancerTestingSync.parleyError { try registry.report(name: "", connections: 1) }.code == .invalidInput)
        try registry.register(BalancerTesting.server("chat-x"))
        #expect(try BalancerTestingSync.parleyError { try registry.report(name: "chat-x", connections: -1) }.code == .invalidInput)
        try registry.report(name: "chat-x", connections: 1)
    }

    @Test("At most maxServers live servers; a known name may still register again; room frees as leases run out")
    func bounded() throws {
        let registry = self.registry(.init(reportInterval: .seconds(1), maxServers: 2))
        try registry.register(BalancerTesting.server("chat-1"))
        self.clock.advance(by: .seconds(2))
        try registry.register(BalancerTesting.server("chat-2"))
        let full = try BalancerTestingSync.parleyError { try registry.register(BalancerTesting.server("chat-3")) }
        #expect(full.code == .unavailable)
        try registry.register(BalancerTesting.server("chat-2", port: 60001))
        self.clock.advance(by: .seconds(1))  // chat-1's lease (3 s) runs out
        try registry.register(BalancerTesting.server("chat-3"))
        #expect(registry.servers().map(\.info.name) == ["chat-2", "chat-3"])
    }

    @Test("Chat server descriptions: names, hosts and ports are checked; the WebSocket URL is built")
    func serverInfo() throws {
        let server = try ChatServerInfo(name: "chat-1.eu_west", host: "chat1.example.com", tcpPort: 60000, websocketPort: 60080, grpcPort: 64400)
        #expect(server.websocketURL == "ws://chat1.example.com:60080/chat")
        let v6 = try ChatServerInfo(name: "c", host: "[::1]", tcpPort: 1, websocketPort: 2, grpcPort: 65535)
        #expect(v6.host == "::1")
        #expect(v6.websocketURL == "ws://[::1]:2/chat")

        let badNames = ["", String(repeating: "a", count: 65), "chat 1", "chät", "chat/1", "chat:1"]
        for name in badNames {
            #expect(throws: ParleyError.self) {
                try ChatServerInfo(name: name, host: "127.0.0.1", tcpPort: 1, websocketPort: 2, grpcPort: 3)
            }
        }
        _ = try ChatServerInfo(name: String(repeating: "a", count: 64), host: "h", tcpPort: 1, websocketPort: 2, grpcPort: 3)
        for host in ["", "[]", "[[::1]]", "a@b", "0.0.0.0", "::", "[::]", "a b", "a\nb", "hé.example", "a/b", String(repeating: "a", count: 254)] {
            #expect(throws: ParleyError.self) {
                try ChatServerInfo(name: "c", host: host, tcpPort: 1, websocketPort: 2, grpcPort: 3)
            }
        }
        for ports in [(0, 1, 1), (1, 0, 1), (1, 1, 0), (65536, 1, 1), (1, -1, 1), (1, 1, 70000)] {
            let error = try BalancerTestingSync.parleyError {
                _ = try ChatServerInfo(name: "c", host: "h", tcpPort: ports.0, websocketPort: ports.1, grpcPort: ports.2)
            }
            #expect(error.code == .invalidInput)
            #expect(error.message.contains("port"))
        }
    }
}

/// Synchronous variant of ``BalancerTesting/parleyError(_:)``.
enum BalancerTestingSync {
    static func parleyError(_ body: () throws -> Void) throws -> ParleyError {
        do {
            try body()
        } catch let error as ParleyError {
            return error
        }
        Issue.record("expected a ParleyError, got success")
        return ParleyError(.internal, "no error")
    }
}
