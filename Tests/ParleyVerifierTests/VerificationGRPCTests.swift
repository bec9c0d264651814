import ParleyTestSupport
import GRPCCore
import GRPCNIOTransportHTTP2
import ParleyCore
import ParleyGRPC
import ServiceLifecycle
import Testing

@testable import ParleyVerifier

/// The verifier over a real loopback gRPC connection: ``VerifierServer`` on 127.0.0.1, port 0, and
/// ``VerifierClient``, over a memory store and a capturing mailer.
@Suite("Verifier over gRPC", .timeLimit(.minutes(1)))
struct VerificationGRPCTests {
    let email = "alice@example.com"

    @Test("Issue, then check with the code from the mail; the code is accepted once")
    func issueAndCheck() async throws {
        let (codes, _, mailer, _) = VerifierTesting.make()
        try await GRPCTesting.withVerifier(codes: codes) { client, _ in
            let issued = try await client.issue(email: " Alice@Example.COM ", purpose: .register, clientAddress: "192.0.2.7")
            let local = try EmailAddress(" Alice@Example.COM ")
            #expect(issued == IssuedCode(email: local, purpose: .register, validFor: .seconds(180), resendAfter: .seconds(60)))
            #expect(issued.email.normalized == self.email)
            #expect(await mailer.messages.count == 1)
            let code = try await mailer.lastCode()

            try await client.check(email: self.email, purpose: .register, code: code)

            let reused = try await VerifierTesting.parleyError {
                try await client.check(email: self.email, purpose: .register, code: code)
            }
            #expect(reused.code == .invalidCredentials)
            #expect(reused.message == "There is no valid code for \(self.email): it has expired, was already used, or was never sent; ask for a new code.")
        }
    }

    @Test("A wrong code is .invalidCredentials with the tries left; the right one still works after")
    func wrongCode() async throws {
        let (codes, _, mailer, _) = VerifierTesting.make()
        try await GRPCTesting.withVerifier(codes: codes) { client, _ in
            _ = try await client.issue(email: self.email, purpose: .reset, clientAddress: nil)
            let code = try await mailer.lastCode()
            let wrong = try await VerifierTesting.parleyError {
                try await client.check(email: self.email, purpose: .reset, code: VerifierTesting.wrong(code))
            }
            #expect(wrong == ParleyError(.invalidCredentials, "That code is not right; 4 tries left before it stops working."))
            // A code for another purpose is not accepted either.
            let otherPurpose = try await VerifierTesting.parleyError {
                try await client.check(email: self.email, purpose: .register, code: code)
            }
            #expect(otherPurpose.code == .invalidCredentials)
            try await client.check(email: self.email, purpose: .reset, code: code)
        }
    }

    @Test("A second code within the cooldown is .rateLimited with the seconds left")
    func cooldown() async throws {
        let (codes, _, mailer, clock) = VerifierTesting.make()
        try await GRPCTesting.withVerifier(codes: codes) { client, _ in
            _ = try await client.issue(email: self.email, purpose: .register, clientAddress: "192.0.2.7")
            clock.advance(by: .seconds(18))
            let limited = try await VerifierTesting.parleyError {
                _ = try await client.issue(email: self.email, purpose: .reset, clientAddress: "192.0.2.7")
            }
            #expect(limited.code == .rateLimited)
            #expect(limited.message.hasSuffix("try again in 42 s."), "\(limited.message)")
            #expect(await mailer.messages.count == 1)
        }
    }

    @Test("A bad address is .invalidInput, with the very message of the rules (non-ASCII included)")
    func badEmail() async throws {
        let (codes, _, mailer, _) = VerifierTesting.make()
        try await GRPCTesting.withVerifier(codes: codes) { client, _ in
            for typed in ["zoë@example.com", "no-at-sign", ""] {
                let local = try await VerifierTesting.parleyError { _ = try EmailAddress(typed) }
                let remote = try await VerifierTesting.parleyError {
                    _ = try await client.issue(email: typed, purpose: .register, clientAddress: nil)
                }
                #expect(remote.code == .invalidInput)
                #expect(remote == local)
            }
            let badCode = try await VerifierTesting.parleyError {
                try await client.check(email: self.email, purpose: .register, code: "12345")
            }
            #expect(badCode == ParleyError(.invalidInput, "A verification code is 6 digits, such as 012345."))
            #expect(await mailer.messages.isEmpty)
        }
    }

