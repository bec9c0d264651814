#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
import NIOCore

/// The methods a ``JSONRPCServer`` serves, each a name such as `"Arith.Multiply"` and an async handler.
///
/// Build it before creating the server:
///
/// ```swift
/// var handlers = JSONRPCHandlerRegistry()
/// handlers.register("Arith.Multiply") { (args: Args) in args.A * args.B }
/// let server = JSONRPCServer(configuration: .init(port: 1234), handlers: handlers)
/// ```
public struct JSONRPCHandlerRegistry: Sendable {
    private var handlers: [String: MethodHandler] = [:]

    /// Creates an empty registry.
    public init() {}

    /// Registers `handler` for `method`, replacing any handler registered before under that name.
    ///
    /// The request's single parameter (`"params":[ARG]`) is decoded as `P`; the value returned is
    /// encoded as the response's `result`. A thrown ``JSONRPCErrorConvertible`` is sent to the caller
    /// as `"code: message"`; any other error is logged and sent as `"internal: internal error"`.
    public mutating func register<P: Decodable & Sendable, R: Encodable & Sendable>(
        _ method: String,
        _ handler: @escaping @Sendable (P) async throws -> R
    ) {
        self.handlers[method] = MethodHandler { frame, id in
            let params: P
            do {
                params = try JSONDecoder().decode(JSONRPCMessages.RequestParams<P>.self, from: frame).value
            } catch let error as JSONRPCMessages.ParamsError {
                return .failure(.invalidParams(error.message), underlying: nil)
            } catch {
                return .failure(.invalidParams("cannot decode params: \(JSONRPCMessages.describe(error))"), underlying: nil)
            }
            let result: R
            do {
                result = try await handler(params)
            } catch let error as any JSONRPCErrorConvertible {
                return .failure(JSONRPCError(code: error.code, message: error.message), underlying: nil)
            } catch {
                return .failure(.internalError, underlying: error)
            }
            do {
                let encoder = JSONRPCMessages.makeEncoder()
                return .success(try JSONRPCMessages.response(id: id, result: result, error: nil, encoder: encoder))
            } catch {
                return .failure(.internalError, underlying: error)
            }
        }
    }

    /// The names of the registered methods, sorted.
    public var methods: [String] {
        self.handlers.keys.sorted()
    }

    func handler(for method: String) -> MethodHandler? {
        self.handlers[method]
    }
}

/// A type-erased handler: decodes the parameter from the request frame, runs, encodes the response.
struct MethodHandler: Sendable {
    /// What running a handler produced.
    enum Outcome: Sendable {
        /// The complete response message, ready to write.
        case success(ByteBuffer)
        /// An error to send; `underlying` is set for internal errors, which are logged.
        case failure(JSONRPCError, underlying: (any Error)?)
    }

    let invoke: @Sendable (_ frame: Data, _ id: JSONValue) async -> Outcome
}
