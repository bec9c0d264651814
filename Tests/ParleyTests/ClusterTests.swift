import Foundation
import JSONRPC
import ParleyCore
import ParleyTestSupport
import Synchronization
import Testing
#if canImport(Glibc)
import Glibc
#endif

/// Issue 4 with real processes: ZooKeeper, backends electing a leader on one shared SQLite file,
/// a gateway following the election, clients posting through failovers.
@Suite(.enabled(if: ZooKeeperServer.isEnabled), .serialized)
struct ClusterTests {
    static let backendListening = #"backend \(JSON-RPC\) listening on 127\.0\.0\.1:(\d+)"#

    struct Backend {
        let process: ParleyProcess
        let port: Int
    }

    /// Starts a backend of the cluster on the shared data folder.
    static func backend(_ data: String, zookeeper: String, port: Int = 0) async throws -> Backend {
        let process = try ParleyProcess(["serve", "backend", "--rpc-port", "\(port)", "--data-dir", data, "--zookeeper", zookeeper])
        let bound = try await process.waitFor(Self.backendListening)
        return Backend(process: process, port: Int(bound)!)
    }

    /// ZooKeeper (tickTime 500 ms, so that 1.5 s sessions are allowed), backends on one shared
    /// SQLite file, and optionally a gateway following the election.
    struct Cluster {
        let zookeeper: ZooKeeperServer
        let folder: TemporaryDirectory
        var backends: [Backend?]
        let gateway: ParleyProcess?
        let api: String

        static func start(backends count: Int, gateway withGateway: Bool = true) async throws -> Cluster {
            let zookeeper = try ZooKeeperServer(tickTime: 500)
            try await zookeeper.start()
            let folder = try TemporaryDirectory()
            var backends: [Backend?] = []
            for _ in 0..<count {
                backends.append(try await ClusterTests.backend(folder.path + "/data", zookeeper: zookeeper.connectionString))
            }
            var gateway: ParleyProcess?
            var api = ""
            if withGateway {
                let process = try ParleyProcess(["serve", "gateway", "--http-port", "0", "--zookeeper", zookeeper.connectionString])
                api = try await process.waitFor(ProcessTests.listening) + "/api/v1"
                gateway = process
            }
            return Cluster(zookeeper: zookeeper, folder: folder, backends: backends, gateway: gateway, api: api)
        }

        /// Stops every process gracefully (the gateway must exit with status 0), then ZooKeeper.
        func stop() async throws {
            if let gateway = self.gateway {
                gateway.signal(SIGTERM)
                #expect(try await gateway.wait() == 0)
            }
            for backend in self.backends.compactMap({ $0 }) {
                backend.process.signal(SIGCONT)
                backend.process.signal(SIGTERM)
                _ = try await backend.process.wait()
            }
            await self.zookeeper.shutdown()
            self.folder.remove()
        }
    }

    /// What a backend answers a read: `nil` when it serves (leads), else the error code.
    static func probe(_ port: Int) async -> String? {
        let client = JSONRPCClient(configuration: .init(host: "127.0.0.1", port: port, connectTimeout: .seconds(1), requestTimeout: .seconds(2)))
        defer { Task { await client.shutdown() } }
        do {
            let _: BackendAPI.PostPage = try await client.call(BackendAPI.list, BackendAPI.ListParams(limit: 1, before: nil), as: BackendAPI.PostPage.self)
            return nil
        } catch let error as JSONRPCClientError {
            if case .remote(let code, _) = error.code { return code }
            return "unreachable"
        } catch {
            return "unreachable"
        }
    }

    /// The index of the backend that leads, waiting up to `timeout` for one.
    static func leader(of backends: [Backend?], timeout: Duration = .seconds(15)) async throws -> Int {
        let deadline = ContinuousClock.now + timeout
        while ContinuousClock.now < deadline {
            for (index, backend) in backends.enumerated() {
                if let backend, await Self.probe(backend.port) == nil { return index }
            }
            try await Task.sleep(for: .milliseconds(100))
        }
        throw ProcessError("no backend leads")
    }

    /// Posts `title-N` through the gateway until stopped; keeps the titles the gateway acknowledged.
    final class Poster: Sendable {
        let acknowledged = Mutex<[String]>([])
        let failures = Mutex(0)
        let stop = Mutex(false)

