import ParleyTestSupport
import NIOCore
import Testing
@testable import ZooKeeperClient

/// Session life against one real ZooKeeper 3.8 (shared by the run), with a ``TCPProxy`` between
/// client and server to cut the network without closing connections (a partition).
///
/// Session expiry is produced two ways, both deterministic:
/// - reported by the server: while the client is cut off, a second client takes the session over
///   (its id and password) and closes it; when the network comes back, the server answers the
///   client's reconnection with timeout 0;
/// - detected by the client: cut off for longer than the session timeout, it gives up by itself
///   (the server expires the session at the same time and deletes its ephemeral znodes).
@Suite("Against a real ZooKeeper: sessions", .enabled(if: ZooKeeperServer.isEnabled))
struct LiveSessionTests {
    /// A client connected through a new proxy to the shared server.
    private func proxiedClient(
        sessionTimeout: Duration,
        requestTimeout: Duration = .seconds(5)
    ) async throws -> (ZooKeeperServer, TCPProxy, ZooKeeperClient) {
        let server = try await ZooKeeperServer.shared()
        let proxy = TCPProxy(targetPort: server.ports.client)
        let port = try await proxy.start()
        let configuration = try TestSupport.configuration(
            "127.0.0.1:\(port)",
            sessionTimeout: sessionTimeout,
            requestTimeout: requestTimeout
        )
        return (server, proxy, try await ZooKeeperClient.connect(configuration: configuration))
    }

    @Test("sessionEvents starts with the current state and ends with closed")
    func eventsOnClose() async throws {
        let server = try await ZooKeeperServer.shared()
        let client = try await ZooKeeperClient.connect(configuration: TestSupport.configuration(server.connectionString))
        #expect(client.state == .connected)
        #expect(client.connectedServer == ZooKeeperClient.Server(host: "127.0.0.1", port: server.ports.client))
        #expect(client.session.timeout == .seconds(4))
        #expect(client.session.password.count == 16)
        let events = client.sessionEvents()
        var iterator = events.makeAsyncIterator()
        #expect(await iterator.next() == .connected(ZooKeeperClient.Server(host: "127.0.0.1", port: server.ports.client)))
        await client.close()
        #expect(await iterator.next() == .closed)
        #expect(await iterator.next() == nil)
        var late = client.sessionEvents().makeAsyncIterator()
        #expect(await late.next() == .closed)
        #expect(await late.next() == nil)
    }

    @Test("A partition shorter than the session: disconnected, reconnected with the same session; ephemerals and watches survive")
    func shortPartition() async throws {
        let (server, proxy, client) = try await self.proxiedClient(sessionTimeout: .seconds(3))
        defer { Task { await proxy.stop() } }
        try await TestSupport.withClient(server.connectionString) { observer in
            let path = TestSupport.uniquePath()
            let sessionID = client.session.id
            try await client.create(path: path)
            let ephemeral = try await client.create(path: path + "/e", mode: .ephemeral)
            let (_, watch) = try await client.existsAndWatch(path: path + "/w")
            let events = client.sessionEvents()
            var iterator = events.makeAsyncIterator()
            #expect(await iterator.next() == .connected(client.connectedServer!))

            proxy.pause()
            try await observer.create(path: path + "/w")  // while the client cannot hear it
            let clock = ContinuousClock()
            let cut = clock.now
            #expect(await iterator.next() == .disconnected)
            // Given up after two thirds of the session timeout without a message.
            #expect(clock.now - cut > .milliseconds(1500))
            #expect(client.state == .disconnected)
            proxy.resume()
            #expect(await iterator.next() == .reconnected(client.connectedServer ?? ZooKeeperClient.Server(host: "?")))
            #expect(client.session.id == sessionID)
            #expect(try await observer.exists(path: ephemeral)?.ephemeralOwner == sessionID)
            // Set again with the last zxid seen, the watch reports the creation it missed.
            #expect(try await TestSupport.event(of: watch, within: .seconds(3)) == ZooKeeperWatchEvent(type: .nodeCreated, path: path + "/w"))
            #expect(try await client.getChildren(path: path).sorted() == ["e", "w"])
            await client.close()
        }
    }

