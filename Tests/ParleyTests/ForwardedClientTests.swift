import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import NIOCore
import ParleyStorage
import ParleyTestSupport
import Testing

@testable import ParleyGateway

/// Behind a trusted reverse proxy, the per-address limit of failed logins counts the client that
/// `X-Forwarded-For` names; from any other peer the header is ignored. Over real sockets (the
/// test client's address is 127.0.0.1).
@Suite struct ForwardedClientTests {
    func withGateway(trustedProxies: Set<String>, _ body: @escaping @Sendable (any TestClientProtocol) async throws -> Void) async throws {
        let folder = try TemporaryDirectory()
        defer { folder.remove() }
        let storage = try await SQLiteStorage.open(dataDirectory: folder.path)
        let router = try await buildGatewayRouter(backend: LocalBackend(storage: storage), configuration: .init(trustedProxies: trustedProxies))
        do {
            try await Application(router: router).test(.live, body)
        } catch {
            try await storage.close()
            throw error
        }
        try await storage.close()
    }

    /// A failed login for `username` (unknown, so only the address's limit is shared), through
    /// a proxy that says `forwardedFor`, is answered `expected`.
    static func login(
        _ client: any TestClientProtocol, _ username: String, forwardedFor: String, is expected: HTTPResponse.Status,
        sourceLocation: SourceLocation = #_sourceLocation
    ) async throws {
        var headers: HTTPFields = [.contentType: "application/json"]
        headers[HTTPField.Name("X-Forwarded-For")!] = forwardedFor
        let body = ByteBuffer(string: #"{"username":"\#(username)","password":"wrong password"}"#)
        let status = try await client.execute(uri: "/api/v1/sessions", method: .post, headers: headers, body: body).status
        #expect(status == expected, "\(username) via \(forwardedFor)", sourceLocation: sourceLocation)
    }

    @Test func aTrustedProxyNamesTheClient() async throws {
        try await self.withGateway(trustedProxies: ["127.0.0.1", "10.0.0.2"]) { client in
            // Through two trusted proxies: the client is the rightmost address that is not one.
            for index in 0..<50 {
                try await Self.login(client, "ghost\(index)", forwardedFor: "198.51.100.7, 10.0.0.2", is: .unauthorized)
            }
            try await Self.login(client, "ghost50", forwardedFor: "198.51.100.7", is: .tooManyRequests)
            // What the client wrote left of that is not believed.
            try await Self.login(client, "ghost51", forwardedFor: "203.0.113.5, 198.51.100.7", is: .tooManyRequests)
            // Another client behind the same proxy has its own limit.
            try await Self.login(client, "ghost52", forwardedFor: "203.0.113.5", is: .unauthorized)
        }
    }

    @Test func anUntrustedPeerCannotNameAnotherClient() async throws {
        try await self.withGateway(trustedProxies: ["10.0.0.2"]) { client in
            for index in 0..<50 {
                try await Self.login(client, "ghost\(index)", forwardedFor: "198.51.100.\(index)", is: .unauthorized)
            }
            // Every attempt counted against 127.0.0.1, whatever the header said.
            try await Self.login(client, "ghost50", forwardedFor: "203.0.113.5", is: .tooManyRequests)
        }
    }

    @Test func addressesAreComparedInOneSpelling() throws {
        #expect(normalizedIPAddress("::1") == normalizedIPAddress("0:0::1"))
        #expect(normalizedIPAddress("127.0.0.1") == "127.0.0.1")
        #expect(normalizedIPAddress("proxy.example") == nil)
        #expect(normalizedIPAddress("") == nil)
    }
}
