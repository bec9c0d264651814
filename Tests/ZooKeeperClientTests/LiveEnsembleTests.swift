import ParleyTestSupport
import Testing
@testable import ZooKeeperClient

/// Failover in a 3-server ensemble of real ZooKeeper 3.8 servers, started for this suite.
@Suite("Against a real ZooKeeper ensemble", .enabled(if: ZooKeeperServer.isEnabled))
struct LiveEnsembleTests {
    @Test("kill -9 the server the client is on (the leader): it moves to another with the same session; its ephemeral survives")
    func failover() async throws {
        let servers = try await ZooKeeperServer.startEnsemble(size: 3)
        do {
            try await self.failover(servers)
        } catch {
            for server in servers { await server.shutdown() }
            throw error
        }
        for server in servers { await server.shutdown() }
    }

    private func failover(_ servers: [ZooKeeperServer]) async throws {
        // The leader first, so the kill also forces an election: the harder case.
        let ordered = servers.sorted { first, _ in first.mode() == "leader" }
        #expect(ordered[0].mode() == "leader")
        var configuration = try TestSupport.configuration(
            ordered.map(\.connectionString).joined(separator: ","),
            sessionTimeout: .seconds(4),
            requestTimeout: .seconds(8)
        )
        configuration.shuffleServers = false
        let client = try await ZooKeeperClient.connect(configuration: configuration)
        let events = client.sessionEvents()
        let first = try #require(client.connectedServer)
        #expect(await TestSupport.next(events) == .connected(first))
        #expect(first.port == ordered[0].ports.client)

        let sessionID = client.session.id
        let root = TestSupport.uniquePath()
        let ephemeral = try await client.create(path: root + "/member-", data: Array("me".utf8), mode: .ephemeralSequential, createParents: true)
        let (_, watch) = try await client.getChildrenAndWatch(path: root)

        let clock = ContinuousClock()
        let killed = clock.now
        await ordered[0].kill()  // SIGKILL
        #expect(await TestSupport.next(events, within: .seconds(5)) == .disconnected)
        guard case .reconnected(let second) = await TestSupport.next(events, within: .seconds(8)) else {
            Issue.record("the client did not reconnect")
            return
        }
        let failoverTime = clock.now - killed
        #expect(second != first)
        #expect(client.connectedServer == second)
        #expect(client.session.id == sessionID)
        #expect(failoverTime < .seconds(4), "failover took \(failoverTime)")

        // The session and its ephemeral znode lived on; operations continue; the watch still holds.
        let stat = try await client.exists(path: ephemeral)
        #expect(stat?.ephemeralOwner == sessionID)
        #expect(try await client.getData(path: ephemeral).data == Array("me".utf8))
        try await client.create(path: root + "/after")
        #expect(try await TestSupport.event(of: watch) == ZooKeeperWatchEvent(type: .nodeChildrenChanged, path: root))
        try await client.setData(path: ephemeral, data: [1])

        // Another client on a surviving server sees the same.
        let survivor = ordered.first { $0.ports.client != first.port && $0.ports.client != second.port }!
        let observed = try await TestSupport.withClient(survivor.connectionString) { observer in
            try await observer.getData(path: ephemeral)
        }
        #expect(observed.data == [1])
        #expect(observed.stat.ephemeralOwner == sessionID)
        await client.close()
    }
}
