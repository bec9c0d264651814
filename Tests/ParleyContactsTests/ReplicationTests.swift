import Foundation
import Testing
@testable import ParleyContacts

/// Three replicas on loopback, with 100 ms heartbeats.
@Suite("Replication between three live replicas", .serialized)
struct ReplicationTests {
    @Test("A change on one replica appears on all; status shows clock, entries and peers")
    func changePropagates() async throws {
        let trio = try await Trio.start()
        #expect(await trio.waitForMesh())
        try await trio.a.client("Beloin").update(contact: "Juan", phone: "85999999999")
        try await trio.c.client("Beloin").update(contact: "中文", phone: "+86 10 1234")
        #expect(await trio.waitForConvergence())
        for replica in trio.all {
            let listed = try await replica.client("Beloin").list()
            #expect(listed.map(\.name) == ["Juan", "中文"])
            #expect(listed.map(\.phone) == ["85999999999", "+86 10 1234"])
        }
        try await trio.b.client("Beloin").delete(contact: "Juan")
        #expect(try await eventually { try await trio.a.client("Beloin").list().map(\.name) == ["中文"] })
        #expect(await trio.waitForConvergence())
        let status = await trio.b.replica.status()
        #expect(status.name == "B")
        #expect(status.entries == 1)
        #expect(status.tombstones == 1)
        #expect(status.peersUp == ["A", "C"])
        #expect(status.clock > 0)
        await trio.stop()
    }

