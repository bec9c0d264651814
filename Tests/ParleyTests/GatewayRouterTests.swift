import ParleyTestSupport
import Foundation
import Hummingbird
import HummingbirdTesting
import ParleyCore
import ParleyStorage
import Testing

@testable import ParleyGateway

/// The gateway's routes through Hummingbird's router test client, over the real backend
/// services and a temporary SQLite database (no JSON-RPC hop; the live tests add it).
@Suite struct GatewayRouterTests {
    /// Runs `body` with a test client of a fresh gateway.
    func withGateway(_ body: @escaping @Sendable (any TestClientProtocol) async throws -> Void) async throws {
        let folder = try TemporaryDirectory()
        defer { folder.remove() }
        let storage = try await SQLiteStorage.open(dataDirectory: folder.path)
        let router = try await buildGatewayRouter(backend: LocalBackend(storage: storage), configuration: .init())
        let app = Application(router: router)
        do {
            try await app.test(.router, body)
        } catch {
            try await storage.close()
            throw error
        }
        try await storage.close()
    }

    static let json: HTTPFields = [.contentType: "application/json"]

    static func body(_ text: String) -> ByteBuffer { ByteBuffer(string: text) }

    static func errorCode(_ response: TestResponse) -> String? {
        try? JSONDecoder().decode(ErrorBody.self, from: response.body).error.code
    }

    /// Registers and logs in; returns the bearer token.
    static func login(_ client: some TestClientProtocol, _ name: String = "alice") async throws -> String {
        let credentials = #"{"username":"\#(name)","password":"correct horse"}"#
        try await client.execute(uri: "/api/v1/accounts", method: .post, headers: json, body: body(credentials)) { response in
            #expect(response.status == .created)
        }
        return try await client.execute(uri: "/api/v1/sessions", method: .post, headers: json, body: body(credentials)) { response in
            #expect(response.status == .ok)
            let cookie = response.headers[.setCookie] ?? ""
            #expect(cookie.contains("parley_session="))
            #expect(cookie.contains("HttpOnly"))
            #expect(cookie.contains("SameSite=Lax"))
            return try JSONDecoder().decode(BackendAPI.LoginResult.self, from: response.body).token
        }
    }