        func run(_ api: String, prefix: String) async {
            var number = 0
            while !self.stop.withLock({ $0 }) {
                number += 1
                let title = "\(prefix)-\(number)"
                if let result = try? await http(.POST, api + "/posts", json: #"{"title":"\#(title)","body":"b"}"#), result.status == 201 {
                    self.acknowledged.withLock { $0.append(title) }
                } else {
                    self.failures.withLock { $0 += 1 }
                }
            }
        }
    }

    /// Every post title on the board, newest first, following the pages.
    static func allTitles(_ api: String) async throws -> [String] {
        var titles: [String] = []
        var cursor: String?
        repeat {
            let page = try await http(.GET, api + "/posts?limit=100" + (cursor.map { "&before=\($0)" } ?? "")).json()
            titles += (page["posts"] as? [[String: Any]] ?? []).compactMap { $0["title"] as? String }
            cursor = page["next"] as? String
        } while cursor != nil
        return titles
    }

    @Test func killingTheLeaderTwiceLosesNoAcknowledgedPostAndDuplicatesNone() async throws {
        var cluster = try await Cluster.start(backends: 3)
        let api = cluster.api
        let poster = Poster()
        let posting = Task { await poster.run(api, prefix: "post") }
        var leaders: [Int] = []
        for _ in 0..<2 {
            let leader = try await Self.leader(of: cluster.backends)
            leaders.append(leader)
            try await Task.sleep(for: .milliseconds(700))  // posts go to this leader
            cluster.backends[leader]?.process.signal(SIGKILL)
            _ = try await cluster.backends[leader]?.process.wait()
            cluster.backends[leader] = nil
        }
        let last = try await Self.leader(of: cluster.backends)
        leaders.append(last)
        try await Task.sleep(for: .milliseconds(700))
        poster.stop.withLock { $0 = true }
        await posting.value

        let acknowledged = poster.acknowledged.withLock { $0 }
        let titles = try await Self.allTitles(api)
        #expect(Set(leaders).count == 3, "a new leader each time: \(leaders)")
        #expect(acknowledged.count > 10, "the client kept posting: \(acknowledged.count) acknowledged")
        #expect(Set(titles).count == titles.count, "no post is stored twice")
        let missing = Set(acknowledged).subtracting(titles)
        #expect(missing.isEmpty, "acknowledged posts lost: \(missing.sorted())")
        #expect(cluster.gateway?.process.isRunning == true)
        try await cluster.stop()
    }

    @Test func aLeaderPausedPastItsSessionCannotWriteWhenItWakes() async throws {
        let cluster = try await Cluster.start(backends: 2, gateway: false)
        let backends = cluster.backends.compactMap { $0 }
        let first = try await Self.leader(of: backends)
        // The follower names the leader, once its watch of the election has seen it (it may answer
        // "no leader is known" for a moment after the leader is elected).
        let follower = JSONRPCClient(configuration: .init(host: "127.0.0.1", port: backends[1 - first].port))
        let named = "the leader is 127.0.0.1:\(backends[first].port)"
        var refusal: JSONRPCClientError?
        let deadline = ContinuousClock.now + .seconds(5)
        repeat {
            refusal = await #expect(throws: JSONRPCClientError.self) {
                _ = try await follower.call(BackendAPI.list, BackendAPI.ListParams(limit: 1, before: nil), as: BackendAPI.PostPage.self)
            }
            if case .remote(_, let message)? = refusal?.code, message.contains(named) { break }
            try await Task.sleep(for: .milliseconds(100))
        } while ContinuousClock.now < deadline
        await follower.shutdown()
        if case .remote(let code, let message)? = refusal?.code {
            #expect(code == "not_leader")
            #expect(message.contains(named), "\(message)")
        } else {
            Issue.record("expected not_leader from the follower, got \(String(describing: refusal))")
        }
        let paused = backends[first]
        paused.process.signal(SIGSTOP)
        // The other backend takes over once the paused one's session expires.
        let second = 1 - first
        _ = try await Self.leader(of: [backends[second]])