    @Test("A client moves to the next server when one does not answer")
    func clientFailover() async throws {
        let directory = try temporaryDirectory()
        let replica = try await RunningReplica.start(name: "A", directory: directory)
        defer { try? FileManager.default.removeItem(atPath: directory) }
        // A port that accepts nothing: bind a replica and stop it, keeping its port number.
        let gone = try await RunningReplica.start(name: "gone", directory: directory)
        await gone.stop()
        let client = ContactsClient(
            user: "Beloin", servers: [("127.0.0.1", gone.port), ("127.0.0.1", replica.port)], timeout: .seconds(1)
        )
        try await client.update(contact: "Juan", phone: "1")
        #expect(try await client.list().map(\.name) == ["Juan"])
        let nobody = ContactsClient(user: "Beloin", servers: [("127.0.0.1", gone.port)], timeout: .milliseconds(500))
        await #expect(throws: ContactsClientError.self) { try await nobody.list() }
        await #expect(throws: ContactsFieldError.tooLong(.contactName, byteCount: 256)) {
            try await client.update(contact: String(repeating: "a", count: 256), phone: "1")
        }
        await replica.stop()
    }

    @Test("A crashed replica restarted on its data dir keeps its data and catches up")
    func restartCatchesUp() async throws {
        var trio = try await Trio.start()
        #expect(await trio.waitForMesh())
        for index in 0..<20 {
            try await trio.b.client("Beloin").update(contact: "before-\(index)", phone: "\(index)")
        }
        #expect(await trio.waitForConvergence())
        let newestStamp = await trio.b.state.changes.map(\.entry.stamp).max() ?? 0
        let port = trio.b.port
        await trio.b.stop()
        for index in 0..<30 {
            try await trio.a.client("Beloin").update(contact: "while-down-\(index)", phone: "\(index)")
        }
        try await trio.c.client("Beloin").delete(contact: "before-0")
        trio.b = try await RunningReplica.start(name: "B", port: port, peers: [trio.a.asPeer], directory: trio.directory)
        // Its own file kept the data, and the clock is past every stamp it held.
        #expect(await trio.b.state.clock >= newestStamp)
        #expect(await trio.b.state.liveCount >= 20)
        #expect(await trio.waitForConvergence())
        let listed = try await trio.b.client("Beloin").list()
        #expect(listed.count == 49)
        #expect(!listed.contains { $0.name == "before-0" })
        #expect(await trio.waitForMesh())
        await trio.stop()
    }

    @Test("A cut peer link heals and the replicas resync")
    func cutLinkHeals() async throws {
        let trio = try await Trio.start()
        #expect(await trio.waitForMesh())
        await trio.c.replica.disconnect(peer: "A")
        await trio.a.replica.disconnect(peer: "C")
        try await trio.a.client("Beloin").update(contact: "Juan", phone: "1")
        try await trio.c.client("Beloin").update(contact: "Ana", phone: "2")
        #expect(await trio.waitForMesh())
        #expect(await trio.waitForConvergence())
        #expect(try await trio.c.client("Beloin").list().map(\.name) == ["Ana", "Juan"])
        await trio.stop()
    }

    @Test("Concurrent conflicting changes on two replicas end identical on all three")
    func concurrentConflicts() async throws {
        let trio = try await Trio.start()
        #expect(await trio.waitForMesh())
        try await withThrowingTaskGroup(of: Void.self) { group in
            for (replica, tag) in [(trio.a, "1"), (trio.c, "2")] {
                group.addTask {
                    let client = replica.client("Beloin")
                    for round in 0..<15 {
                        try await client.update(contact: "Juan", phone: "\(tag)\(round)")
                        if round % 4 == 3 {
                            try await client.delete(contact: "Juan")
                        }
                        try await client.update(contact: "Ana-\(round % 3)", phone: tag)
                    }
                }
            }
            try await group.waitForAll()
        }
        #expect(await trio.waitForConvergence())
        let lists = [
            try await trio.a.client("Beloin").list(), try await trio.b.client("Beloin").list(),
            try await trio.c.client("Beloin").list(),
        ]
        #expect(lists[0].map(\.name) == lists[1].map(\.name) && lists[1].map(\.name) == lists[2].map(\.name))
        #expect(lists[0].map(\.phone) == lists[1].map(\.phone) && lists[1].map(\.phone) == lists[2].map(\.phone))
        await trio.stop()
    }

    @Test("A delete never comes back after a resync from a replica that missed it")
    func deleteStaysDeleted() async throws {
        var trio = try await Trio.start()
        #expect(await trio.waitForMesh())
        try await trio.a.client("Beloin").update(contact: "Juan", phone: "85999999999")
        #expect(await trio.waitForConvergence())
        let port = trio.c.port
        await trio.c.stop()
        try await trio.a.client("Beloin").delete(contact: "Juan")
        #expect(try await eventually { try await trio.b.client("Beloin").list().isEmpty })
        // C still holds the old Update; on restart it asks for updates and answers asks with it.
        trio.c = try await RunningReplica.start(
            name: "C", port: port, peers: [trio.a.asPeer, trio.b.asPeer], directory: trio.directory
        )
        #expect(await trio.waitForMesh())
        #expect(await trio.waitForConvergence())
        for replica in trio.all {
            #expect(try await replica.client("Beloin").list().isEmpty)
            #expect(await replica.state.entry(user: .name("Beloin"), contact: .name("Juan"))?.isDeleted == true)
        }
        await trio.stop()
    }

    @Test("A peer that does not read is disconnected when its queue overflows, others unharmed; it resyncs on return")
    func overflowDisconnects() async throws {
        let directory = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let a = try await RunningReplica.start(name: "A", directory: directory, heartbeat: .seconds(5), peerQueueLimit: 64 * 1024)
        let b = try await RunningReplica.start(name: "B", peers: [a.asPeer], directory: directory, heartbeat: .seconds(5))
        // S greets as a peer, then never reads: the kernel's buffers fill, then A's queue.
        let slow = try RawSocket(port: a.port, receiveBuffer: 4096)
        try slow.send(SeedBytes.serverGreeting("S"))
        _ = try slow.receive(256)
        #expect(await eventually { await a.replica.status().peersUp == ["B", "S"] })
        let count = 12_000
        var frames: [UInt8] = SeedBytes.clientGreeting("Beloin")
        for index in 0..<count {
            frames += SeedBytes.clientUpdate("c\(index)", "\(index)")
        }
        let client = try RawSocket(port: a.port, timeoutMilliseconds: 20_000)
        try client.send(frames)
        #expect(try client.listAll().count == count)
        #expect(await eventually { await a.replica.status().peersUp == ["B"] })
        #expect(await eventually { await b.state.liveCount == count })
        #expect(await a.state.hasSameEntries(as: b.state))
        // S comes back and asks: it gets every entry, then the closing HeartBeat.
        let back = try RawSocket(port: a.port, timeoutMilliseconds: 20_000)
        try back.send(SeedBytes.serverGreeting("S") + [5])
        _ = try back.receive(256)
        var updates = 0
        while true {
            let type = try back.receive(1)[0]
            if type == 3 {
                _ = try back.receive(5)
                break
            }
            #expect(type == 1)
            _ = try back.receive(536)
            updates += 1
        }
        #expect(updates == count)
        await a.stop()
        await b.stop()
    }
}
