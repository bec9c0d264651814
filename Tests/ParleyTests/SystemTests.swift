import AsyncHTTPClient
import NIOHTTP1
import Foundation
import ParleyCore
import Testing

/// Gateway and backend on real sockets (port 0), talking JSON-RPC, over a SQLite file.
@Suite struct SystemTests {
    /// Runs `body` against a fresh gateway and backend, stopping both afterwards.
    static func withSystem(_ body: (TestGateway) async throws -> Void) async throws {
        let folder = try TemporaryDirectory()
        defer { folder.remove() }
        let backend = try await TestBackend.start(dataDirectory: folder.path)
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

    @Test func registerLoginPostListLogoutAndGuest() async throws {
        try await Self.withSystem { gateway in
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

    @Test func gatewaySurvivesTheBackendGoingAwayAndRecovers() async throws {
        let folder = try TemporaryDirectory()
        defer { folder.remove() }
        var backend = try await TestBackend.start(dataDirectory: folder.path)
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

        backend = try await TestBackend.start(dataDirectory: folder.path, port: port)
        let after = try await http(.POST, api + "/posts", json: #"{"title":"after","body":"the outage"}"#)
        #expect(after.status == 201)
        let titles = (try await http(.GET, api + "/posts").json()["posts"] as? [[String: Any]])?.map { $0["title"] as? String }
        #expect(titles == ["after", "before"])
        await gateway.stop()
        await backend.stop()
    }
}
