import ParleyTestSupport
import Testing
@testable import ZooKeeperClient

/// One-shot watches against one real ZooKeeper 3.8 (shared by the run).
@Suite("Against a real ZooKeeper: watches", .enabled(if: ZooKeeperServer.isEnabled))
struct LiveWatchTests {
    @Test("existsAndWatch fires once when the znode is deleted (another session's, as in an election)")
    func predecessorDeleted() async throws {
        let server = try await ZooKeeperServer.shared()
        let election = TestSupport.uniquePath()
        try await TestSupport.withClient(server.connectionString) { follower in
            let leader = try await ZooKeeperClient.connect(configuration: TestSupport.configuration(server.connectionString))
            let leaderNode = try await leader.create(path: election + "/n_", mode: .ephemeralSequential, createParents: true)
            let ownNode = try await follower.create(path: election + "/n_", mode: .ephemeralSequential)
            #expect(ZooKeeperClient.sequenceNumber(of: ownNode)! > ZooKeeperClient.sequenceNumber(of: leaderNode)!)

            let (stat, watch) = try await follower.existsAndWatch(path: leaderNode)
            #expect(stat != nil)
            #expect(!watch.isCompleted)
            await leader.close()
            let event = try await TestSupport.event(of: watch)
            #expect(event == ZooKeeperWatchEvent(type: .nodeDeleted, path: leaderNode))
            #expect(try await follower.getChildren(path: election) == [String(ownNode.split(separator: "/").last!)])
        }
    }

    @Test("existsAndWatch on a missing znode fires on its creation")
    func created() async throws {
        let server = try await ZooKeeperServer.shared()
        try await TestSupport.withClient(server.connectionString) { client in
            let path = TestSupport.uniquePath()
            let (stat, watch) = try await client.existsAndWatch(path: path)
            #expect(stat == nil)
            try await client.create(path: path)
            #expect(try await TestSupport.event(of: watch) == ZooKeeperWatchEvent(type: .nodeCreated, path: path))
        }
    }

    @Test("getDataAndWatch fires once on a data change, not again for the next change")
    func dataChanged() async throws {
        let server = try await ZooKeeperServer.shared()
        try await TestSupport.withClient(server.connectionString) { client in
            let path = TestSupport.uniquePath()
            try await client.create(path: path, data: [0])
            let (data, _, watch) = try await client.getDataAndWatch(path: path)
            #expect(data == [0])
            try await client.setData(path: path, data: [1])
            #expect(try await TestSupport.event(of: watch) == ZooKeeperWatchEvent(type: .nodeDataChanged, path: path))
            // One shot: the server and the client forgot it.
            #expect(client.core.state.withLock { $0.watches.isEmpty })

            let (_, _, second) = try await client.getDataAndWatch(path: path)
            try await client.setData(path: path, data: [2])
            try await client.setData(path: path, data: [3])
            #expect(try await TestSupport.event(of: second) == ZooKeeperWatchEvent(type: .nodeDataChanged, path: path))
            #expect(try await watch.event() == ZooKeeperWatchEvent(type: .nodeDataChanged, path: path))
            try await client.delete(path: path)
            #expect(client.core.state.withLock { $0.watches.isEmpty })
        }
    }

    @Test("getChildrenAndWatch fires once when a child is created")
    func childrenChanged() async throws {
        let server = try await ZooKeeperServer.shared()
        try await TestSupport.withClient(server.connectionString) { client in
            let path = TestSupport.uniquePath()
            try await client.create(path: path)
            let (children, watch) = try await client.getChildrenAndWatch(path: path)
            #expect(children.isEmpty)
            try await client.create(path: path + "/c", mode: .ephemeral)
            #expect(try await TestSupport.event(of: watch) == ZooKeeperWatchEvent(type: .nodeChildrenChanged, path: path))
        }
    }

    @Test("Several watches on one znode, of several kinds, all fire on its deletion")
    func severalWatches() async throws {
        let server = try await ZooKeeperServer.shared()
        try await TestSupport.withClient(server.connectionString) { client in
            let path = TestSupport.uniquePath()
            try await client.create(path: path)
            let (_, first) = try await client.existsAndWatch(path: path)
            let (_, second) = try await client.existsAndWatch(path: path)
            let (_, _, data) = try await client.getDataAndWatch(path: path)
            let (_, children) = try await client.getChildrenAndWatch(path: path)
            try await client.delete(path: path)
            for watch in [first, second, data, children] {
                #expect(try await TestSupport.event(of: watch) == ZooKeeperWatchEvent(type: .nodeDeleted, path: path))
            }
        }
    }

    @Test("Watches fail with SESSIONEXPIRED when the client is closed")
    func failOnClose() async throws {
        let server = try await ZooKeeperServer.shared()
        let client = try await ZooKeeperClient.connect(configuration: TestSupport.configuration(server.connectionString))
        let (_, watch) = try await client.existsAndWatch(path: TestSupport.uniquePath())
        await client.close()
        await TestSupport.expectError(.sessionExpired) { try await watch.event() }
    }
}