        // The old leader wakes up and is asked to write at once.
        paused.process.signal(SIGCONT)
        let client = JSONRPCClient(configuration: .init(host: "127.0.0.1", port: paused.port, requestTimeout: .seconds(5)))
        let error = await #expect(throws: JSONRPCClientError.self) {
            let _: Post = try await client.call(
                BackendAPI.post, BackendAPI.PostParams(token: nil, title: "from the past", body: "must not be stored"), as: Post.self
            )
        }
        if case .remote(let code, _)? = error?.code {
            #expect(code == "not_leader")
        } else {
            Issue.record("expected not_leader, got \(String(describing: error))")
        }
        await client.shutdown()
        // The new leader still leads, and nothing of the old one was stored.
        #expect(await Self.probe(backends[second].port) == nil)
        let readBack = JSONRPCClient(configuration: .init(host: "127.0.0.1", port: backends[second].port))
        let page = try await readBack.call(BackendAPI.list, BackendAPI.ListParams(limit: 10, before: nil), as: BackendAPI.PostPage.self)
        #expect(page.posts.isEmpty)
        await readBack.shutdown()
        try await cluster.stop()
    }

    @Test func withZooKeeperDownWritesStopWithAClearMessageAndResumeWhenItReturns() async throws {
        let cluster = try await Cluster.start(backends: 2)
        let (api, zookeeper) = (cluster.api, cluster.zookeeper)
        _ = try await Self.leader(of: cluster.backends)
        #expect(try await http(.POST, api + "/posts", json: #"{"title":"before","body":"b"}"#).status == 201)

        await zookeeper.kill()
        // No backend can know it leads: writes stop, with a clear 503.
        var refused: HTTPResult?
        let deadline = ContinuousClock.now + .seconds(15)
        while ContinuousClock.now < deadline {
            let result = try await http(.POST, api + "/posts", json: #"{"title":"during","body":"b"}"#)
            if result.status == 503 { refused = result; break }
            try await Task.sleep(for: .milliseconds(200))
        }
        #expect(refused?.errorCode == "unavailable")
        #expect(refused?.body.contains("No backend leads right now") == true, "\(refused?.body ?? "no 503")")
        #expect(cluster.gateway?.process.isRunning == true)

        try await zookeeper.start()
        var resumed = false
        let again = ContinuousClock.now + .seconds(20)
        while ContinuousClock.now < again, !resumed {
            resumed = try await http(.POST, api + "/posts", json: #"{"title":"after","body":"b"}"#).status == 201
            if !resumed { try await Task.sleep(for: .milliseconds(200)) }
        }
        #expect(resumed, "writes resume when ZooKeeper is back")
        try await cluster.stop()
    }

    @Test func clusterUpStatusDown() async throws {
        let folder = try TemporaryDirectory()
        defer { folder.remove() }
        let dir = folder.path + "/cluster"
        let up = try await ParleyProcess.run(["cluster", "up", "--dir", dir, "--backends", "2"])
        #expect(up.status == 0, "\(up.output)")
        let gateway = try #require(up.output.split(separator: "\n").first { $0.hasPrefix("gateway: ") }?.dropFirst("gateway: ".count))
        #expect(try await http(.POST, gateway + "/api/v1/posts", json: #"{"title":"t","body":"b"}"#).status == 201)

        let status = try await ParleyProcess.run(["cluster", "status", "--dir", dir])
        #expect(status.output.components(separatedBy: "backend (leader)").count == 2, "\(status.output)")
        #expect(status.output.components(separatedBy: "backend (follower)").count == 2, "\(status.output)")
        #expect(!status.output.contains("stopped"))
        let again = try await ParleyProcess.run(["cluster", "up", "--dir", dir])
        #expect(again.status != 0)
        #expect(again.output.contains("already runs"))

        let down = try await ParleyProcess.run(["cluster", "down", "--dir", dir])
        #expect(down.status == 0, "\(down.output)")
        let pids = status.output.split(separator: "\n").compactMap { line in
            line.range(of: "pid ").flatMap { Int32(line[$0.upperBound...].split(separator: " ")[0]) }
        }
        #expect(pids.count == 5)
        for pid in pids {
            // Gone, or a zombie nobody reaped (the orphans of `up` belong to PID 1, which may not reap).
            let state = (try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8))?.split(separator: ")").last?.split(separator: " ").first
            #expect(state == nil || state == "Z", "pid \(pid) still runs")
        }
    }
}
