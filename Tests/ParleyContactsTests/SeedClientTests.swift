import Foundation
import Testing
@testable import ParleyContacts

/// Clients and peers written from the seed's tables, on raw sockets, and bad input.
@Suite("Seed wire compatibility and bad input", .serialized)
struct SeedClientTests {
    /// Runs `body` with a replica named `contact-server-1` (heartbeats every 5 s, so that none
    /// comes between the frames a test reads), then stops it and removes its folder.
    static func withReplica(_ body: (RunningReplica) async throws -> Void) async throws {
        let directory = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let replica = try await RunningReplica.start(name: "contact-server-1", directory: directory, heartbeat: .seconds(5))
        do {
            try await body(replica)
        } catch {
            await replica.stop()
            throw error
        }
        await replica.stop()
    }

    /// A raw socket greeted as the peer `contact-server-2`, the replica's name answer read.
    static func peer(of replica: RunningReplica) throws -> RawSocket {
        let peer = try RawSocket(port: replica.port)
        try peer.send(SeedBytes.serverGreeting("contact-server-2"))
        #expect(try peer.receive(256) == SeedBytes.name("contact-server-1"))
        return peer
    }

    @Test("A raw-socket client round-trips Update, Delete and ListAll")
    func rawClientRoundTrip() async throws {
        let directory = try temporaryDirectory()
        let replica = try await RunningReplica.start(name: "contact-server-1", directory: directory)
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let socket = try RawSocket(port: replica.port)
        try socket.send(SeedBytes.clientGreeting("Beloin"))
        try socket.send(SeedBytes.clientUpdate("Juan", "85999999999"))
        try socket.send(SeedBytes.clientUpdate("Ana", "+55 (85) 1234"))
        try socket.send(SeedBytes.clientUpdate("中文", "1"))
        let listed = try socket.listAll()
        #expect(listed.map(\.0) == ["Ana", "Juan", "中文"])
        #expect(listed.map(\.1) == ["+55 (85) 1234", "85999999999", "1"])
        try socket.send(SeedBytes.clientDelete("Juan"))
        #expect(try socket.listAll().map(\.0) == ["Ana", "中文"])
        // Another user sees only their own list.
        let other = try RawSocket(port: replica.port)
        try other.send(SeedBytes.clientGreeting("Someone"))
        #expect(try other.listAll().isEmpty)
        await replica.stop()
    }

    @Test("A client that sends its requests and then shuts down its side still gets the answers")
    func answersAfterHalfClose() async throws {
        try await Self.withReplica { replica in
            let client = try RawSocket(port: replica.port)
            try client.send(SeedBytes.clientGreeting("Beloin") + SeedBytes.clientUpdate("Juan", "85999999999") + [3])
            client.shutdownWrite()
            #expect(try client.receive(4) == [0, 0, 0, 1])
            let entry = try client.receive(276)
            #expect(RawSocket.text(entry[0..<256]) == "Juan" && RawSocket.text(entry[256..<276]) == "85999999999")
        }
    }

    @Test("A peer's clock near the top of its range is skipped, the link kept: local changes still win afterwards")
    func clockAtTheTopIsSkipped() async throws {
        try await Self.withReplica { replica in
            let peer = try Self.peer(of: replica)
            let top = ContactsPeerMessage.clockLimit
            try peer.send(SeedBytes.peerUpdate(.max, "Beloin", "X", "999"))
            try peer.send([3, 1] + SeedBytes.clock(top))
            try peer.send([4] + SeedBytes.clock(.max))
            try peer.send(SeedBytes.peerDelete(top, "Beloin", "Y"))
            // The link is open: a frame after those is applied.
            try peer.send(SeedBytes.peerUpdate(top - 1, "Beloin", "Z", "1"))
            #expect(await eventually { await replica.state.liveCount == 1 })
            #expect(await replica.state.clock == top)
            #expect(await replica.state.entry(user: .name("Beloin"), contact: .name("X")) == nil)
            // A client's later change to Z (a smaller number) wins: its stamp is above the peer's.
            let client = try RawSocket(port: replica.port)
            try client.send(SeedBytes.clientGreeting("Beloin"))
            try client.send(SeedBytes.clientUpdate("Z", "0"))
            #expect(try client.listAll().map(\.1) == ["0"])
        }
    }

