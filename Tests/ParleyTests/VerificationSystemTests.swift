import Foundation
import Logging
import ParleyCore
import ParleyTestSupport
import ParleyVerifier
import RedisClient
import SMTPClient
import Testing

/// Issue 5 end to end on real sockets: HTTP to a gateway, JSON-RPC to a backend, gRPC to a
/// verifier that keeps codes in memory or in a real Redis and mails them through a real SMTP server
/// (aiosmtpd); each code is read from the mail the SMTP server received.
@Suite(.enabled(if: SMTPTestServer.isEnabled && RedisServer.isEnabled))
struct VerificationSystemTests {
    enum Store: String, CaseIterable, Sendable { case memory, redis }

    struct System {
        let api: String
        let smtp: SMTPTestServer

        /// The code in the newest mail to `address` (in any case).
        func code(to address: String) async throws -> String {
            let messages = try await self.smtp.messages()
            let message = try #require(messages.last { $0.rcptTos.contains { $0.lowercased() == address.lowercased() } })
            return try #require(VerificationSubject.code(message.subject))
        }

        func post(_ path: String, _ json: String, token: String? = nil) async throws -> HTTPResult {
            try await http(.POST, self.api + path, json: json, token: token)
        }
    }

    /// A verifier (gRPC, port 0) over `store`, mailing through aiosmtpd; a backend and a gateway
    /// that reach it through one gRPC client. No resend cooldown, so that a register-then-reset of
    /// one address fits in a test.
    func withSystem(_ store: Store, validity: Duration = .seconds(180), _ body: (System) async throws -> Void) async throws {
        try await SMTPTestServer.run { smtp in
            var quiet = Logger(label: "test")
            quiet.logLevel = .critical
            var redis: RedisClient?
            let codeStore: any CodeStore
            switch store {
            case .memory:
                codeStore = MemoryCodeStore()
            case .redis:
                let server = try await RedisServer.shared()
                let client = RedisClient(configuration: .init(host: "127.0.0.1", port: await server.port, password: server.password))
                redis = client
                codeStore = RedisCodeStore(redis: client)
            }
            let mailer = SMTPMailer(client: SMTPClient(configuration: .init(host: "127.0.0.1", port: await smtp.port, security: .none)))
            let rules = VerificationCodes.Configuration(
                validity: validity, resendCooldown: .milliseconds(1), keyPrefix: "parley-test:\(UUID().uuidString):"
            )
            let verifier = VerifierServer(
                host: "127.0.0.1", port: 0, codes: VerificationCodes(store: codeStore, mailer: mailer, configuration: rules, logger: quiet),
                logger: quiet
            )
            let running = RunningGroup([verifier])
            let client = try VerifierClient(host: "127.0.0.1", port: try await verifier.boundPort(), logger: quiet)
            let connection = RunningGroup([client])
            let folder = try TemporaryDirectory()
            defer { folder.remove() }
            let backend = try await TestBackend.start(dataDirectory: folder.path, verifier: client)
            let gateway = try await TestGateway.start(backendPort: backend.port, verifier: client)
            do {
                try await body(System(api: gateway.url + "/api/v1", smtp: smtp))
            } catch {
                await gateway.stop()
                await backend.stop()
                await connection.stop()
                await running.stop()
                await redis?.shutdown()
                throw error
            }
            await gateway.stop()
            await backend.stop()
            await connection.stop()
            await running.stop()
            await redis?.shutdown()
        }
    }

    @Test(arguments: Store.allCases)
    func registerAndResetWithCodesFromTheMail(store: Store) async throws {
        try await self.withSystem(store) { system in
            var response = try await system.post("/verification-codes", #"{"email":"Nia@Example.org","purpose":"register"}"#)
            #expect(response.status == 202, "\(response.body)")
            let code = try await system.code(to: "Nia@example.org")
            response = try await system.post("/accounts", #"{"username":"nia","password":"password 1","email":"nia@example.org","code":"\#(code)"}"#)
            #expect(response.status == 201, "\(response.body)")

            response = try await system.post("/sessions", #"{"username":"nia@example.org","password":"password 1"}"#)
            #expect(response.status == 200)
            let oldToken = try #require(try response.json()["token"] as? String)

            // Reset: a code to the account's address, a new password, every session ended.
            response = try await system.post("/verification-codes", #"{"email":"nia@example.org","purpose":"reset"}"#)
            #expect(response.status == 202)
            let resetCode = try await system.code(to: "Nia@example.org")
            response = try await system.post("/password-resets", #"{"email":"nia@example.org","code":"\#(resetCode)","password":"password 2"}"#)
            #expect(response.status == 204, "\(response.body)")
            #expect(try await http(.GET, system.api + "/me", token: oldToken).status == 401)
            #expect(try await system.post("/sessions", #"{"username":"nia","password":"password 1"}"#).status == 401)
            #expect(try await system.post("/sessions", #"{"username":"nia","password":"password 2"}"#).status == 200)

            // The same code again: used up.
            response = try await system.post("/password-resets", #"{"email":"nia@example.org","code":"\#(resetCode)","password":"password 3"}"#)
            #expect(response.status == 401)
            #expect(response.body.contains("already used"))
        }
    }

    @Test(arguments: Store.allCases)
    func bruteForcedCodesAreRefused(store: Store) async throws {
        try await self.withSystem(store) { system in
            _ = try await system.post("/verification-codes", #"{"email":"oz@example.org","purpose":"register"}"#)
            let code = try await system.code(to: "oz@example.org")
            let wrong = code == "000000" ? "111111" : "000000"
            for left in [4, 3, 2, 1] {
                let response = try await system.post("/accounts", #"{"username":"oz","password":"password 1","email":"oz@example.org","code":"\#(wrong)"}"#)
                #expect(response.status == 401)
                #expect(response.body.contains(left == 1 ? "1 try left" : "\(left) tries left"), "\(response.body)")
            }
            var response = try await system.post("/accounts", #"{"username":"oz","password":"password 1","email":"oz@example.org","code":"\#(wrong)"}"#)
            #expect(response.body.contains("no longer works"))
            // Burned: the right code no longer works either.
            response = try await system.post("/accounts", #"{"username":"oz","password":"password 1","email":"oz@example.org","code":"\#(code)"}"#)
            #expect(response.status == 401)
        }
    }

    @Test(arguments: Store.allCases)
    func expiredCodesAreRefused(store: Store) async throws {
        try await self.withSystem(store, validity: .seconds(1)) { system in
            _ = try await system.post("/verification-codes", #"{"email":"pat@example.org","purpose":"register"}"#)
            let late = try await system.code(to: "pat@example.org")
            try await Task.sleep(for: .milliseconds(1300))
            let response = try await system.post("/accounts", #"{"username":"pat","password":"password 1","email":"pat@example.org","code":"\#(late)"}"#)
            #expect(response.status == 401)
            #expect(response.body.contains("expired"))
        }
    }
}
