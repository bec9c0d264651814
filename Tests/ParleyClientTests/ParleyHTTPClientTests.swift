#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import Foundation
import ParleyClient
import ParleyCore
import Testing

@Suite struct ParleyHTTPClientTests {
    /// Runs `body` and returns the `ParleyError` it threw, or nil.
    static func parleyError(_ body: () async throws -> Void) async -> ParleyError? {
        do {
            try await body()
            return nil
        } catch let error as ParleyError {
            return error
        } catch {
            Issue.record("not a ParleyError: \(error)")
            return nil
        }
    }

    @Test func unreachableGatewayIsUnavailable() async throws {
        let port = try TestSockets.closedPort()
        let client = try ParleyHTTPClient(gateway: "http://127.0.0.1:\(port)")
        let started = ContinuousClock.now
        let error = await Self.parleyError { _ = try await client.posts(limit: 5) }
        #expect(error?.code == .unavailable)
        #expect(error?.message.hasPrefix("cannot reach the gateway at http://127.0.0.1:\(port): ") == true)
        #expect(ContinuousClock.now - started < .seconds(5), "a refused connection is reported at once, not retried")
    }

    @Test func silentGatewayTimesOut() async throws {
        let (listener, port) = try TestSockets.makeListener()
        defer { close(listener) }
        let client = try ParleyHTTPClient(gateway: "http://127.0.0.1:\(port)", timeout: .milliseconds(300))
        let error = await Self.parleyError { _ = try await client.me(token: "t") }
        #expect(error?.code == .unavailable)
        #expect(error?.message.contains("cannot reach the gateway at http://127.0.0.1:\(port)") == true)
    }

    @Test func listPostsSendsTheQueryAndDecodes() async throws {
        let json = #"{"posts":[{"id":9,"author":"alice","title":"T","body":"B","createdAt":"2026-11-28T12:40:28.123Z"}],"next":8}"#
        let server = try CannedHTTPServer(responses: [CannedHTTPServer.response(status: "200 OK", json: json)])
        let client = try ParleyHTTPClient(gateway: server.url + "/")
        let page = try await client.posts(limit: 5, before: 10)
        #expect(page.posts.map(\.id) == [9])
        #expect(page.next == 8)
        let request = try #require(server.requests.first)
        #expect(request.hasPrefix("GET /api/v1/posts?limit=5&before=10 HTTP/1.1\r\n"))
        #expect(!request.lowercased().contains("authorization:"))
    }

    @Test func createPostSendsTokenAndJSON() async throws {
        let json = #"{"id":3,"author":"alice","title":"Hi","body":"there","createdAt":"2026-11-28T12:40:28.000Z"}"#
        let server = try CannedHTTPServer(responses: [CannedHTTPServer.response(status: "201 Created", json: json)])
        let client = try ParleyHTTPClient(gateway: server.url)
        let post = try await client.createPost(title: "Hi", body: "there", token: "secret-token")
        #expect(post.id == 3 && post.author == "alice")
        let request = try #require(server.requests.first)
        #expect(request.hasPrefix("POST /api/v1/posts HTTP/1.1\r\n"))
        #expect(request.contains("Authorization: Bearer secret-token\r\n"))
        #expect(request.lowercased().contains("content-type: application/json\r\n"))
        let body = try #require(request.components(separatedBy: "\r\n\r\n").last)
        let fields = try JSONSerialization.jsonObject(with: Data(body.utf8)) as? [String: String]
        #expect(fields == ["title": "Hi", "body": "there"])
    }

    @Test func errorBodyBecomesParleyError() async throws {
        let json = #"{"error":{"code":"username_taken","message":"That username is taken."}}"#
        let server = try CannedHTTPServer(responses: [CannedHTTPServer.response(status: "409 Conflict", json: json)])
        let client = try ParleyHTTPClient(gateway: server.url)
        let error = await Self.parleyError { _ = try await client.register(username: "alice", password: "password1") }
        #expect(error == ParleyError(.usernameTaken, "That username is taken."))
        let request = try #require(server.requests.first)
        #expect(request.hasPrefix("POST /api/v1/accounts HTTP/1.1\r\n"))
    }

    @Test func loginLogoutAndMe() async throws {
        let server = try CannedHTTPServer(responses: [
            CannedHTTPServer.response(status: "200 OK", json: #"{"token":"tok","username":"Alice","expiresAt":"2026-11-28T12:40:28.000Z"}"#),
            CannedHTTPServer.response(status: "200 OK", json: #"{"username":"Alice"}"#),
            "HTTP/1.1 204 No Content\r\nConnection: close\r\n\r\n",
            CannedHTTPServer.response(status: "401 Unauthorized", json: #"{"error":{"code":"unauthenticated","message":"You are not logged in."}}"#),
        ])
        let client = try ParleyHTTPClient(gateway: server.url)
        let login = try await client.login(username: "alice", password: "password1")
        #expect(login.token == "tok" && login.username == "Alice")
        #expect(try await client.me(token: login.token) == "Alice")
        try await client.logout(token: login.token)
        let error = await Self.parleyError { _ = try await client.me(token: login.token) }
        #expect(error?.code == .unauthenticated)
        let requests = server.requests
        #expect(requests.count == 4)
        #expect(requests[1].hasPrefix("GET /api/v1/me HTTP/1.1\r\n") && requests[1].contains("Authorization: Bearer tok\r\n"))
        #expect(requests[2].hasPrefix("DELETE /api/v1/sessions/current HTTP/1.1\r\n"))
    }

    @Test func oversizedAnswerIsRefused() async throws {
        let head = "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: \(2 * 1024 * 1024)\r\nConnection: close\r\n\r\n"
        let server = try CannedHTTPServer(responses: [head])
        let client = try ParleyHTTPClient(gateway: server.url)
        let error = await Self.parleyError { _ = try await client.posts() }
        #expect(error?.code == .tooLarge)
    }

    @Test func oversizedChunkedAnswerIsRefused() async throws {
        let chunk = String(repeating: "x", count: 64 * 1024)
        let chunked = String(repeating: "10000\r\n\(chunk)\r\n", count: 17) + "0\r\n\r\n"
        let head = "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\n"
        let server = try CannedHTTPServer(responses: [head + chunked])
        let client = try ParleyHTTPClient(gateway: server.url)
        let error = await Self.parleyError { _ = try await client.posts() }
        #expect(error?.code == .tooLarge)
    }

    @Test func undecodableAnswerIsInternal() async throws {
        let server = try CannedHTTPServer(responses: [CannedHTTPServer.response(status: "200 OK", json: "[1,2]")])
        let client = try ParleyHTTPClient(gateway: server.url)
        let error = await Self.parleyError { _ = try await client.posts() }
        #expect(error?.code == .internal)
    }

    @Test func invalidGatewayURL() {
        #expect(throws: ParleyError(.invalidInput, "not a gateway URL: localhost:8080 (expected something like http://127.0.0.1:8080)")) {
            try ParleyHTTPClient(gateway: "localhost:8080")
        }
    }
}
