import ParleyTestSupport
import NIOCore
import Synchronization
import Testing
@testable import ZooKeeperClient

/// The leader election recipe and its observer against one real ZooKeeper 3.8 (shared by the
/// run), with a ``TCPProxy`` in front of a candidate to cut its network.
@Suite("Against a real ZooKeeper: leader election", .enabled(if: ZooKeeperServer.isEnabled))
struct LiveLeaderElectionTests {
    typealias Role = LeaderElection.Role
    typealias Leader = LeaderElection.Leader

    /// A candidate running in a task of its own, its roles recorded.
    final class Candidate: Sendable {
        let election: LeaderElection
        let run: Task<Void, any Error>
        private let recorded = Mutex<(roles: [Role], ended: Bool)>(([], false))

        init(client: ZooKeeperClient, path: String, name: String) {
            let election = LeaderElection(client: client, path: path, payload: Array(name.utf8))
            self.election = election
            self.run = Task { try await election.run() }
            let roles = election.roles()
            Task {
                for await role in roles { self.recorded.withLock { $0.roles.append(role) } }
                self.recorded.withLock { $0.ended = true }
            }
        }

        /// The roles reported so far.
        var roles: [Role] { self.recorded.withLock { $0.roles } }

        /// All the roles reported, once the stream ended (within `timeout`).
        func allRoles(within timeout: Duration = .seconds(5)) async -> [Role]? {
            await LiveLeaderElectionTests.eventually(within: timeout) {
                self.recorded.withLock { $0.ended ? $0.roles : nil }
            }
        }

        /// The role, once it satisfies `predicate` (within `timeout`).
        func role(within timeout: Duration = .seconds(10), where predicate: @escaping @Sendable (Role) -> Bool) async -> Role? {
            await LiveLeaderElectionTests.eventually(within: timeout) {
                let role = self.election.role
                return predicate(role) ? role : nil
            }
        }

        func leaderEpoch(within timeout: Duration = .seconds(10)) async -> Int64? {
            guard case .leader(let epoch) = await self.role(within: timeout, where: \.isLeader) else { return nil }
            return epoch
        }

        func leaderItFollows(within timeout: Duration = .seconds(10)) async -> Leader? {
            let role = await self.role(within: timeout) { role in
                if case .follower = role { return true }
                return false
            }
            guard case .follower(let leader) = role else { return nil }
            return leader
        }
    }

    /// Polls `body` every 20 ms until it returns a value, for at most `timeout`.
    static func eventually<T: Sendable>(within timeout: Duration = .seconds(10), _ body: @Sendable () async throws -> T?) async -> T? {
        let deadline = ContinuousClock.now + timeout
        while ContinuousClock.now < deadline {
            if let value = try? await body() { return value }
            try? await Task.sleep(for: .milliseconds(20))
        }
        return nil
    }

    private func connect(_ connectionString: String, sessionTimeout: Duration = .seconds(4)) async throws -> ZooKeeperClient {
        try await ZooKeeperClient.connect(configuration: TestSupport.configuration(connectionString, sessionTimeout: sessionTimeout))
    }

