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
        self.handlers[method] = MethodHandler(
            invoke: { frame, id in
                switch Self.decodeParams(P.self, from: frame) {
                case .success(let params): return await Self.run(handler, params, id: id)
                case .failure(let error): return .failure(error, underlying: nil)
                }
            },
            answerAtOnce: nil
        )
    }

    /// Registers `handler` for `method`, as ``register(_:_:)`` does, with `answerAtOnce`, which the
    /// server calls first, on the connection's event loop as the request arrives (while the
    /// connection can take more output): a result it returns (a cache hit, say) is the answer, sent
    /// with no task started, and so is an error it throws; `nil` leaves the call to `handler`, with
    /// the params decoded once. It must be quick and must never block or wait.
    public mutating func register<P: Decodable & Sendable, R: Encodable & Sendable>(
        _ method: String,
        answeringAtOnce answerAtOnce: @escaping @Sendable (P) throws -> R?,
        _ handler: @escaping @Sendable (P) async throws -> R
    ) {
        self.register(method, handler)
        self.handlers[method]?.answerAtOnce = { frame, id in
            let params: P
            switch Self.decodeParams(P.self, from: frame) {
            case .success(let decoded): params = decoded
            case .failure(let error): return .answered(.failure(error, underlying: nil))
            }
            do {
                if let result = try answerAtOnce(params) { return .answered(Self.encode(id: id, result: result)) }
            } catch {
                return .answered(Self.failure(error))
            }
            return .later { await Self.run(handler, params, id: id) }
        }
    }

    private static func run<P, R: Encodable>(_ handler: @Sendable (P) async throws -> R, _ params: P, id: JSONValue) async -> MethodHandler.Outcome {
        do {
            return Self.encode(id: id, result: try await handler(params))
        } catch {
            return Self.failure(error)
        }
    }

    /// The request's single parameter, or why it cannot be decoded.
    private static func decodeParams<P: Decodable>(_: P.Type, from frame: Data) -> Result<P, JSONRPCError> {
        do {
            return .success(try JSONDecoder().decode(JSONRPCMessages.RequestParams<P>.self, from: frame).value)
        } catch let error as JSONRPCMessages.ParamsError {
            return .failure(.invalidParams(error.message))
        } catch {
            return .failure(.invalidParams("cannot decode params: \(JSONRPCMessages.describe(error))"))
        }
    }

    private static func encode(id: JSONValue, result: some Encodable) -> MethodHandler.Outcome {
        do {
            return .success(try JSONRPCMessages.response(id: id, result: result, error: nil, encoder: JSONRPCMessages.makeEncoder()))
        } catch {
            return .failure(.internalError, underlying: error)
        }
    }

    /// A thrown ``JSONRPCErrorConvertible`` is the caller's to see; anything else is internal.
    private static func failure(_ error: any Error) -> MethodHandler.Outcome {
        if let error = error as? any JSONRPCErrorConvertible {
            return .failure(JSONRPCError(code: error.code, message: error.message), underlying: nil)
        }
        return .failure(.internalError, underlying: error)
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

    /// What trying to answer at once came to.
    enum AtOnce: Sendable {
        case answered(Outcome)
        /// Not answered: the rest of the call, its params decoded, to run in a task.
        case later(@Sendable () async -> Outcome)
    }

    let invoke: @Sendable (_ frame: Data, _ id: JSONValue) async -> Outcome
    /// Tried first, on the event loop, when set.
    var answerAtOnce: (@Sendable (_ frame: Data, _ id: JSONValue) -> AtOnce)?
}
