import ParleyTestSupport
import NIOCore
import Testing
@testable import ZooKeeperClient

/// Operations against one real ZooKeeper 3.8 (shared by the run).
@Suite("Against a real ZooKeeper: operations", .enabled(if: ZooKeeperServer.isEnabled))
struct LiveOperationTests {
    @Test("create, exists, getData, setData, getChildren, delete")
    func crud() async throws {
        let server = try await ZooKeeperServer.shared()
        try await TestSupport.withClient(server.connectionString) { client in
            let path = TestSupport.uniquePath()
            #expect(try await client.exists(path: path) == nil)
            #expect(try await client.create(path: path, data: Array("one".utf8)) == path)

            let (data, stat) = try await client.getData(path: path)
            #expect(String(decoding: data, as: UTF8.self) == "one")
            #expect(stat.version == 0)
            #expect(stat.dataLength == 3)
            #expect(!stat.isEphemeral)
            #expect(try await client.exists(path: path) == stat)

            let updated = try await client.setData(path: path, data: Array("two".utf8), version: 0)
            #expect(updated.version == 1)
            #expect(try await client.getData(path: path).data == Array("two".utf8))

            try await client.create(path: path + "/b")
            try await client.create(path: path + "/a", data: [])
            #expect(try await client.getChildren(path: path).sorted() == ["a", "b"])
            #expect(try await client.exists(path: path)?.numChildren == 2)

            try await client.delete(path: path + "/a")
            try await client.delete(path: path + "/b", version: 0)
            try await client.delete(path: path, version: 1)
            #expect(try await client.exists(path: path) == nil)
            #expect(client.lastZxid > 0)
        }
    }

    @Test("NODEEXISTS, NONODE, BADVERSION, NOTEMPTY, NOCHILDRENFOREPHEMERALS, bad paths")
    func errors() async throws {
        let server = try await ZooKeeperServer.shared()
        try await TestSupport.withClient(server.connectionString) { client in
            let path = TestSupport.uniquePath()
            try await client.create(path: path)
            await TestSupport.expectError(.nodeExists) { try await client.create(path: path) }
            await TestSupport.expectError(.noNode) { try await client.getData(path: path + "/missing") }
            await TestSupport.expectError(.noNode) { try await client.create(path: path + "/no/parent") }
            await TestSupport.expectError(.noNode) { try await client.delete(path: path + "/missing") }
            await TestSupport.expectError(.noNode) { try await client.getChildren(path: path + "/missing") }
            await TestSupport.expectError(.badVersion) { try await client.setData(path: path, data: [1], version: 7) }
            await TestSupport.expectError(.badVersion) { try await client.delete(path: path, version: 3) }
            try await client.create(path: path + "/child")
            await TestSupport.expectError(.notEmpty) { try await client.delete(path: path) }
            let ephemeral = try await client.create(path: path + "/e", mode: .ephemeral)
            await TestSupport.expectError(.noChildrenForEphemerals) { try await client.create(path: ephemeral + "/x") }
            await TestSupport.expectError(.badArguments) { try await client.exists(path: "relative") }
            await TestSupport.expectError(.badArguments) { try await client.exists(path: "/trailing/") }

            do {
                try await client.create(path: path)
            } catch let error as ZooKeeperError {
                #expect(error.path == path)
                #expect(error.description == "ZooKeeper NODEEXISTS (-110) for \(path): create")
            }
        }
    }

    @Test("createParents and ensurePath make the missing ancestors")
    func parents() async throws {
        let server = try await ZooKeeperServer.shared()
        try await TestSupport.withClient(server.connectionString) { client in
            let root = TestSupport.uniquePath()
            let leaf = try await client.create(path: root + "/a/b/n_", data: [1], mode: .ephemeralSequential, createParents: true)
            #expect(leaf.hasPrefix(root + "/a/b/n_"))
            #expect(try await client.exists(path: root + "/a")?.isEphemeral == false)
            try await client.ensurePath(root + "/a/b")
            try await client.ensurePath(root + "/x/y/z")
            #expect(try await client.exists(path: root + "/x/y/z") != nil)
        }
    }

    @Test("Ephemeral sequential znodes are numbered in order of creation, owned by the session")
    func ephemeralSequentialOrder() async throws {
        let server = try await ZooKeeperServer.shared()
        let election = TestSupport.uniquePath()
        try await TestSupport.withClient(server.connectionString) { first in
            try await TestSupport.withClient(server.connectionString) { second in
                try await first.ensurePath(election)
                var created: [String] = []
                for client in [first, second, first, second, first] {
                    created.append(try await client.create(path: election + "/n_", data: [], mode: .ephemeralSequential))
                }
                let numbers = created.compactMap { ZooKeeperClient.sequenceNumber(of: $0) }
                #expect(numbers == [0, 1, 2, 3, 4])
                #expect(created[0] == election + "/n_0000000000")
                let children = try await first.getChildren(path: election)
                #expect(children.sorted() == created.map { String($0.split(separator: "/").last!) })
                let owner = try await first.exists(path: created[1])?.ephemeralOwner
                #expect(owner == second.session.id)
            }
        }
    }

    @Test("An ephemeral znode vanishes as soon as its session is closed")
    func ephemeralVanishesOnClose() async throws {
        let server = try await ZooKeeperServer.shared()
        let path = TestSupport.uniquePath()
        try await TestSupport.withClient(server.connectionString) { observer in
            let owner = try await ZooKeeperClient.connect(configuration: TestSupport.configuration(server.connectionString))
            try await owner.create(path: path, data: [], mode: .ephemeral)
            let (stat, watch) = try await observer.existsAndWatch(path: path)
            #expect(stat?.ephemeralOwner == owner.session.id)
            await owner.close()
            #expect(owner.state == .closed)
            let event = try await TestSupport.event(of: watch, within: .seconds(2))
            #expect(event == ZooKeeperWatchEvent(type: .nodeDeleted, path: path))
            #expect(try await observer.exists(path: path) == nil)
            await TestSupport.expectError(.sessionExpired) { try await owner.exists(path: path) }
        }
    }

    @Test("Data bigger than the server accepts is refused before sending")
    func oversizedData() async throws {
        let server = try await ZooKeeperServer.shared()
        try await TestSupport.withClient(server.connectionString) { client in
            let path = TestSupport.uniquePath()
            await TestSupport.expectError(.badArguments) {
                try await client.create(path: path, data: [UInt8](repeating: 1, count: 1_100_000))
            }
            // The connection is still fine.
            try await client.create(path: path, data: [UInt8](repeating: 1, count: 500_000))
            #expect(try await client.getData(path: path).data.count == 500_000)
        }
    }

    @Test("Connecting to a port where nothing listens fails with CONNECTIONLOSS naming the server")
    func connectFailure() async throws {
        let port = try TestProcesses.freePort()
        do {
            _ = try await ZooKeeperClient.connect(configuration: TestSupport.configuration("127.0.0.1:\(port)"))
            Issue.record("connected to nothing")
        } catch let error as ZooKeeperError {
            #expect(error.code == .connectionLoss)
            #expect(error.detail.contains("127.0.0.1:\(port)"))
        }
    }
}