    @Test func registerLoginMePostLogout() async throws {
        try await self.withGateway { client in
            let token = try await Self.login(client)
            let auth: HTTPFields = [.contentType: "application/json", .authorization: "Bearer \(token)"]
            try await client.execute(uri: "/api/v1/me", method: .get, headers: auth) { response in
                #expect(response.status == .ok)
                #expect(String(buffer: response.body) == #"{"username":"alice"}"#)
            }
            try await client.execute(uri: "/api/v1/posts", method: .post, headers: auth, body: Self.body(#"{"title":"Hi","body":"First!"}"#)) { response in
                #expect(response.status == .created)
                let post = try JSONDecoder().decode(Post.self, from: response.body)
                #expect(post.author == "alice")
                #expect(post.title == "Hi")
            }
            try await client.execute(uri: "/api/v1/sessions/current", method: .delete, headers: auth) { response in
                #expect(response.status == .noContent)
            }
            try await client.execute(uri: "/api/v1/me", method: .get, headers: auth) { response in
                #expect(response.status == .unauthorized)
                #expect(Self.errorCode(response) == "unauthenticated")
            }
            // A token that expired or was revoked is an error, not a silent Guest post.
            try await client.execute(uri: "/api/v1/posts", method: .post, headers: auth, body: Self.body(#"{"title":"t","body":"b"}"#)) { response in
                #expect(response.status == .unauthorized)
            }
        }
    }

    @Test func guestPostsAndCaseInsensitiveUsernames() async throws {
        try await self.withGateway { client in
            _ = try await Self.login(client, "Alice")
            try await client.execute(uri: "/api/v1/accounts", method: .post, headers: Self.json, body: Self.body(#"{"username":"aLiCe","password":"whatever123"}"#)) { response in
                #expect(response.status == .conflict)
                #expect(Self.errorCode(response) == "username_taken")
            }
            try await client.execute(uri: "/api/v1/posts", method: .post, headers: Self.json, body: Self.body(#"{"title":"anon","body":"hello"}"#)) { response in
                #expect(response.status == .created)
                let post = try JSONDecoder().decode(Post.self, from: response.body)
                #expect(post.author == "Guest")
            }
            try await client.execute(uri: "/api/v1/sessions", method: .post, headers: Self.json, body: Self.body(#"{"username":"alice","password":"wrong password"}"#)) { response in
                #expect(response.status == .unauthorized)
                #expect(Self.errorCode(response) == "invalid_credentials")
            }
            try await client.execute(uri: "/api/v1/sessions", method: .post, headers: Self.json, body: Self.body(#"{"username":"nobody","password":"wrong password"}"#)) { response in
                #expect(response.status == .unauthorized)
                #expect(Self.errorCode(response) == "invalid_credentials")
            }
        }
    }

    @Test func postsArePagedNewestFirst() async throws {
        try await self.withGateway { client in
            for index in 1...25 {
                try await client.execute(uri: "/api/v1/posts", method: .post, headers: Self.json, body: Self.body(#"{"title":"post \#(index)","body":"b"}"#)) { response in
                    #expect(response.status == .created)
                }
            }
            var titles: [String] = []
            var cursor: String? = nil
            repeat {
                let uri = "/api/v1/posts?limit=10" + (cursor.map { "&before=\($0)" } ?? "")
                cursor = try await client.execute(uri: uri, method: .get) { response in
                    #expect(response.status == .ok)
                    struct Page: Decodable { var posts: [Post]; var next: String? }
                    let page = try JSONDecoder().decode(Page.self, from: response.body)
                    titles += page.posts.map(\.title)
                    return page.next
                }
            } while cursor != nil
            #expect(titles == (1...25).reversed().map { "post \($0)" })
            let raw = try await client.execute(uri: "/api/v1/posts?limit=100", method: .get) { String(buffer: $0.body) }
            #expect(raw.contains(#""next":null"#))
        }
    }

    @Test(arguments: [
        ("/api/v1/posts", "{not json", "application/json", HTTPResponse.Status.badRequest, "invalid_input"),
        ("/api/v1/posts", #"{"title":"x"}"#, "application/json", .badRequest, "invalid_input"),
        ("/api/v1/posts", #"{"title":"x","body":"y"}"#, "text/plain", .unsupportedMediaType, "unsupported_media_type"),
        ("/api/v1/posts", #"{"title":"x","body":"y"}"#, "application/x-www-form-urlencoded", .unsupportedMediaType, "unsupported_media_type"),
        ("/api/v1/posts", #"{"title":"\#(String(repeating: "t", count: 201))","body":"y"}"#, "application/json", .contentTooLarge, "too_large"),
        ("/api/v1/posts", #"{"title":"x","body":"\#(String(repeating: "b", count: 70_000))"}"#, "application/json", .contentTooLarge, "too_large"),
        ("/api/v1/accounts", #"{"username":"<b>x</b>","password":"long enough"}"#, "application/json", .badRequest, "invalid_input"),
        ("/api/v1/accounts", #"{"username":"bob","password":"short"}"#, "application/json", .badRequest, "invalid_input"),
        ("/api/v1/accounts", #"{"username":123,"password":"long enough"}"#, "application/json", .badRequest, "invalid_input"),
    ])
    func badInputGetsAClearError(path: String, body: String, contentType: String, status: HTTPResponse.Status, code: String) async throws {
        try await self.withGateway { client in
            try await client.execute(uri: path, method: .post, headers: [.contentType: contentType], body: Self.body(body)) { response in
                #expect(response.status == status)
                #expect(Self.errorCode(response) == code)
            }
            // Nothing was stored by the bad request.
            let page = try await client.execute(uri: "/api/v1/posts", method: .get) { $0.body }
            let json = try JSONSerialization.jsonObject(with: Data(page.readableBytesView)) as? [String: Any]
            #expect((json?["posts"] as? [Any])?.isEmpty == true)
            #expect(json?["next"] is NSNull)
        }
    }

    @Test func invalidUTF8AndBadQueriesAndUnknownPaths() async throws {
        try await self.withGateway { client in
            var invalid = ByteBuffer(string: #"{"title":"a"#)
            invalid.writeBytes([0xC3, 0x28, 0xFF])
            invalid.writeString(#"","body":"b"}"#)
            try await client.execute(uri: "/api/v1/posts", method: .post, headers: Self.json, body: invalid) { response in
                #expect(response.status == .badRequest)
                #expect(Self.errorCode(response) == "invalid_input")
            }
            for query in ["limit=0", "limit=101", "limit=ten", "before=abc", "before=-5"] {
                try await client.execute(uri: "/api/v1/posts?\(query)", method: .get) { response in
                    #expect(response.status == .badRequest, "\(query)")
                }
            }
            try await client.execute(uri: "/api/v1/nope", method: .get) { response in
                #expect(response.status == .notFound)
                #expect(Self.errorCode(response) == "not_found")
            }
            try await client.execute(uri: "/api/v1/me", method: .get, headers: [.authorization: "Basic Zm9vOmJhcg=="]) { response in
                #expect(response.status == .unauthorized)
            }
            try await client.execute(uri: "/healthz", method: .get) { response in
                #expect(response.status == .ok)
            }
        }
    }

    @Test func openAPIDocumentListsExactlyTheRoutes() async throws {
        let document = try Pages.openAPIDocument()
        let pages = try await Pages.load()
        let codes = Codes(verifier: nil)
        let web = WebController<GatewayContext>(backend: UnusedBackend(), codes: codes, cookie: .init(secure: false), pages: pages)
        let contacts = ContactsController(web: web, servers: [])
        let controller = APIController<GatewayContext>(
            backend: UnusedBackend(), codes: codes, cookie: .init(secure: false), openAPIDocument: document,
            extraRoutes: contacts.apiRoutes
        )
        // `:name` in a route is `{name}` in OpenAPI.
        let routed = Set(controller.routes.map { route in
            let path = route.path.split(separator: "/").map { $0.hasPrefix(":") ? "{\($0.dropFirst())}" : String($0) }
            return "\(route.method.rawValue.lowercased()) /\(path.joined(separator: "/"))"
        })
        #expect(Set(OpenAPIPaths.operations(in: document)) == routed)
        try await self.withGateway { client in
            try await client.execute(uri: "/api/v1/openapi.yaml", method: .get) { response in
                #expect(response.status == .ok)
                #expect(String(buffer: response.body) == document)
            }
        }
    }
}

/// Reads `METHOD /path` pairs from the `paths:` section of an OpenAPI YAML document
/// (two-space indentation, as ours is written).
enum OpenAPIPaths {
    static func operations(in document: String) -> [String] {
        var operations: [String] = []
        var inPaths = false
        var path: String?
        for line in document.split(separator: "\n", omittingEmptySubsequences: false) {
            if line.hasPrefix("paths:") { inPaths = true; continue }
            if inPaths, !line.hasPrefix(" "), !line.isEmpty { break }
            if line.hasPrefix("  /"), line.hasSuffix(":") {
                path = String(line.dropFirst(2).dropLast())
            } else if let path, line.hasPrefix("    "), !line.hasPrefix("     ") {
                let key = line.trimmingCharacters(in: .whitespaces).split(separator: ":").first.map(String.init) ?? ""
                if ["get", "post", "put", "patch", "delete"].contains(key) { operations.append("\(key) \(path)") }
            }
        }
        return operations
    }
}

/// A backend for tests that only need the gateway's route table.
struct UnusedBackend: Backend {
    func register(_ params: BackendAPI.RegisterParams) async throws -> User { throw ParleyError(.unavailable, "unused") }
    func login(_ params: BackendAPI.LoginParams) async throws -> BackendAPI.LoginResult { throw ParleyError(.unavailable, "unused") }
    func check(_ params: BackendAPI.CheckParams) async throws -> BackendAPI.Availability { throw ParleyError(.unavailable, "unused") }
    func resetPassword(_ params: BackendAPI.ResetParams) async throws { throw ParleyError(.unavailable, "unused") }
    func profile(token: String) async throws -> Profile { throw ParleyError(.unavailable, "unused") }
    func updateProfile(_ params: BackendAPI.ProfileParams) async throws -> Profile { throw ParleyError(.unavailable, "unused") }
    func session(token: String) async throws -> BackendAPI.SessionInfo { throw ParleyError(.unavailable, "unused") }
    func logout(token: String) async throws { throw ParleyError(.unavailable, "unused") }
    func post(_ params: BackendAPI.PostParams) async throws -> Post { throw ParleyError(.unavailable, "unused") }
    func list(_ params: BackendAPI.ListParams) async throws -> BackendAPI.PostPage { throw ParleyError(.unavailable, "unused") }
    func listJSON(_ params: BackendAPI.ListParams) async throws -> ByteBuffer { throw ParleyError(.unavailable, "unused") }
    func postJSON(_ params: BackendAPI.PostParams) async throws -> ByteBuffer { throw ParleyError(.unavailable, "unused") }
}
