import GRPCCore
import ParleyCore

/// How a ``ParleyError`` crosses the `VerificationService` gRPC boundary, both ways.
///
/// The server sends an `RPCError` whose status code is chosen from the error's code and whose message
/// is the error's wire form, `"code: message"`. The client parses that message back into the very same
/// `ParleyError`. The status code lets plain gRPC tools and proxies tell the failures apart:
///
/// | `ParleyError.Code`    | gRPC status          |
/// |-----------------------|----------------------|
/// | `.invalidInput`       | `INVALID_ARGUMENT`   |
/// | `.invalidCredentials` | `PERMISSION_DENIED`  |
/// | `.rateLimited`        | `RESOURCE_EXHAUSTED` |
/// | `.unavailable`        | `UNAVAILABLE`        |
/// | anything else         | `INTERNAL`           |
///
/// A wrong, burned, expired or used code is `PERMISSION_DENIED`: the request is well formed and the
/// caller (the gateway) is who it says it is, but the code it presents does not grant the
/// verification. `UNAUTHENTICATED` would say the gateway's own credentials are bad, and
/// `FAILED_PRECONDITION` fits "no valid code" but not "wrong code, 3 tries left"; one status for all
/// of them keeps the mapping a function of the `ParleyError` code alone.
extension ParleyError {
    /// The gRPC status code this error is sent with.
    var rpcCode: RPCError.Code {
        switch self.code {
        case .invalidInput: .invalidArgument
        case .invalidCredentials: .permissionDenied
        case .rateLimited: .resourceExhausted
        case .unavailable: .unavailable
        default: .internalError
        }
    }

    /// The error as the server sends it: the mapped status, the wire form as the message.
    var rpcError: RPCError {
        RPCError(code: self.rpcCode, message: self.description)
    }

    /// The message of every failure to reach the verifier (nothing listening, a restart, a timeout).
    static let verifierUnreachable = ParleyError(
        .unavailable, "The verification service cannot be reached right now; please try again in a moment."
    )

    /// The `ParleyError` a client reports for `error`, an `RPCError` from a call to the verifier.
    ///
    /// A message in the wire form of a known code is the server's `ParleyError`, rebuilt exactly.
    /// Anything else came from the gRPC stack, not from the service: failures to connect, a lost
    /// connection, a missed deadline, a server shutting down or a reset stream are
    /// ``verifierUnreachable``; `RESOURCE_EXHAUSTED` without a wire form (a message over a size limit)
    /// is `.tooLarge`; the rest (an unknown method, a broken reply) is `.internal`, since the user
    /// cannot fix it.
    init(verifierError error: RPCError) {
        if let parleyError = ParleyError(strictWire: error.message) {
            self = parleyError
            return
        }
        switch error.code {
        case .unavailable, .deadlineExceeded, .cancelled, .aborted:
            self = .verifierUnreachable
        case .resourceExhausted:
            self.init(.tooLarge, "The request is too large for the verification service.")
        default:
            self.init(.internal, "The verification service gave an unexpected answer; please try again later.")
        }
    }

    /// Parses `"code: message"` only when `code` is one of the known codes (unlike
    /// ``ParleyError/init(wire:)``, which turns any other text into `.internal`).
    init?(strictWire wire: String) {
        guard let range = wire.range(of: ": "), Code(rawValue: String(wire[..<range.lowerBound])) != nil else {
            return nil
        }
        self.init(wire: wire)
    }
}