    @Test("Cut off for longer than the session timeout: the client reports expiry itself; the server deletes its ephemerals")
    func localExpiry() async throws {
        let (server, proxy, client) = try await self.proxiedClient(sessionTimeout: .milliseconds(1500))
        defer { Task { await proxy.stop() } }
        try await TestSupport.withClient(server.connectionString) { observer in
            let path = TestSupport.uniquePath()
            try await client.create(path: path, mode: .ephemeral)
            let (_, _, ownWatch) = try await client.getDataAndWatch(path: path)
            let (_, observerWatch) = try await observer.existsAndWatch(path: path)
            let events = client.sessionEvents()
            var iterator = events.makeAsyncIterator()
            _ = await iterator.next()

            let clock = ContinuousClock()
            let cut = clock.now
            proxy.pause()
            #expect(await iterator.next() == .disconnected)
            #expect(await iterator.next() == .expired)
            let elapsed = clock.now - cut
            #expect(elapsed >= .milliseconds(1300) && elapsed < .seconds(3), "expired after \(elapsed)")
            #expect(await iterator.next() == nil)
            #expect(client.state == .expired)
            await TestSupport.expectError(.sessionExpired) { try await client.exists(path: path) }
            await TestSupport.expectError(.sessionExpired) { try await ownWatch.event() }
            #expect(try await TestSupport.event(of: observerWatch, within: .seconds(5)) == ZooKeeperWatchEvent(type: .nodeDeleted, path: path))
            proxy.resume()
            await client.close()
            #expect(client.state == .expired)
        }
    }

    @Test("The server answers a reconnection with timeout 0 for a session closed meanwhile: expired")
    func serverReportedExpiry() async throws {
        let (server, proxy, client) = try await self.proxiedClient(sessionTimeout: .seconds(4))
        defer { Task { await proxy.stop() } }
        let path = TestSupport.uniquePath()
        try await client.create(path: path, mode: .ephemeral)
        let events = client.sessionEvents()
        var iterator = events.makeAsyncIterator()
        _ = await iterator.next()

        proxy.pause()
        // Another client takes the session over (the server closes the first connection) and ends it.
        let thief = try await ZooKeeperClient.connect(
            configuration: TestSupport.configuration(server.connectionString),
            resuming: client.session
        )
        #expect(thief.session.id == client.session.id)
        #expect(await iterator.next() == .disconnected)
        await thief.close()
        let clock = ContinuousClock()
        let back = clock.now
        proxy.resume()
        #expect(await iterator.next() == .expired)
        // Long before the client's own deadline (4 s): the server said so.
        #expect(clock.now - back < .seconds(2))
        await TestSupport.expectError(.sessionExpired) { try await client.exists(path: path) }
        let stat = try await TestSupport.withClient(server.connectionString) { observer in
            try await observer.exists(path: path)
        }
        #expect(stat == nil)
        await client.close()
    }

    @Test("Requests time out with OPERATIONTIMEOUT while no reply comes, and work again afterwards")
    func requestTimeout() async throws {
        let (_, proxy, client) = try await self.proxiedClient(sessionTimeout: .seconds(4), requestTimeout: .milliseconds(600))
        defer { Task { await proxy.stop() } }
        let path = TestSupport.uniquePath()
        proxy.pause()
        let clock = ContinuousClock()
        let start = clock.now
        await TestSupport.expectError(.operationTimeout) { try await client.exists(path: path) }
        #expect(clock.now - start < .seconds(2))
        proxy.resume()
        var result: ZooKeeperStat?? = nil
        for _ in 0..<20 where result == nil {
            result = try? await client.exists(path: path)
        }
        #expect(result == .some(nil))
        await client.close()
    }
}
