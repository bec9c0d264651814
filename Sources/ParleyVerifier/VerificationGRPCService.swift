import GRPCCore
import Logging
import ParleyCore
import ParleyGRPC

/// The `parley.verifier.v1.VerificationService` gRPC service: ``VerificationCodes`` on the network.
///
/// Each RPC is one call of the rules; the rules do the logging (codes are never logged, and no
/// response carries one). A `ParleyError` goes back as an `RPCError` whose message is its wire form
/// `"code: message"` (see `ParleyError+GRPC.swift` for the status codes), so that ``VerifierClient``
/// rebuilds the very same error. Run it with ``VerifierServer``.
public struct VerificationGRPCService: Parley_Verifier_V1_VerificationService.SimpleServiceProtocol {
    /// The longest client address accepted, in bytes: an IPv6 address with a zone fits.
    static let maxClientAddressBytes = 64

    private let codes: VerificationCodes
    private let logger: Logger

    /// Creates the service over `codes`.
    ///
    /// - Parameters:
    ///   - codes: The rules every RPC applies.
    ///   - logger: For failures that are not a `ParleyError` (a bug, not a user's mistake).
    public init(codes: VerificationCodes, logger: Logger = Logger(label: "parley.verifier.grpc")) {
        self.codes = codes
        self.logger = logger
    }

    /// Sends a new code; see ``VerificationCodes/issue(email:purpose:clientAddress:)``.
    public func issueCode(
        request: Parley_Verifier_V1_IssueCodeRequest,
        context: ServerContext
    ) async throws -> Parley_Verifier_V1_IssueCodeResponse {
        try await self.answering("IssueCode") {
            let purpose = try Self.purpose(request.purpose)
            let clientAddress = try Self.clientAddress(request)
            let issued = try await self.codes.issue(email: request.email, purpose: purpose, clientAddress: clientAddress)
            return .with {
                $0.email = issued.email.normalized
                $0.validForSeconds = VerificationCodes.wholeSeconds(issued.validFor)
                $0.resendAfterSeconds = VerificationCodes.wholeSeconds(issued.resendAfter)
            }
        }
    }

    /// Accepts a code once; see ``VerificationCodes/check(email:purpose:code:)``.
    public func checkCode(
        request: Parley_Verifier_V1_CheckCodeRequest,
        context: ServerContext
    ) async throws -> Parley_Verifier_V1_CheckCodeResponse {
        try await self.answering("CheckCode") {
            let purpose = try Self.purpose(request.purpose)
            try await self.codes.check(email: request.email, purpose: purpose, code: request.code)
            return Parley_Verifier_V1_CheckCodeResponse()
        }
    }

    // MARK: - Requests

    /// The purpose of a request; `PURPOSE_UNSPECIFIED` and unknown values are bad input.
    static func purpose(_ purpose: Parley_Verifier_V1_Purpose) throws -> CodePurpose {
        switch purpose {
        case .register: return .register
        case .reset: return .reset
        case .unspecified, .UNRECOGNIZED:
            throw ParleyError(.invalidInput, "Say what the code is for: register or reset.")
        }
    }

    /// The client address of a request: `nil` when absent or empty (unknown); refused when it cannot
    /// be an IP address (too long, or with spaces or control characters).
    static func clientAddress(_ request: Parley_Verifier_V1_IssueCodeRequest) throws -> String? {
        guard request.hasClientAddress, !request.clientAddress.isEmpty else {
            return nil
        }
        let address = request.clientAddress
        guard address.utf8.count <= Self.maxClientAddressBytes,
            address.unicodeScalars.allSatisfy({ $0.isASCII && $0.value > 0x20 && $0.value < 0x7F })
        else {
            throw ParleyError(.invalidInput, "The client address is not an IP address.")
        }
        return address
    }

    // MARK: - Errors

    /// Runs `body`, turning what it throws into the `RPCError` the client expects.
    private func answering<Response: Sendable>(
        _ method: String,
        _ body: () async throws -> Response
    ) async throws -> Response {
        do {
            return try await body()
        } catch let error as ParleyError {
            throw error.rpcError
        } catch is CancellationError {
            throw RPCError(code: .cancelled, message: "The verification service is shutting down.")
        } catch {
            self.logger.error(
                "verification RPC failed", metadata: ["grpc.method": "\(method)", "error": "\(error)"]
            )
            throw ParleyError(.internal, "The verification service failed; please try again later.").rpcError
        }
    }
}