    @Test("Requests over 16 KiB: the client refuses them as .tooLarge; the server resets them")
    func oversized() async throws {
        let (codes, _, mailer, _) = VerifierTesting.make()
        try await GRPCTesting.withVerifier(codes: codes) { client, port in
            let huge = String(repeating: "a", count: VerifierServer.Limits.maxRequestBytes) + "@example.com"
            let error = try await VerifierTesting.parleyError {
                _ = try await client.issue(email: huge, purpose: .register, clientAddress: nil)
            }
            #expect(error == ParleyError(.tooLarge, "The request is too large for the verification service."))

            // The server's own limit, past the client's check, with the generated client: the stream
            // is reset; under the limit the rules answer, in the documented status and wire form.
            let long = String(repeating: "a", count: 8 * 1024) + "@example.com"
            try await withGRPCClient(
                transport: .http2NIOPosix(target: .ipv4(address: "127.0.0.1", port: port), transportSecurity: .plaintext)
            ) { raw in
                let stub = Parley_Verifier_V1_VerificationService.Client(wrapping: raw)
                var request = Parley_Verifier_V1_IssueCodeRequest()
                request.purpose = .register
                request.email = huge
                let reset = await #expect(throws: RPCError.self) { _ = try await stub.issueCode(request) }
                #expect(reset.flatMap { ParleyError(strictWire: $0.message) } == nil)
                request.email = long
                let refused = await #expect(throws: RPCError.self) { _ = try await stub.issueCode(request) }
                #expect(refused?.code == .invalidArgument)
                #expect(refused?.message == "invalid_input: The email address is too long (at most 254 characters).")
                request.purpose = .unspecified
                request.email = self.email
                let unspecified = await #expect(throws: RPCError.self) { _ = try await stub.issueCode(request) }
                #expect(unspecified?.code == .invalidArgument)
                #expect(unspecified?.message == "invalid_input: Say what the code is for: register or reset.")
            }
            _ = try await client.issue(email: self.email, purpose: .register, clientAddress: nil)
            #expect(await mailer.messages.count == 1)
        }
    }

    @Test("A call made before the client runs waits for it; one whose client never runs times out")
    func callBeforeRun() async throws {
        let (codes, _, _, _) = VerifierTesting.make()
        try await GRPCTesting.withVerifier(codes: codes) { _, port in
            let idle = try VerifierClient(host: "127.0.0.1", port: port, timeout: .milliseconds(500), logger: VerifierTesting.quietLogger)
            let clock = ContinuousClock()
            let start = clock.now
            let error = try await VerifierTesting.parleyError {
                _ = try await idle.issue(email: self.email, purpose: .register, clientAddress: nil)
            }
            #expect(error == ParleyError.verifierUnreachable)
            #expect(clock.now - start >= .milliseconds(500))
            #expect(clock.now - start < .seconds(3))

            let late = try VerifierClient(host: "localhost", port: port, logger: VerifierTesting.quietLogger)
            let call = Task { try await late.issue(email: self.email, purpose: .register, clientAddress: nil) }
            try await Task.sleep(for: .milliseconds(200))
            try await GRPCTesting.running(late) {
                let issued = try await call.value(within: .seconds(5))
                #expect(issued.email.normalized == self.email)
            }
        }
    }

    @Test("A client of a port where nothing listens fails with .unavailable well before its timeout")
    func nothingListens() async throws {
        let port = try await GRPCTesting.closedPort()
        let client = try VerifierClient(host: "127.0.0.1", port: port, timeout: .seconds(5), logger: VerifierTesting.quietLogger)
        try await GRPCTesting.running(client) {
            for _ in 0..<2 {
                let clock = ContinuousClock()
                let start = clock.now
                let error = try await VerifierTesting.parleyError {
                    _ = try await client.issue(email: self.email, purpose: .register, clientAddress: nil)
                }
                #expect(error == ParleyError.verifierUnreachable)
                #expect(clock.now - start < .seconds(2))
            }
        }
    }

