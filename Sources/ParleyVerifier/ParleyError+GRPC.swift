import GRPCCore
import ParleyCore
import ParleyGRPC

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
    /// The verifier's side of ``GRPCErrorMapping``: the common table.
    static let verifierMapping = GRPCErrorMapping(service: "the verification service", unreachable: .verifierUnreachable)

    /// The error as the server sends it: the mapped status, the wire form as the message.
    var rpcError: RPCError { Self.verifierMapping.rpcError(self) }

    /// The message of every failure to reach the verifier (nothing listening, a restart, a timeout).
    static let verifierUnreachable = ParleyError(
        .unavailable, "The verification service cannot be reached right now; please try again in a moment."
    )

    /// The `ParleyError` a client reports for `error`, an `RPCError` from a call to the verifier.
    init(verifierError error: RPCError) {
        self = Self.verifierMapping.parleyError(error)
    }
}