    @Test("Three candidates: one leads; on its death only its successor wakes up and leads with a higher epoch; resign; an observer follows")
    func failoverWithoutHerd() async throws {
        let server = try await ZooKeeperServer.shared()
        let path = TestSupport.uniquePath() + "/backend/election"
        let clients = [
            try await self.connect(server.connectionString), try await self.connect(server.connectionString),
            try await self.connect(server.connectionString),
        ]
        let observerClient = try await self.connect(server.connectionString)
        let observed = Mutex<[Leader?]>([])
        let observer = Task {
            for try await leader in LeaderObserver(client: observerClient, path: path) {
                observed.withLock { $0.append(leader) }
            }
        }
        #expect(await Self.eventually { observed.withLock { $0 == [nil] ? true : nil } } == true)

        // Join one after the other, so that the order is known.
        let a = Candidate(client: clients[0], path: path, name: "a:1234")
        let epochA = try #require(await a.leaderEpoch())
        let b = Candidate(client: clients[1], path: path, name: "b:1234")
        let leaderA = Leader(path: try #require(a.election.ownPath), payload: Array("a:1234".utf8), epoch: epochA)
        #expect(await b.leaderItFollows() == leaderA)
        let c = Candidate(client: clients[2], path: path, name: "c:1234")
        #expect(await c.leaderItFollows() == leaderA)
        #expect(a.election.role == .leader(epoch: epochA))
        #expect(try await observerClient.getChildren(path: path).count == 3)
        #expect(await Self.eventually { observed.withLock { $0.last == leaderA ? true : nil } } == true)

        // The leader's session ends: its ephemeral znode vanishes.
        await clients[0].close()
        await #expect(throws: ZooKeeperError.self) { try await a.run.value }
        #expect(a.election.role == .unknown)
        let epochB = try #require(await b.leaderEpoch())
        #expect(epochB > epochA)
        let leaderB = Leader(path: try #require(b.election.ownPath), payload: Array("b:1234".utf8), epoch: epochB)
        #expect(await c.role { $0 == .follower(leader: leaderB) } != nil)
        // Only the direct successor's predecessor watch fired; the third woke up on its leader watch.
        #expect(b.election.predecessorWatchEvents == 1)
        #expect(c.election.predecessorWatchEvents == 0)
        #expect(!c.roles.contains { $0.isLeader })
        #expect(await Self.eventually { observed.withLock { $0.last == leaderB ? true : nil } } == true)

        // The new leader resigns: its znode is deleted, the last candidate leads.
        await b.election.resign()
        #expect(b.election.role == .unknown)
        try await b.run.value
        #expect(b.election.ownPath == nil)
        let epochC = try #require(await c.leaderEpoch())
        #expect(epochC > epochB)
        #expect(c.election.predecessorWatchEvents == 1)
        let leaderC = Leader(path: try #require(c.election.ownPath), payload: Array("c:1234".utf8), epoch: epochC)
        #expect(try await observerClient.getChildren(path: path) == [String(leaderC.path.split(separator: "/").last!)])
        #expect(await Self.eventually { observed.withLock { $0.last == leaderC ? true : nil } } == true)

        // Cancelling a candidate deletes its znode too; the observer sees no leader.
        c.run.cancel()
        try await c.run.value
        #expect(await Self.eventually { observed.withLock { $0.last == .some(nil) ? true : nil } } == true)
        #expect(try await observerClient.getChildren(path: path).isEmpty)
        // Each leader in turn, none twice.
        #expect(observed.withLock { $0 } == [nil, leaderA, leaderB, leaderC, nil])

        observer.cancel()
        for client in clients.dropFirst() { await client.close() }
        await observerClient.close()
        await #expect(throws: (any Error).self) { try await observer.value }
    }

    @Test("A leader cut off reports unknown well before its session expires; after expiry the next candidate leads")
    func partitionedLeader() async throws {
        let server = try await ZooKeeperServer.shared()
        let path = TestSupport.uniquePath() + "/election"
        let proxy = TCPProxy(targetPort: server.ports.client)
        let port = try await proxy.start()
        defer { Task { await proxy.stop() } }
        let cutClient = try await self.connect("127.0.0.1:\(port)", sessionTimeout: .seconds(3))
        let otherClient = try await self.connect(server.connectionString)

        let a = Candidate(client: cutClient, path: path, name: "a")
        let epochA = try #require(await a.leaderEpoch())
        let b = Candidate(client: otherClient, path: path, name: "b")
        #expect(await b.leaderItFollows()?.epoch == epochA)

        let roles = a.election.roles()
        var iterator = roles.makeAsyncIterator()
        #expect(await iterator.next() == .leader(epoch: epochA))
        let clock = ContinuousClock()
        let cut = clock.now
        proxy.pause()
        #expect(await iterator.next() == .unknown)
        let elapsed = clock.now - cut
        // Reported after two thirds of the session timeout without news, not at expiry.
        #expect(elapsed < .milliseconds(2500), "unknown after \(elapsed)")
        #expect(a.election.role == .unknown)
        #expect(!b.election.role.isLeader)

        let epochB = try #require(await b.leaderEpoch())
        #expect(epochB > epochA)
        #expect(clock.now - cut >= .seconds(3) - .milliseconds(200))
        await #expect(throws: ZooKeeperError.self) { try await a.run.value }
        #expect(await iterator.next() == nil)
        // Once unknown, never leader again.
        let history = await a.allRoles()
        #expect(history.map { Array($0.drop { $0 == .unknown }) } == [.leader(epoch: epochA), .unknown])

        proxy.resume()
        await cutClient.close()
        await otherClient.close()
    }

    @Test("A leader whose connection comes back with the same session leads again, in the same epoch")
    func shortPartition() async throws {
        let server = try await ZooKeeperServer.shared()
        let path = TestSupport.uniquePath() + "/election"
        let proxy = TCPProxy(targetPort: server.ports.client)
        let port = try await proxy.start()
        defer { Task { await proxy.stop() } }
        let cutClient = try await self.connect("127.0.0.1:\(port)", sessionTimeout: .seconds(4))
        let otherClient = try await self.connect(server.connectionString)

        let a = Candidate(client: cutClient, path: path, name: "a")
        let epochA = try #require(await a.leaderEpoch())
        let b = Candidate(client: otherClient, path: path, name: "b")
        #expect(await b.leaderItFollows()?.epoch == epochA)

        proxy.pause()
        #expect(await a.role(within: .seconds(4)) { $0 == .unknown } != nil)
        proxy.resume()
        #expect(await a.leaderEpoch() == epochA)
        let expected: [Role] = [.leader(epoch: epochA), .unknown, .leader(epoch: epochA)]
        #expect(await Self.eventually { Array(a.roles.suffix(3)) == expected ? true : nil } == true, "\(a.roles)")
        #expect(b.election.role == .follower(leader: Leader(path: try #require(a.election.ownPath), payload: [UInt8(ascii: "a")], epoch: epochA)))
        #expect(try await otherClient.getChildren(path: path).count == 2)

        await a.election.resign()
        await b.election.resign()
        try await a.run.value
        try await b.run.value
        #expect(try await otherClient.getChildren(path: path).isEmpty)
        await cutClient.close()
        await otherClient.close()
    }

    @Test("CONNECTIONLOSS after the create was sent: the candidate finds its znode by name and does not create another")
    func connectionLossDuringCreate() async throws {
        let server = try await ZooKeeperServer.shared()
        let path = TestSupport.uniquePath() + "/election"
        let proxy = TCPProxy(targetPort: server.ports.client)
        let port = try await proxy.start()
        defer { Task { await proxy.stop() } }
        let cutClient = try await self.connect("127.0.0.1:\(port)", sessionTimeout: .seconds(3))
        let otherClient = try await self.connect(server.connectionString)
        try await otherClient.ensurePath(path)

        // The create reaches the server; its reply, and every later one, is lost.
        proxy.pauseReplies(afterRequestOfType: ZooKeeperOpCode.create.rawValue)
        let a = Candidate(client: cutClient, path: path, name: "a")
        let created = await Self.eventually { try await otherClient.getChildren(path: path).first }
        let name = try #require(created)
        #expect(name.hasPrefix(a.election.prefix))
        #expect(a.election.role == .unknown)
        // The client gives the connection up (the create fails with CONNECTIONLOSS), then reconnects.
        #expect(await Self.eventually { cutClient.state == .disconnected ? true : nil } == true)
        proxy.resume()
        let epoch = try #require(await a.leaderEpoch())
        #expect(a.election.ownPath == path + "/" + name)
        #expect(try await otherClient.getChildren(path: path) == [name])
        #expect(try await otherClient.exists(path: path + "/" + name)?.czxid == epoch)
        // One child ever created under the election znode: no second create, not even one deleted since.
        #expect(try await otherClient.exists(path: path)?.cversion == 1)

        await a.election.resign()
        try await a.run.value
        await cutClient.close()
        await otherClient.close()
    }

    @Test("resign before run, run twice")
    func misuse() async throws {
        let server = try await ZooKeeperServer.shared()
        try await TestSupport.withClient(server.connectionString) { client in
            let path = TestSupport.uniquePath() + "/election"
            let early = LeaderElection(client: client, path: path, payload: [])
            await early.resign()
            try await early.run()
            #expect(try await client.exists(path: path) == nil)
            await TestSupport.expectError(.badArguments) { try await early.run() }
            await TestSupport.expectError(.badArguments) { try await LeaderElection(client: client, path: "bad", payload: []).run() }
        }
    }
}

@Suite("Leader election helpers")
struct LeaderElectionHelperTests {
    @Test("Candidates sort by sequence number whatever their prefix; others are ignored")
    func candidates() {
        let children = ["n_bb_0000000012", "lock", "n_aa_0000000003", "x_0000000007", "n_cc_00000000x1"]
        #expect(LeaderElection.candidates(children) == ["n_aa_0000000003", "x_0000000007", "n_bb_0000000012"])
    }

    @Test("Each candidate has its own name prefix")
    func prefixes() async throws {
        let server = try await ZooKeeperServer.shared()
        try await TestSupport.withClient(server.connectionString) { client in
            let first = LeaderElection(client: client, path: "/e", payload: [])
            let second = LeaderElection(client: client, path: "/e", payload: [])
            #expect(first.prefix != second.prefix)
            #expect(first.prefix.count == 2 + 32 + 1)
            #expect(first.role == .unknown)
        }
    }
}
