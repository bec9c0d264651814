import Foundation
import Hummingbird
import HummingbirdTesting
import Logging
import ParleyCore
import ParleyStorage
import ParleyTestSupport
import ParleyVerifier
import Testing

@testable import ParleyGateway

/// Issue 5's flows through the gateway's routes (JSON API and pages), over the real backend
/// services, a temporary SQLite database and the real code rules with a mailer that keeps the mail.
@Suite struct AccountGatewayTests {
    static let json: HTTPFields = [.contentType: "application/json"]

    func withGateway(
        rules: VerificationCodes.Configuration = .init(),
        _ body: @escaping @Sendable (any TestClientProtocol, CapturingMailer) async throws -> Void
    ) async throws {
        let folder = try TemporaryDirectory()
        defer { folder.remove() }
        let storage = try await SQLiteStorage.open(dataDirectory: folder.path)
        let mailer = CapturingMailer()
        var quiet = Logger(label: "test")
        quiet.logLevel = .critical
        let codes = VerificationCodes(store: MemoryCodeStore(), mailer: mailer, configuration: rules, logger: quiet)
        let router = try await buildGatewayRouter(
            backend: LocalBackend(storage: storage, verifier: codes), configuration: .init(verifier: codes)
        )
        do {
            try await Application(router: router).test(.router) { client in try await body(client, mailer) }
        } catch {
            try await storage.close()
            throw error
        }
        try await storage.close()
    }

    static func post(_ client: some TestClientProtocol, _ path: String, _ json: String, headers: HTTPFields = json) async throws -> TestResponse {
        try await client.execute(uri: "/api/v1/" + path, method: .post, headers: headers, body: ByteBuffer(string: json))
    }

    /// A JSON object body, compared without regard to key order.
    static func object(_ response: TestResponse) throws -> NSDictionary {
        try #require(try JSONSerialization.jsonObject(with: Data(buffer: response.body)) as? NSDictionary)
    }

    static func errorCode(_ response: TestResponse) -> String? {
        try? JSONDecoder().decode(ErrorBody.self, from: response.body).error.code
    }

