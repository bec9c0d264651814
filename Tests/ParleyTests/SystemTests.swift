import AsyncHTTPClient
import NIOHTTP1
import Foundation
import ParleyCore
import ParleyTestSupport
import Testing

/// Gateway and backend on real sockets (port 0), talking JSON-RPC, over a SQLite file.
@Suite struct SystemTests {
    /// Runs `body` against a fresh gateway and backend, stopping both afterwards.
    static func withSystem(_ engine: Engine, _ body: (TestGateway) async throws -> Void) async throws {
        let folder = try TemporaryDirectory()
        defer { folder.remove() }
        let backend = try await TestBackend.start(database: engine.freshDatabase(in: folder))
        let gateway = try await TestGateway.start(backendPort: backend.port)
        do {
            try await body(gateway)
        } catch {
            await gateway.stop()
            await backend.stop()
            throw error
        }
        await gateway.stop()
        await backend.stop()
    }

    @Test(arguments: Engine.allCases)
    func registerLoginPostListLogoutAndGuest(engine: Engine) async throws {
        try await Self.withSystem(engine) { gateway in
        let api = gateway.url + "/api/v1"
        let credentials = #"{"username":"Zoë","password":"a long password"}"#

        #expect(try await http(.POST, api + "/accounts", json: credentials).status == 201)
        let taken = try await http(.POST, api + "/accounts", json: #"{"username":"ZOË","password":"another one"}"#)
        #expect(taken.status == 409)
        #expect(taken.errorCode == "username_taken")

        let login = try await http(.POST, api + "/sessions", json: credentials)
        #expect(login.status == 200)
        let token = try #require(try login.json()["token"] as? String)
        #expect(login.header("set-cookie")?.contains("parley_session=\(token)") == true)

        let me = try await http(.GET, api + "/me", token: token)
        #expect(try me.json()["username"] as? String == "Zoë")

        let post = try await http(.POST, api + "/posts", json: #"{"title":"Hello 世界","body":"emoji 🎉 and <b>tags</b>"}"#, token: token)
        #expect(post.status == 201)
        #expect(try post.json()["author"] as? String == "Zoë")

        #expect(try await http(.DELETE, api + "/sessions/current", token: token).status == 204)
        #expect(try await http(.GET, api + "/me", token: token).status == 401)

        let guest = try await http(.POST, api + "/posts", json: #"{"title":"anon","body":"from a guest"}"#)
        #expect(try guest.json()["author"] as? String == "Guest")

        let list = try await http(.GET, api + "/posts?limit=10")
        let posts = try #require(try list.json()["posts"] as? [[String: Any]])
        #expect(posts.map { $0["title"] as? String } == ["anon", "Hello 世界"])
        #expect(posts.last?["body"] as? String == "emoji 🎉 and <b>tags</b>")

        let page = try await http(.GET, gateway.url + "/")
        #expect(page.body.contains("emoji 🎉 and &lt;b&gt;tags&lt;/b&gt;"))
        }
    }

    @Test(arguments: Engine.allCases)
    func gatewaySurvivesTheBackendGoingAwayAndRecovers(engine: Engine) async throws {
        let folder = try TemporaryDirectory()
        defer { folder.remove() }
        let database = try await engine.freshDatabase(in: folder)
        var backend = try await TestBackend.start(database: database)
        let port = backend.port
        let gateway = try await TestGateway.start(backendPort: port)
        let api = gateway.url + "/api/v1"
        #expect(try await http(.POST, api + "/posts", json: #"{"title":"before","body":"the outage"}"#).status == 201)

        await backend.stop()
        let down = try await http(.POST, api + "/posts", json: #"{"title":"during","body":"the outage"}"#)
        #expect(down.status == 503)
        #expect(down.errorCode == "unavailable")
        #expect(try await http(.GET, api + "/posts").status == 503)
        let page = try await http(.GET, gateway.url + "/")
        #expect(page.status == 503)
        #expect(page.body.contains("unavailable"))
        #expect(try await http(.GET, gateway.url + "/healthz").status == 200)

        backend = try await TestBackend.start(database: database, port: port)
        let after = try await http(.POST, api + "/posts", json: #"{"title":"after","body":"the outage"}"#)
        #expect(after.status == 201)
        let titles = (try await http(.GET, api + "/posts").json()["posts"] as? [[String: Any]])?.map { $0["title"] as? String }
        #expect(titles == ["after", "before"])
        await gateway.stop()
        await backend.stop()
    }

    @Test func databaseStoppedUnderARunningBackendAndStartedAgain() async throws {
        let server = PostgresServer()
        try await server.start()
        let folder = try TemporaryDirectory()
        defer { folder.remove() }
        do {
            let backend = try await TestBackend.start(database: Engine.postgres.freshDatabase(in: folder, server: server))
            let gateway = try await TestGateway.start(backendPort: backend.port)
            let api = gateway.url + "/api/v1"
            #expect(try await http(.POST, api + "/posts", json: #"{"title":"before","body":"the outage"}"#).status == 201)

            try await server.stop()
            let down = try await http(.POST, api + "/posts", json: #"{"title":"during","body":"the outage"}"#)
            #expect(down.status == 503)
            #expect(down.errorCode == "unavailable")
            #expect(try await http(.GET, api + "/posts").status == 503)

            try await server.start()
            var status = 0
            for _ in 0..<60 where status != 201 {
                status = try await http(.POST, api + "/posts", json: #"{"title":"after","body":"the outage"}"#).status
                if status != 201 { try await Task.sleep(for: .milliseconds(500)) }
            }
            #expect(status == 201)
            let titles = (try await http(.GET, api + "/posts").json()["posts"] as? [[String: Any]])?.compactMap { $0["title"] as? String }
            #expect(titles == ["after", "before"])
            await gateway.stop()
            await backend.stop()
        } catch {
            await server.shutdown()
            throw error
        }
        await server.shutdown()
    }

    @Test func aBackendThatHangsUpMidRequestGivesA503() async throws {
        let backend = try await HangUpServer.start()
        let gateway = try await TestGateway.start(backendPort: backend.port)
        let response = try await http(.POST, gateway.url + "/api/v1/posts", json: #"{"title":"t","body":"b"}"#)
        #expect(response.status == 503)
        #expect(response.errorCode == "unavailable")
        #expect(try await http(.GET, gateway.url + "/healthz").status == 200)
        await gateway.stop()
        await backend.stop()
    }

    @Test func stalledAndBrokenClientsAreDisconnectedWithoutHarm() async throws {
        let folder = try TemporaryDirectory()
        defer { folder.remove() }
        let backend = try await TestBackend.start(dataDirectory: folder.path)
        let gateway = try await TestGateway.start(backendPort: backend.port, idleTimeout: .milliseconds(300))
        // Half an HTTP request, then silence: the gateway hangs up.
        let stalled = try await RawConnection.connect(port: gateway.port)
        try await stalled.send(Array("POST /api/v1/posts HTTP/1.1\r\nHost: x\r\nContent-Length: 40\r\n\r\n{\"title\"".utf8))
        #expect(await stalled.closedByPeer(within: .seconds(5)))
        // Garbage instead of HTTP: an error or a close, never a crash.
        let garbage = try await RawConnection.connect(port: gateway.port)
        try await garbage.send([0x16, 0x03, 0x01, 0x00, 0xFF] + Array(repeating: 0x00, count: 64) + Array("\r\n\r\n".utf8))
        #expect(await garbage.closedByPeer(within: .seconds(5)))
        // Broken body framing is the client's error: 400, or a close when the connection's
        // decoder gave up first; never the server's 500.
        let framings = [
            "Transfer-Encoding: chunked\r\n\r\nzz\r\n",
            "Transfer-Encoding: chunked\r\n\r\nffffffffffffffff\r\n",
            "Content-Length: 9223372036854775808\r\n\r\n{}",
        ]
        for framing in framings {
            let broken = try await RawConnection.connect(port: gateway.port)
            try await broken.send(Array("POST /api/v1/posts HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n\(framing)".utf8))
            let reply = await broken.reply(within: .seconds(5))
            #expect(reply.isEmpty || reply.hasPrefix("HTTP/1.1 400 "), "\(framing): \(reply)")
        }
        // Half a JSON-RPC message to the backend, then silence, is closed by the backend
        // (its idle timeout is 60 s: here it is enough that the gateway keeps working).
        let rpc = try await RawConnection.connect(port: backend.port)
        try await rpc.send(Array(#"{"method":"Board.List","params":[{"limit":"#.utf8))
        #expect(try await http(.POST, gateway.url + "/api/v1/posts", json: #"{"title":"still","body":"working"}"#).status == 201)
        try await rpc.channel.close()
        await gateway.stop()
        await backend.stop()
    }
}

/// The backend called by a client written in Go with `net/rpc/jsonrpc` (Debian's golang-go).
@Suite struct GoClientTests {
    @Test func goNetRPCJSONRPCClientTalksToTheBackend() async throws {
        guard let go = ["/usr/bin/go", "/usr/lib/go/bin/go"].first(where: FileManager.default.isExecutableFile(atPath:)) else {
            Issue.record("Go is not installed: apt-get install -y golang-go (scripts/test.sh does it)")
            return
        }
        let folder = try TemporaryDirectory()
        defer { folder.remove() }
        let backend = try await TestBackend.start(dataDirectory: folder.path)
        let source = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .appendingPathComponent("Fixtures/go-jsonrpc-client/main.go").path
        let process = Process()
        process.executableURL = URL(fileURLWithPath: go)
        process.arguments = ["run", source, "127.0.0.1:\(backend.port)"]
        process.environment = ["HOME": folder.path, "GOCACHE": folder.path + "/gocache", "GOPATH": folder.path + "/gopath",
                               "GO111MODULE": "off", "PATH": "/usr/bin:/bin"]
        let pipe = Pipe()
        process.standardOutput = pipe
        process.standardError = pipe
        try process.run()
        let output = try await Task.detached { try pipe.fileHandleForReading.readToEnd() ?? Data() }.value
        process.waitUntilExit()
        await backend.stop()
        let text = String(decoding: output, as: UTF8.self)
        #expect(process.terminationStatus == 0, "\(text)")
        let result = try #require(try JSONSerialization.jsonObject(with: Data((text.split(separator: "\n").last ?? "").utf8)) as? [String: Any])
        #expect(result["author"] as? String == "gopher")
        #expect((result["titles"] as? [[String: Any]])?.first?["title"] as? String == "From Go")
        #expect(result["wrong"] as? String == "invalid_credentials: Wrong username or password.")
        #expect((result["unknown"] as? String)?.contains("Board.Nope") == true)
    }
}
