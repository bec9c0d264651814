import GRPCCore
import ParleyCore
import ParleyGRPC

/// How a ``ParleyError`` crosses the `BalancerService` gRPC boundary, both ways.
///
/// ``GRPCErrorMapping``, as for the verifier: the status code is chosen from the error's code and the
/// message is the error's wire form, `"code: message"`, which the client parses back into the very
/// same error.
///
/// | `ParleyError.Code`    | gRPC status          |
/// |-----------------------|----------------------|
/// | `.invalidInput`       | `INVALID_ARGUMENT`   |
/// | `.invalidCredentials` | `PERMISSION_DENIED`  |
/// | `.rateLimited`        | `RESOURCE_EXHAUSTED` |
/// | `.unavailable`        | `UNAVAILABLE`        |
/// | `.notFound`           | `NOT_FOUND`          |
/// | anything else         | `INTERNAL`           |
///
/// The one addition to the verifier's table is `.notFound`, which the balancer uses to tell a chat
/// server it is not (or no longer) registered.
extension ParleyError {
    /// The balancer's side of ``GRPCErrorMapping``: the common table plus NOT_FOUND.
    static let balancerMapping = GRPCErrorMapping(
        service: "the balancer", unreachable: .balancerUnreachable, extraStatuses: [.notFound: .notFound]
    )

    /// The error as the balancer sends it: the mapped status, the wire form as the message.
    var balancerRPCError: RPCError { Self.balancerMapping.rpcError(self) }

    /// The message of every failure to reach the balancer (nothing listening, a restart, a timeout).
    public static let balancerUnreachable = ParleyError(
        .unavailable, "The balancer cannot be reached right now; please try again in a moment."
    )

    /// The `ParleyError` a client reports for `error`, an `RPCError` from a call to the balancer.
    init(balancerError error: RPCError) {
        self = Self.balancerMapping.parleyError(error)
    }
}