    @Test func registerWithTheMailedCodeThenLogInByEmail() async throws {
        try await self.withGateway { client, mailer in
            var response = try await Self.post(client, "verification-codes", #"{"email":" Ida@Example.COM ","purpose":"register"}"#)
            #expect(response.status == .accepted)
            #expect(try Self.object(response) == ["email": "ida@example.com", "purpose": "register", "validForSeconds": 180, "resendAfterSeconds": 60])
            let code = try await mailer.lastCode(to: "Ida@example.com")

            response = try await Self.post(client, "verification-codes", #"{"email":"ida@example.com","purpose":"register"}"#)
            #expect(response.status == .tooManyRequests)
            #expect(String(buffer: response.body).contains("try again in"))

            response = try await Self.post(client, "accounts", #"{"username":"ida","password":"password 1","email":"ida@example.com","code":"\#(code)"}"#)
            #expect(response.status == .created)
            response = try await Self.post(client, "sessions", #"{"username":"IDA@example.com","password":"password 1"}"#)
            #expect(response.status == .ok)
            let token = try JSONDecoder().decode(BackendAPI.LoginResult.self, from: response.body).token

            let auth: HTTPFields = [.contentType: "application/json", .authorization: "Bearer \(token)"]
            response = try await client.execute(uri: "/api/v1/me/profile", method: .get, headers: auth)
            #expect(response.status == .ok)
            let profile = try JSONDecoder().decode(Profile.self, from: response.body)
            #expect(profile.nickname == "ida" && profile.email == "ida@example.com" && profile.description == "")
            response = try await client.execute(
                uri: "/api/v1/me/profile", method: .put, headers: auth,
                body: ByteBuffer(string: #"{"nickname":"Ida <b>","description":"Hello"}"#)
            )
            #expect(response.status == .ok)
            #expect(try JSONDecoder().decode(Profile.self, from: response.body).nickname == "Ida <b>")
            response = try await client.execute(uri: "/api/v1/me/profile", method: .get, headers: Self.json)
            #expect(response.status == .unauthorized)

            // The address now has an account: a stranger asking for a code gets the same answer as
            // for any address; only the mailbox's owner, with the code, learns it is taken.
            response = try await Self.post(client, "verification-codes", #"{"email":"Ida@example.com","purpose":"register"}"#)
            #expect(response.status == .tooManyRequests)  // the cooldown of this address, as for any
            #expect(String(buffer: response.body).contains("try again in"))

            response = try await Self.post(client, "accounts/check", #"{"username":"IDA","email":"new@example.com"}"#)
            #expect(
                try JSONDecoder().decode(BackendAPI.Availability.self, from: response.body)
                    == .init(username: "taken", email: "available", message: "That username is already taken.")
            )
        }
    }

    @Test func badCodeRequestsAreRefusedClearly() async throws {
        try await self.withGateway { client, mailer in
            var response = try await Self.post(client, "verification-codes", #"{"email":"a@example.com","purpose":"delete"}"#)
            #expect(response.status == .badRequest)
            response = try await Self.post(client, "verification-codes", #"{"email":"not an address","purpose":"register"}"#)
            #expect(response.status == .badRequest)
            response = try await Self.post(client, "verification-codes", #"{"email":"a@example.com"}"#)
            #expect(response.status == .badRequest)
            response = try await Self.post(client, "accounts", #"{"username":"zed","password":"password 1","email":"z@example.com","code":"12345"}"#)
            #expect(response.status == .badRequest)
            response = try await Self.post(client, "accounts", #"{"username":"zed","password":"password 1","email":"z@example.com","code":"123456"}"#)
            #expect(response.status == .unauthorized)
            #expect(await mailer.messages.isEmpty)
        }
    }

    @Test func resetCodeAnswersTheSameWhetherOrNotTheAddressHasAnAccount() async throws {
        try await self.withGateway(rules: .init(resendCooldown: .milliseconds(1))) { client, mailer in
            _ = try await Self.post(client, "verification-codes", #"{"email":"joe@example.com","purpose":"register"}"#)
            let code = try await mailer.lastCode()
            _ = try await Self.post(client, "accounts", #"{"username":"joe","password":"password 1","email":"joe@example.com","code":"\#(code)"}"#)
            try await Task.sleep(for: .milliseconds(5))

            let known = try await Self.post(client, "verification-codes", #"{"email":"joe@example.com","purpose":"reset"}"#)
            let unknown = try await Self.post(client, "verification-codes", #"{"email":"stranger@example.com","purpose":"reset"}"#)
            #expect(known.status == .accepted && unknown.status == .accepted)
            let knownBody = try Self.object(known).mutableCopy() as! NSMutableDictionary
            let unknownBody = try Self.object(unknown).mutableCopy() as! NSMutableDictionary
            #expect(knownBody["email"] as? String == "joe@example.com")
            knownBody["email"] = nil
            unknownBody["email"] = nil
            #expect(knownBody == unknownBody)

            let resetCode = try await mailer.lastCode(to: "joe@example.com")
            var response = try await Self.post(client, "password-resets", #"{"email":"joe@example.com","code":"\#(resetCode)","password":"short"}"#)
            #expect(response.status == .badRequest)
            response = try await Self.post(client, "password-resets", #"{"email":"joe@example.com","code":"\#(resetCode)","password":"password 2"}"#)
            #expect(response.status == .noContent)
            response = try await Self.post(client, "sessions", #"{"username":"joe","password":"password 2"}"#)
            #expect(response.status == .ok)
        }
    }
}

/// The pages of issue 5: register in two steps, reset, profile.
@Suite struct AccountPageTests {
    let gateway = AccountGatewayTests()

    @Test func registerInTwoStepsThenEditTheProfile() async throws {
        try await self.gateway.withGateway { client, mailer in
            let browser = WebPageTests.Browser(client)
            var page = String(buffer: try await browser.request("/register").body)
            #expect(page.contains(#"action="/register/code""#))
            #expect(!page.contains(#"name="code""#))

            var response = try await browser.request("/register/code", .post, form: ["csrf": browser.csrf, "email": "kay@example.com"])
            #expect(response.status == .ok)
            page = String(buffer: response.body)
            #expect(page.contains("We sent a code to kay@example.com. It is valid for 3 minutes; you can ask for a new one in 1 minute."))
            #expect(page.contains(#"data-countdown="60""#))
            #expect(page.contains(#"<script src="/static/countdown.js"></script>"#))
            #expect(page.contains(#"name="code""#))
            let code = try await mailer.lastCode()

            response = try await browser.request("/register/code", .post, form: ["csrf": browser.csrf, "email": "kay@example.com"])
            #expect(response.status == .tooManyRequests)
            #expect(String(buffer: response.body).contains(#"name="code""#))

            response = try await browser.request(
                "/register", .post,
                form: ["csrf": browser.csrf, "email": "kay@example.com", "code": code == "000000" ? "111111" : "000000", "username": "kay", "password": "password 1"]
            )
            #expect(response.status == .unauthorized)
            #expect(String(buffer: response.body).contains("4 tries left"))

            response = try await browser.request(
                "/register", .post, form: ["csrf": browser.csrf, "email": "kay@example.com", "code": code, "username": "kay", "password": "password 1"]
            )
            #expect(response.status == .seeOther)
            response = try await browser.request("/login", .post, form: ["csrf": browser.csrf, "username": "kay@example.com", "password": "password 1"])
            #expect(response.status == .seeOther)

            page = String(buffer: try await browser.request("/profile").body)
            #expect(page.contains(#"value="kay""#))
            response = try await browser.request(
                "/profile", .post, form: ["csrf": browser.csrf, "nickname": #"K "the" <Kay>"#, "description": "line\nline"]
            )
            #expect(response.status == .seeOther)
            page = String(buffer: try await browser.request("/profile?notice=profile").body)
            #expect(page.contains("K &quot;the&quot; &lt;Kay&gt;"))
            #expect(page.contains("Your profile is saved."))

            let script = try await browser.request("/static/countdown.js")
            #expect(script.status == .ok)
            #expect(script.headers[.contentType] == "text/javascript; charset=utf-8")
            #expect(try await browser.request("/static/../Package.swift").status == .notFound)
        }
    }

    @Test func resetPasswordPagesLogEveryoneOut() async throws {
        // No resend cooldown: one address gets a register code, then a reset code.
        try await self.gateway.withGateway(rules: .init(resendCooldown: .milliseconds(1))) { client, mailer in
            let browser = WebPageTests.Browser(client)
            _ = try await browser.request("/register")
            _ = try await browser.request("/register/code", .post, form: ["csrf": browser.csrf, "email": "lou@example.com"])
            let code = try await mailer.lastCode()
            _ = try await browser.request(
                "/register", .post, form: ["csrf": browser.csrf, "email": "lou@example.com", "code": code, "username": "lou", "password": "password 1"]
            )
            let other = WebPageTests.Browser(client)
            _ = try await other.request("/login")
            _ = try await other.request("/login", .post, form: ["csrf": other.csrf, "username": "lou", "password": "password 1"])
            #expect(String(buffer: try await other.request("/").body).contains("Logged in as <strong>lou</strong>"))

            try await Task.sleep(for: .milliseconds(5))
            #expect(String(buffer: try await browser.request("/reset-password").body).contains(#"action="/reset-password/code""#))
            var response = try await browser.request("/reset-password/code", .post, form: ["csrf": browser.csrf, "email": "LOU@example.com"])
            #expect(response.status == .ok)
            #expect(String(buffer: response.body).contains("If an account uses LOU@example.com, a code is on its way."))
            let resetCode = try await mailer.lastCode()
            response = try await browser.request(
                "/reset-password", .post, form: ["csrf": browser.csrf, "email": "lou@example.com", "code": resetCode, "password": "password 2"]
            )
            #expect(response.status == .seeOther)
            #expect(response.headers[.location] == "/login?notice=reset")

            // The other browser's session ended with the reset.
            #expect(!String(buffer: try await other.request("/").body).contains("Logged in as"))
            response = try await browser.request("/login", .post, form: ["csrf": browser.csrf, "username": "lou", "password": "password 1"])
            #expect(response.status == .unauthorized)
            response = try await browser.request("/login", .post, form: ["csrf": browser.csrf, "username": "lou", "password": "password 2"])
            #expect(response.status == .seeOther)
        }
    }

    @Test func everyNewFormNeedsItsAntiForgeryToken() async throws {
        try await self.gateway.withGateway { client, mailer in
            let browser = WebPageTests.Browser(client)
            _ = try await browser.request("/register")
            let forms: [(String, [String: String])] = [
                ("/register/code", ["email": "eve@example.com"]),
                ("/register", ["email": "eve@example.com", "code": "123456", "username": "eve", "password": "password 1"]),
                ("/reset-password/code", ["email": "eve@example.com"]),
                ("/reset-password", ["email": "eve@example.com", "code": "123456", "password": "password 1"]),
                ("/profile", ["nickname": "Eve", "description": ""]),
            ]
            for (path, fields) in forms {
                let missing = try await browser.request(path, .post, form: fields)
                #expect(missing.status == .forbidden, "\(path) without a token")
                let forged = try await browser.request(path, .post, form: fields.merging(["csrf": "forged"]) { $1 })
                #expect(forged.status == .forbidden, "\(path) with a forged token")
            }
            #expect(await mailer.messages.isEmpty)
        }
    }
}
