import GRPCCore
import ParleyCore

/// How a ``ParleyError`` crosses the `BalancerService` gRPC boundary, both ways.
///
/// The same scheme as the verifier's (`ParleyVerifier/ParleyError+GRPC.swift`), whose helpers are
/// internal to that module: the status code is chosen from the error's code and the message is the
/// error's wire form, `"code: message"`, which the client parses back into the very same error.
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
    /// The gRPC status code this error is sent with by the balancer.
    var balancerRPCCode: RPCError.Code {
        switch self.code {
        case .invalidInput: .invalidArgument
        case .invalidCredentials: .permissionDenied
        case .rateLimited: .resourceExhausted
        case .unavailable: .unavailable
        case .notFound: .notFound
        default: .internalError
        }
    }

    /// The error as the balancer sends it: the mapped status, the wire form as the message.
    var balancerRPCError: RPCError {
        RPCError(code: self.balancerRPCCode, message: self.description)
    }

    /// The message of every failure to reach the balancer (nothing listening, a restart, a timeout).
    public static let balancerUnreachable = ParleyError(
        .unavailable, "The balancer cannot be reached right now; please try again in a moment."
    )

    /// The `ParleyError` a client reports for `error`, an `RPCError` from a call to the balancer.
    ///
    /// A message in the wire form of a known code is the server's `ParleyError`, rebuilt exactly.
    /// Anything else came from the gRPC stack: failures to connect, a lost connection, a missed
    /// deadline, a server shutting down or a reset stream are ``balancerUnreachable``;
    /// `RESOURCE_EXHAUSTED` without a wire form (a message over a size limit) is `.tooLarge`; the
    /// rest (an unknown method, a broken reply) is `.internal`.
    init(balancerError error: RPCError) {
        if let parleyError = ParleyError(balancerWire: error.message) {
            self = parleyError
            return
        }
        switch error.code {
        case .unavailable, .deadlineExceeded, .cancelled, .aborted:
            self = .balancerUnreachable
        case .resourceExhausted:
            self.init(.tooLarge, "The request is too large for the balancer.")
        default:
            self.init(.internal, "The balancer gave an unexpected answer; please try again later.")
        }
    }

    /// Parses `"code: message"` only when `code` is one of the known codes.
    init?(balancerWire wire: String) {
        guard let range = wire.range(of: ": "), Code(rawValue: String(wire[..<range.lowerBound])) != nil else {
            return nil
        }
        self.init(wire: wire)
    }
}