    @Test("A raw-socket peer: name answer, Update with Clock 11, AskForUpdate answered with Updates, Deletes, HeartBeat")
    func rawPeer() async throws {
        try await Self.withReplica { replica in
            let peer = try Self.peer(of: replica)
            try peer.send(SeedBytes.peerUpdate(11, "Beloin", "Juan", "85999999999"))
            try peer.send(SeedBytes.peerUpdate(12, "Beloin", "Ana", "1"))
            try peer.send(SeedBytes.peerDelete(13, "Beloin", "Ana"))
            #expect(await eventually { let state = await replica.state; return state.liveCount == 1 && state.tombstoneCount == 1 })
            let client = try RawSocket(port: replica.port)
            try client.send(SeedBytes.clientGreeting("Beloin"))
            #expect(try client.listAll().map(\.0) == ["Juan"])
            #expect(await replica.state.entry(user: .name("Beloin"), contact: .name("Juan"))?.stamp == 11)
            #expect(await replica.state.clock >= 14)

            try peer.send([5])
            var frames: [[UInt8]] = []
            while true {
                let type = try peer.receive(1)[0]
                switch type {
                case 1: frames.append([1] + (try peer.receive(536)))
                case 2: frames.append([2] + (try peer.receive(516)))
                case 3: frames.append([3] + (try peer.receive(5)))
                default: Issue.record("unexpected type \(type)")
                }
                if type == 3 { break }
            }
            #expect(frames.count == 3)
            #expect(frames.contains(SeedBytes.peerUpdate(11, "Beloin", "Juan", "85999999999")))
            #expect(frames.contains(SeedBytes.peerDelete(13, "Beloin", "Ana")))
            #expect(frames.last?.prefix(2) == [3, 1])
        }
    }

    @Test("Bad input closes only its own connection; other connections and the data are untouched")
    func badInput() async throws {
        let directory = try temporaryDirectory()
        let replica = try await RunningReplica.start(name: "A", directory: directory, readTimeout: .milliseconds(300))
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let good = try RawSocket(port: replica.port)
        try good.send(SeedBytes.clientGreeting("Beloin"))
        try good.send(SeedBytes.clientUpdate("Juan", "85999999999"))
        #expect(try good.listAll().count == 1)

        func expectClosed(_ bytes: [UInt8], _ comment: Comment) throws {
            let socket = try RawSocket(port: replica.port)
            try socket.send(bytes)
            #expect(socket.isClosedByPeer(), comment)
        }
        let greeting = SeedBytes.clientGreeting("Beloin")
        try expectClosed(greeting + [9], "unknown client type")
        try expectClosed([7] + SeedBytes.name("x"), "unknown greeting kind")
        try expectClosed(greeting + [1] + [0xC3, 0x28] + [UInt8](repeating: 0, count: 254) + SeedBytes.phone("1"), "invalid UTF-8")
        try expectClosed(greeting + SeedBytes.clientUpdate("", "1"), "empty contact name")
        try expectClosed(SeedBytes.clientGreeting(""), "empty user name")
        try expectClosed(greeting + SeedBytes.clientUpdate("Juan", "call me"), "bad phone number")
        try expectClosed(greeting + Array(SeedBytes.clientUpdate("Juan", "0").prefix(120)), "stalled half frame")
        try expectClosed(Array(greeting.prefix(10)), "stalled greeting")
        try expectClosed(SeedBytes.serverGreeting("peer") + [42], "unknown peer type")

        // A peer link skips a whole Update with an invalid field and stays open.
        let peer = try RawSocket(port: replica.port)
        try peer.send(SeedBytes.serverGreeting("B"))
        _ = try peer.receive(256)
        let invalid = [1] + SeedBytes.clock(50) + SeedBytes.name("Beloin") + [0xFF] + [UInt8](repeating: 0, count: 255)
            + SeedBytes.phone("1")
        try peer.send(invalid + SeedBytes.peerUpdate(51, "Beloin", "Ana", "2"))
        #expect(await eventually { await replica.state.liveCount == 2 })

        #expect(try good.listAll().map(\.0) == ["Ana", "Juan"])
        #expect(await replica.state.liveCount == 2)
        #expect(await replica.state.entry(user: .name("Beloin"), contact: .name("Juan"))?.phone == .phone("85999999999"))
        await replica.stop()
    }

    @Test("Stopping while connections are still arriving: every accepted one is closed, nothing traps")
    func stopWhileAccepting() async throws {
        let directory = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        for round in 1...10 {
            let replica = try await RunningReplica.start(name: "A\(round)", directory: directory + "/\(round)")
            // Connections the replica accepts but whose task has not started when it stops.
            let sockets = try (0..<64).map { _ in try RawSocket(port: replica.port, timeoutMilliseconds: 5000) }
            await replica.stop()
            for socket in sockets {
                #expect(socket.isClosedByPeer())
            }
        }
    }
}
