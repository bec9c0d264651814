import GRPCCore
import GRPCNIOTransportHTTP2
import Logging
import NIOCore
import ParleyCore
import ParleyGRPC
import ServiceLifecycle

/// The gateway's client of the verifier (``VerifierServer``): ``issue(email:purpose:clientAddress:)``
/// and ``check(email:purpose:code:)`` as on ``VerificationCodes``, over gRPC.
///
/// A `Service`: its connection lives while ``run()`` runs, so put it in the gateway's service group
/// before the gateway (a group shuts its services down in reverse order, so the gateway stops first).
/// Calls made before ``run()`` starts wait for it, within their timeout.
///
/// Failures are the `ParleyError`s ``VerificationCodes`` throws, rebuilt exactly from the server's
/// answer. When the verifier cannot be reached — nothing listens, it is restarting, it does not answer
/// within ``timeout`` — a call fails with `.unavailable` ("The verification service cannot be reached
/// right now; …") at once rather than waiting for it, and the client reconnects by itself in the
/// background, at most ``Limits/maxReconnectDelay`` apart, so calls succeed again soon after the
/// verifier is back. Calls are never retried: an `IssueCode` that reached the server may have sent a
/// mail.
public final class VerifierClient: Service, Sendable {
    /// The limits of the client.
    public enum Limits {
        /// The longest wait between two attempts to reconnect to a verifier that went away: 1 s.
        public static let maxReconnectDelay = Duration.seconds(1)
        /// The largest reply accepted: 16 KiB.
        public static let maxResponseBytes = 16 * 1024
    }

    /// How long a call may take in all, connecting included; 5 s by default.
    public let timeout: Duration
    private let client: GRPCClient<HTTP2ClientTransport.Posix>
    private let service: Parley_Verifier_V1_VerificationService.Client<HTTP2ClientTransport.Posix>
    private let logger: Logger

    /// Creates a client of the verifier at `host:port`; it connects when a call needs it, once
    /// ``run()`` runs.
    ///
    /// - Parameters:
    ///   - host: The verifier's IPv4 or IPv6 address, or a DNS name.
    ///   - port: Its gRPC port.
    ///   - timeout: How long a call may take in all.
    ///   - logger: For failures of the gRPC stack (which the user sees as `.unavailable`).
    /// - Throws: `ParleyError(.invalidInput, …)` when `host:port` cannot be a target.
    public init(
        host: String,
        port: Int,
        timeout: Duration = .seconds(5),
        logger: Logger = Logger(label: "parley.verifier.client")
    ) throws {
        let transport = try PlaintextClientTransport.make(
            host: host, port: port, maxReconnectDelay: Limits.maxReconnectDelay, service: "verifier"
        )
        self.client = GRPCClient(transport: transport)
        self.service = Parley_Verifier_V1_VerificationService.Client(wrapping: self.client)
        self.timeout = timeout
        self.logger = logger
    }

    /// Keeps the connection to the verifier until cancelled or shut down gracefully (then calls in
    /// flight finish first). Runs once per client.
    public func run() async throws {
        try await withGracefulShutdownHandler {
            try await self.client.runConnections()
        } onGracefulShutdown: {
            self.client.beginGracefulShutdown()
        }
    }

    /// Asks the verifier to send a new code; see ``VerificationCodes/issue(email:purpose:clientAddress:)``.
    ///
    /// - Parameters:
    ///   - email: The address, as the user typed it.
    ///   - purpose: What the code will be accepted for.
    ///   - clientAddress: The end user's IP address as the gateway sees it, for the per-client limit;
    ///     `nil` when unknown.
    /// - Returns: The normalised address, how long the code is valid and when a new one may be asked.
    /// - Throws: `ParleyError`, as ``VerificationCodes`` throws it; `.unavailable` when the verifier
    ///   cannot be reached; `.tooLarge` for fields over ``VerifierServer/Limits/maxRequestBytes``.
    public func issue(email: String, purpose: CodePurpose, clientAddress: String?) async throws -> IssuedCode {
        try Self.checkSize(email, clientAddress ?? "")
        var request = Parley_Verifier_V1_IssueCodeRequest()
        request.email = email
        request.purpose = Self.purpose(purpose)
        if let clientAddress {
            request.clientAddress = clientAddress
        }
        let response = try await self.calling("IssueCode") { [service] options in
            try await service.issueCode(request, options: options)
        }
        // The address as the server normalised it; the typed one keeps the mailbox's case, as locally.
        let address: EmailAddress
        if let typed = try? EmailAddress(email), typed.normalized == response.email {
            address = typed
        } else if let normalized = try? EmailAddress(response.email) {
            address = normalized
        } else {
            self.logger.error("verifier answered with a bad address", metadata: ["verifier.email": "\(response.email)"])
            throw ParleyError(.internal, "The verification service gave an unexpected answer; please try again later.")
        }
        return IssuedCode(
            email: address,
            purpose: purpose,
            validFor: .seconds(response.validForSeconds),
            resendAfter: .seconds(response.resendAfterSeconds)
        )
    }

    /// Asks the verifier to accept `code` once; see ``VerificationCodes/check(email:purpose:code:)``.
    ///
    /// - Throws: `ParleyError`, as ``VerificationCodes`` throws it (`.invalidCredentials` for a wrong
    ///   code, with the tries left); `.unavailable` when the verifier cannot be reached; `.tooLarge`
    ///   for fields over ``VerifierServer/Limits/maxRequestBytes``.
    public func check(email: String, purpose: CodePurpose, code: String) async throws {
        try Self.checkSize(email, code)
        var request = Parley_Verifier_V1_CheckCodeRequest()
        request.email = email
        request.purpose = Self.purpose(purpose)
        request.code = code
        _ = try await self.calling("CheckCode") { [service] options in
            try await service.checkCode(request, options: options)
        }
    }

    // MARK: - Calls

    private static func purpose(_ purpose: CodePurpose) -> Parley_Verifier_V1_Purpose {
        switch purpose {
        case .register: .register
        case .reset: .reset
        }
    }

    /// Refuses a request the server would refuse for its size (``VerifierServer/Limits/maxRequestBytes``):
    /// the server resets such a stream without a status, which would read as "unreachable".
    private static func checkSize(_ fields: String...) throws {
        // 64 bytes of room for the field tags, lengths and purpose.
        let bytes = fields.reduce(0) { $0 + $1.utf8.count }
        guard bytes <= VerifierServer.Limits.maxRequestBytes - 64 else {
            throw ParleyError(.tooLarge, "The request is too large for the verification service.")
        }
    }

    /// Runs one call with the timeout, fail-fast when the peer is down, and errors as `ParleyError`.
    private func calling<Response: Sendable>(
        _ method: String,
        _ body: (CallOptions) async throws -> Response
    ) async throws -> Response {
        try await ParleyError.verifierMapping.call(
            method, timeout: self.timeout, maxResponseBytes: Limits.maxResponseBytes, logger: self.logger, body
        )
    }
}