    @Test("A client recovers by itself when the verifier restarts on the same port")
    func restart() async throws {
        let (codes, _, mailer, _) = VerifierTesting.make()
        let first = VerifierServer(host: "127.0.0.1", port: 0, codes: codes, logger: VerifierTesting.quietLogger)
        let firstTask = Task { try await first.run() }
        let port = try await first.boundPort()
        let client = try VerifierClient(host: "127.0.0.1", port: port, logger: VerifierTesting.quietLogger)
        try await GRPCTesting.running(client) {
            _ = try await client.issue(email: "one@example.com", purpose: .register, clientAddress: nil)

            firstTask.cancel()
            _ = try? await firstTask.value(within: .seconds(5))
            let down = try await VerifierTesting.parleyError {
                try await client.check(email: "one@example.com", purpose: .register, code: try await mailer.lastCode())
            }
            #expect(down == ParleyError.verifierUnreachable)

            let second = VerifierServer(host: "127.0.0.1", port: port, codes: codes, logger: VerifierTesting.quietLogger)
            let secondTask = Task { try await second.run() }
            defer { secondTask.cancel() }  // the server runs to the end of the test
            #expect(try await second.boundPort() == port)

            // Calls fail fast while the client reconnects (at most 1 s apart), then succeed.
            let clock = ContinuousClock()
            let deadline = clock.now.advanced(by: .seconds(5))
            var recovered = false
            while !recovered, clock.now < deadline {
                do {
                    try await client.check(email: "one@example.com", purpose: .register, code: try await mailer.lastCode())
                    recovered = true
                } catch let error as ParleyError where error == .verifierUnreachable {
                    try await Task.sleep(for: .milliseconds(50))
                }
            }
            #expect(recovered)
        }
    }

    @Test("A graceful shutdown lets the call in flight answer, then the server stops")
    func gracefulShutdown() async throws {
        let mailer = GatedMailer()
        let codes = VerificationCodes(store: MemoryCodeStore(), mailer: mailer, logger: VerifierTesting.quietLogger)
        let server = VerifierServer(host: "127.0.0.1", port: 0, codes: codes, logger: VerifierTesting.quietLogger)
        let group = ServiceGroup(services: [server], logger: VerifierTesting.quietLogger)
        let groupTask = Task { try await group.run() }
        let port = try await server.boundPort()
        let client = try VerifierClient(host: "127.0.0.1", port: port, logger: VerifierTesting.quietLogger)
        try await GRPCTesting.running(client) {
            let call = Task { try await client.issue(email: self.email, purpose: .register, clientAddress: nil) }
            await mailer.waitUntilSending()
            await group.triggerGracefulShutdown()
            try await Task.sleep(for: .milliseconds(100))
            await mailer.open()
            let issued = try await call.value(within: .seconds(5))
            #expect(issued.email.normalized == self.email)
            try await groupTask.value(within: .seconds(5))
            #expect(await mailer.sentCount == 1)
            let after = try await VerifierTesting.parleyError {
                _ = try await client.issue(email: "bob@example.com", purpose: .register, clientAddress: nil)
            }
            #expect(after == ParleyError.verifierUnreachable)
        }
    }

    // MARK: - Mappings, without a connection

    @Test("ParleyError codes map to gRPC statuses, and the wire form comes back exactly")
    func errorMapping() {
        let cases: [(ParleyError.Code, RPCError.Code)] = [
            (.invalidInput, .invalidArgument), (.invalidCredentials, .permissionDenied),
            (.rateLimited, .resourceExhausted), (.unavailable, .unavailable), (.internal, .internalError),
            (.notFound, .internalError), (.tooLarge, .internalError),
        ]
        for (code, status) in cases {
            let error = ParleyError(code, "Some message: with a colon; and ünïcode.")
            #expect(error.rpcError.code == status)
            #expect(error.rpcError.message == "\(code.rawValue): Some message: with a colon; and ünïcode.")
            #expect(ParleyError(verifierError: error.rpcError) == error)
        }
    }

    @Test("Purpose: unspecified or unknown is .invalidInput; client address: empty is unknown, junk refused")
    func requestFields() throws {
        #expect(try VerificationGRPCService.purpose(.register) == .register)
        #expect(try VerificationGRPCService.purpose(.reset) == .reset)
        for purpose in [Parley_Verifier_V1_Purpose.unspecified, .UNRECOGNIZED(7)] {
            #expect(throws: ParleyError(.invalidInput, "Say what the code is for: register or reset.")) {
                try VerificationGRPCService.purpose(purpose)
            }
        }
        var request = Parley_Verifier_V1_IssueCodeRequest()
        #expect(try VerificationGRPCService.clientAddress(request) == nil)
        request.clientAddress = ""
        #expect(try VerificationGRPCService.clientAddress(request) == nil)
        request.clientAddress = "2001:db8::1"
        #expect(try VerificationGRPCService.clientAddress(request) == "2001:db8::1")
        for junk in ["192.0.2.1 x", "a\nb", String(repeating: "1", count: 65)] {
            request.clientAddress = junk
            #expect(throws: ParleyError.self) { try VerificationGRPCService.clientAddress(request) }
        }
    }
}
