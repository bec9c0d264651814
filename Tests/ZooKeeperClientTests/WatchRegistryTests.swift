import Testing
@testable import ZooKeeperClient

@Suite("WatchRegistry")
struct WatchRegistryTests {
    @Test("Notifications complete the watches of the tables ZooKeeper fires for them")
    func routing() {
        var registry = WatchRegistry()
        let existing = ZooKeeperWatch(path: "/a", kind: .exists)
        let missing = ZooKeeperWatch(path: "/b", kind: .exists)
        let data = ZooKeeperWatch(path: "/a", kind: .data)
        let children = ZooKeeperWatch(path: "/a", kind: .children)
        registry.add(existing, nodeExists: true)
        registry.add(missing, nodeExists: false)
        registry.add(data, nodeExists: true)
        registry.add(children, nodeExists: true)
        #expect(registry.setWatchesRequest(relativeZxid: 5) == .setWatches(relativeZxid: 5, data: ["/a"], exist: ["/b"], child: ["/a"]))

        #expect(registry.take(for: .nodeChildrenChanged, path: "/a").map(ObjectIdentifier.init) == [ObjectIdentifier(children)])
        #expect(registry.take(for: .nodeCreated, path: "/b").map(ObjectIdentifier.init) == [ObjectIdentifier(missing)])
        #expect(Set(registry.take(for: .nodeDeleted, path: "/a").map(ObjectIdentifier.init)) == [ObjectIdentifier(existing), ObjectIdentifier(data)])
        #expect(registry.isEmpty)
        #expect(registry.setWatchesRequest(relativeZxid: 5) == nil)
    }

    @Test("A watch delivers its first event to every waiter, and only the first")
    func oneShot() async throws {
        let watch = ZooKeeperWatch(path: "/a", kind: .data)
        async let waiting = watch.event()
        try await Task.sleep(for: .milliseconds(10))
        watch.complete(.success(ZooKeeperWatchEvent(type: .nodeDataChanged, path: "/a")))
        watch.complete(.success(ZooKeeperWatchEvent(type: .nodeDeleted, path: "/a")))
        #expect(try await waiting == ZooKeeperWatchEvent(type: .nodeDataChanged, path: "/a"))
        #expect(try await watch.event() == ZooKeeperWatchEvent(type: .nodeDataChanged, path: "/a"))
        #expect(watch.isCompleted)
    }

    @Test("Waiting on a watch can be cancelled; the watch stays set")
    func cancellation() async throws {
        let watch = ZooKeeperWatch(path: "/a", kind: .exists)
        let task = Task { try await watch.event() }
        try await Task.sleep(for: .milliseconds(10))
        task.cancel()
        await #expect(throws: CancellationError.self) { try await task.value }
        #expect(!watch.isCompleted)
        watch.complete(.failure(.sessionExpired("gone")))
        await #expect(throws: ZooKeeperError.self) { try await watch.event() }
    }
}
