import GRPCCore
import Logging
import ParleyCore

/// How a `ParleyError` crosses one of Parley's gRPC services, both ways, and how a client calls it.
///
/// The server sends an `RPCError` whose status is chosen from the error's code and whose message is
/// the error's wire form, `"code: message"`; the client parses that message back into the very same
/// `ParleyError`. Statuses: `.invalidInput` → INVALID_ARGUMENT, `.invalidCredentials` →
/// PERMISSION_DENIED, `.rateLimited` → RESOURCE_EXHAUSTED, `.unavailable` → UNAVAILABLE, the
/// service's own additions (``extraStatuses``), anything else INTERNAL.
///
/// A failure of the gRPC stack itself (nothing listening, a lost connection, a missed deadline, a
/// server shutting down, a reset stream) is ``unreachable``; RESOURCE_EXHAUSTED without a wire form
/// (a message over a size limit) is `.tooLarge`; the rest (an unknown method, a broken reply) is
/// `.internal`, since the user cannot fix it.
public struct GRPCErrorMapping: Sendable {
    /// The service as a user reads it: "the verification service", "the balancer".
    public let service: String
    /// What every failure to reach the service is.
    public let unreachable: ParleyError
    /// Statuses beyond the common table.
    public let extraStatuses: [ParleyError.Code: RPCError.Code]

    /// Creates the mapping of one service.
    public init(service: String, unreachable: ParleyError, extraStatuses: [ParleyError.Code: RPCError.Code] = [:]) {
        self.service = service
        self.unreachable = unreachable
        self.extraStatuses = extraStatuses
    }

    /// The error as the server sends it.
    public func rpcError(_ error: ParleyError) -> RPCError {
        let status: RPCError.Code =
            switch error.code {
            case .invalidInput: .invalidArgument
            case .invalidCredentials: .permissionDenied
            case .rateLimited: .resourceExhausted
            case .unavailable: .unavailable
            default: self.extraStatuses[error.code] ?? .internalError
            }
        return RPCError(code: status, message: error.description)
    }

    /// The `ParleyError` a client reports for `error`, from a call to the service.
    public func parleyError(_ error: RPCError) -> ParleyError {
        if let parleyError = ParleyError(strictWire: error.message) {
            return parleyError
        }
        switch error.code {
        case .unavailable, .deadlineExceeded, .cancelled, .aborted:
            return self.unreachable
        case .resourceExhausted:
            return ParleyError(.tooLarge, "The request is too large for \(self.service).")
        default:
            return ParleyError(.internal, "\(self.service.prefix(1).uppercased())\(self.service.dropFirst()) gave an unexpected answer; please try again later.")
        }
    }

    /// Runs one call of a client: with `timeout`, failing at once while the connection is down
    /// (instead of queueing until the deadline), replies limited to `maxResponseBytes`, and every
    /// error as a `ParleyError`. Failures of the gRPC stack are logged; the service's own errors
    /// are the user's business.
    public func call<Response: Sendable>(
        _ method: String,
        timeout: Duration,
        maxResponseBytes: Int,
        logger: Logger,
        _ body: (CallOptions) async throws -> Response
    ) async throws -> Response {
        var options = CallOptions.defaults
        options.timeout = timeout
        options.waitForReady = false
        options.maxResponseMessageBytes = maxResponseBytes
        do {
            return try await body(options)
        } catch let error as RPCError {
            try Task.checkCancellation()
            if ParleyError(strictWire: error.message) == nil {
                logger.warning(
                    "\(self.service) call failed",
                    metadata: ["grpc.method": "\(method)", "grpc.status": "\(error.code)", "error": "\(error)"]
                )
            }
            throw self.parleyError(error)
        } catch is CancellationError {
            throw CancellationError()
        } catch {
            // A RuntimeError: the client is not running any more (shut down).
            try Task.checkCancellation()
            logger.warning("\(self.service) call failed", metadata: ["grpc.method": "\(method)", "error": "\(error)"])
            throw self.unreachable
        }
    }
}

extension ParleyError {
    /// Parses `"code: message"` only when `code` is one of the known codes (unlike
    /// `ParleyError(wire:)`, which turns any other text into `.internal`).
    public init?(strictWire wire: String) {
        guard let range = wire.range(of: ": "), Code(rawValue: String(wire[..<range.lowerBound])) != nil else {
            return nil
        }
        self.init(wire: wire)
    }
}
