import ParleyTestSupport
import ParleyVerifier
import SMTPClient

/// Servers and clients for the tests.
enum GRPCTesting {
    /// Runs a verifier over `codes` on 127.0.0.1 (port 0) and a client of it while `body` runs.
    static func withVerifier(
        codes: VerificationCodes,
        _ body: (VerifierClient, Int) async throws -> Void
    ) async throws {
        let server = VerifierServer(host: "127.0.0.1", port: 0, codes: codes, logger: VerifierTesting.quietLogger)
        try await withThrowingTaskGroup { group in
            group.addTask { try await server.run() }
            let port = try await server.boundPort()
            let client = try VerifierClient(host: "127.0.0.1", port: port, logger: VerifierTesting.quietLogger)
            group.addTask { try await client.run() }
            try await body(client, port)
            group.cancelAll()
        }
    }

    /// Runs `client` while `body` runs.
    static func running(_ client: VerifierClient, _ body: () async throws -> Void) async throws {
        try await withThrowingTaskGroup { group in
            group.addTask { try await client.run() }
            try await body()
            group.cancelAll()
        }
    }

    /// A loopback port that was just free and where nothing listens now.
    static func closedPort() async throws -> Int {
        let (codes, _, _, _) = VerifierTesting.make()
        let server = VerifierServer(host: "127.0.0.1", port: 0, codes: codes, logger: VerifierTesting.quietLogger)
        let task = Task { try await server.run() }
        let port = try await server.boundPort()
        task.cancel()
        _ = try? await task.value(within: .seconds(5))
        return port
    }

}

/// A mailer that holds every message until opened.
actor GatedMailer: Mailer {
    private(set) var sentCount = 0
    private var isOpen = false
    private var isSending = false
    private var held: [CheckedContinuation<Void, Never>] = []
    private var sendingWaiters: [CheckedContinuation<Void, Never>] = []

    func send(_ message: Email) async throws {
        self.isSending = true
        for waiter in self.sendingWaiters { waiter.resume() }
        self.sendingWaiters = []
        if !self.isOpen {
            await withCheckedContinuation { self.held.append($0) }
        }
        self.sentCount += 1
    }

    /// Returns once a message is being sent.
    func waitUntilSending() async {
        if !self.isSending {
            await withCheckedContinuation { self.sendingWaiters.append($0) }
        }
    }

    /// Lets the held messages and all later ones through.
    func open() {
        self.isOpen = true
        for continuation in self.held { continuation.resume() }
        self.held = []
    }
}
