import Foundation
import Logging
import NIOCore
@testable import ParleyContacts

/// Bytes built by hand from the seed's tables, independently of the codec.
enum SeedBytes {
    /// `text`'s UTF-8 padded with NUL to `width`.
    static func field(_ text: String, _ width: Int) -> [UInt8] {
        let bytes = Array(text.utf8)
        precondition(bytes.count <= width)
        return bytes + [UInt8](repeating: 0, count: width - bytes.count)
    }

    static func name(_ text: String) -> [UInt8] { self.field(text, 256) }
    static func phone(_ text: String) -> [UInt8] { self.field(text, 20) }

    static func clock(_ value: UInt32) -> [UInt8] {
        [UInt8(value >> 24), UInt8((value >> 16) & 0xFF), UInt8((value >> 8) & 0xFF), UInt8(value & 0xFF)]
    }

    static func clientGreeting(_ user: String) -> [UInt8] { [2] + self.name(user) }
    static func serverGreeting(_ name: String) -> [UInt8] { [1] + self.name(name) }
    static func clientUpdate(_ contact: String, _ phone: String) -> [UInt8] { [1] + self.name(contact) + self.phone(phone) }
    static func clientDelete(_ contact: String) -> [UInt8] { [2] + self.name(contact) }
    static let listAll: [UInt8] = [3]

    static func peerUpdate(_ clock: UInt32, _ user: String, _ contact: String, _ phone: String) -> [UInt8] {
        [1] + self.clock(clock) + self.name(user) + self.name(contact) + self.phone(phone)
    }

    static func peerDelete(_ clock: UInt32, _ user: String, _ contact: String) -> [UInt8] {
        [2] + self.clock(clock) + self.name(user) + self.name(contact)
    }
}

extension ContactsText {
    /// A name for tests (valid by construction).
    static func name(_ text: String) -> ContactsText {
        try! ContactsText(text, field: .contactName)
    }

    /// A phone number for tests.
    static func phone(_ text: String) -> ContactsText {
        try! ContactsText(text, field: .phoneNumber)
    }
}

/// A deterministic random number generator (SplitMix64), so failures reproduce.
struct SeededGenerator: RandomNumberGenerator {
    private var state: UInt64

    init(seed: UInt64) {
        self.state = seed
    }

    mutating func next() -> UInt64 {
        self.state &+= 0x9E37_79B9_7F4A_7C15
        var z = self.state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}

/// A logger that prints nothing unless `PARLEY_TEST_LOGS` is set.
func testLogger(_ label: String) -> Logger {
    if ProcessInfo.processInfo.environment["PARLEY_TEST_LOGS"] != nil {
        var logger = Logger(label: label)
        logger.logLevel = .debug
        return logger
    }
    return Logger(label: label, factory: { _ in SwiftLogNoOpLogHandler() })
}

/// A fresh temporary folder.
func temporaryDirectory() throws -> String {
    let url = FileManager.default.temporaryDirectory.appendingPathComponent("parley-contacts-\(UUID().uuidString)")
    try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
    return url.path
}

/// Polls `condition` until it holds or `timeout` passes; returns whether it held.
func eventually(timeout: Duration = .seconds(10), _ condition: () async throws -> Bool) async rethrows -> Bool {
    let deadline = ContinuousClock.now + timeout
    while ContinuousClock.now < deadline {
        if try await condition() {
            return true
        }
        try? await Task.sleep(for: .milliseconds(20))
    }
    return try await condition()
}

/// A replica running in a task, stopped by cancelling it (like a crash: nothing more is written).
final class RunningReplica: Sendable {
    let replica: ContactsReplica
    let task: Task<Void, any Error>
    let port: Int

    private init(replica: ContactsReplica, task: Task<Void, any Error>, port: Int) {
        self.replica = replica
        self.task = task
        self.port = port
    }

    /// Starts a replica with short test timings; `port` 0 picks a free one.
    static func start(
        name: String,
        port: Int = 0,
        peers: [ContactsPeer] = [],
        directory: String,
        heartbeat: Duration = .milliseconds(100),
        readTimeout: Duration = .milliseconds(400),
        peerQueueLimit: Int = 16 << 20
    ) async throws -> RunningReplica {
        let configuration = ContactsReplicaConfiguration(
            name: name, host: "127.0.0.1", port: port, peers: peers, dataDirectory: directory,
            heartbeatInterval: heartbeat, readTimeout: readTimeout,
            reconnectDelay: .milliseconds(30), maximumReconnectDelay: .milliseconds(200),
            peerQueueLimit: peerQueueLimit, logger: testLogger("contacts.\(name)")
        )
        let replica = try await ContactsReplica(configuration: configuration)
        let task = Task { try await replica.run() }
        guard let bound = await replica.boundAddress()?.port else {
            task.cancel()
            _ = await task.result
            throw ContactsClientError.noServers
        }
        return RunningReplica(replica: replica, task: task, port: bound)
    }

    /// This replica as a peer of others.
    var asPeer: ContactsPeer {
        ContactsPeer(name: self.replica.configuration.name, host: "127.0.0.1", port: self.port)
    }

    /// A client for `user` talking to this replica only.
    func client(_ user: String) -> ContactsClient {
        ContactsClient(user: user, servers: [("127.0.0.1", self.port)], timeout: .seconds(5))
    }

    var state: ContactsState {
        get async { await self.replica.core.currentState }
    }

    /// Stops at once, like a crash.
    func stop() async {
        self.task.cancel()
        _ = await self.task.result
    }
}

/// Three replicas, A, B and C, linked in a full mesh: B dials A, C dials A and B.
struct Trio {
    let directory: String
    var a: RunningReplica
    var b: RunningReplica
    var c: RunningReplica

    static func start() async throws -> Trio {
        let directory = try temporaryDirectory()
        let a = try await RunningReplica.start(name: "A", directory: directory)
        let b = try await RunningReplica.start(name: "B", peers: [a.asPeer], directory: directory)
        let c = try await RunningReplica.start(name: "C", peers: [a.asPeer, b.asPeer], directory: directory)
        return Trio(directory: directory, a: a, b: b, c: c)
    }

    var all: [RunningReplica] { [self.a, self.b, self.c] }

    /// Waits until every replica has every peer up.
    func waitForMesh() async -> Bool {
        await eventually {
            for replica in self.all where await replica.replica.status().peersUp.count < 2 {
                return false
            }
            return true
        }
    }

    /// Waits until all replicas hold the same entries; returns whether they did.
    func waitForConvergence(timeout: Duration = .seconds(10)) async -> Bool {
        await eventually(timeout: timeout) {
            let states = [await self.a.state, await self.b.state, await self.c.state]
            return states[0].hasSameEntries(as: states[1]) && states[1].hasSameEntries(as: states[2])
        }
    }

    func stop() async {
        for replica in self.all {
            await replica.stop()
        }
        try? FileManager.default.removeItem(atPath: self.directory)
    }
}
