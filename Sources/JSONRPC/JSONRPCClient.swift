#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
import Logging
import NIOCore
import NIOPosix
import ServiceLifecycle
import Synchronization

/// A JSON-RPC 1.0 client over TCP, wire-compatible with Go's `net/rpc/jsonrpc` servers.
///
/// Keeps a pool of ``Configuration/poolSize`` persistent connections to one server and spreads
/// calls over them round robin; each connection carries many calls at once, matched by id.
/// Connections are opened on first use and opened again on the next call after they fail, so the
/// client recovers by itself when the server comes back. Safe to use from many tasks at once.
///
/// Call ``shutdown()`` when done (or run the client as a `Service`, which shuts down on graceful
/// shutdown).
public final class JSONRPCClient: Service, Sendable {
    /// Where the server is and the limits of each call.
    public struct Configuration: Sendable {
        /// The server's host name or address.
        public var host: String
        /// The server's port.
        public var port: Int
        /// How many connections to keep open.
        public var poolSize: Int
        /// How long to wait for a connection to open.
        public var connectTimeout: Duration
        /// How long a call waits for its response once sent, unless the call gives its own timeout.
        public var requestTimeout: Duration
        /// A pooled connection with no call in flight for this long is closed by the client
        /// (and reopened by the next call). Keep it below the server's idle timeout (60 s by
        /// default), so that the server never closes a connection a call is being written to.
        public var idleTimeout: Duration
        /// The largest response accepted, in bytes; a larger one closes the connection.
        public var maximumMessageLength: Int
        /// The logger; metadata keys are prefixed `jsonrpc.`.
        public var logger: Logger

        /// Creates a configuration; every limit has a default.
        public init(
            host: String,
            port: Int,
            poolSize: Int = 2,
            connectTimeout: Duration = .seconds(2),
            requestTimeout: Duration = .seconds(5),
            idleTimeout: Duration = .seconds(30),
            maximumMessageLength: Int = JSONValueFrameDecoder.defaultMaximumFrameLength,
            logger: Logger = Logger(label: "jsonrpc.client")
        ) {
            self.host = host
            self.port = port
            self.poolSize = poolSize
            self.connectTimeout = connectTimeout
            self.requestTimeout = requestTimeout
            self.idleTimeout = idleTimeout
            self.maximumMessageLength = maximumMessageLength
            self.logger = logger
        }
    }

    enum Slot {
        case idle
        case connecting(id: UInt64, EventLoopFuture<any Channel>)
        case ready(id: UInt64, any Channel)
    }

    struct PoolState {
        var slots: [Slot]
        var nextSlot = 0
        var nextConnectionID: UInt64 = 0
        var isShutdown = false
    }

    enum ConnectionAction {
        case use(any Channel)
        case wait(EventLoopFuture<any Channel>)
        case connect(slot: Int, id: UInt64, EventLoopPromise<any Channel>)
        case shutDown
    }

    /// The configuration the client was created with.
    public let configuration: Configuration
    let eventLoopGroup: any EventLoopGroup
    let state: Mutex<PoolState>
    private let nextRequestID = Atomic<UInt64>(0)

    /// Creates a client; no connection is opened until the first call.
    ///
    /// - Parameters:
    ///   - configuration: The server's address and the limits of each call.
    ///   - eventLoopGroup: The event loops for network I/O.
    public init(
        configuration: Configuration,
        eventLoopGroup: any EventLoopGroup = MultiThreadedEventLoopGroup.singleton
    ) {
        precondition(configuration.poolSize > 0, "poolSize must be positive")
        self.configuration = configuration
        self.eventLoopGroup = eventLoopGroup
        self.state = Mutex(PoolState(slots: Array(repeating: .idle, count: configuration.poolSize)))
    }

    deinit {
        for case .ready(_, let channel) in self.state.withLock({ $0.slots }) {
            channel.close(promise: nil)
        }
    }

    /// Calls `method` with `params` and decodes the result as `R`.
    ///
    /// Sends `{"method":METHOD,"params":[PARAMS],"id":N}`. A request that could not be written
    /// because its connection had just closed is retried once on a new connection; a call in flight
    /// when its connection is lost is not retried (the server may have run it).
    ///
    /// - Parameters:
    ///   - method: The method name, such as `"Arith.Multiply"`.
    ///   - params: The single parameter.
    ///   - as: The result type.
    ///   - timeout: How long to wait for the response once sent; ``Configuration/requestTimeout`` if
    ///     `nil`. Opening a connection is bounded separately by ``Configuration/connectTimeout``.
    /// - Throws: ``JSONRPCClientError``, or `CancellationError` if the calling task is cancelled.
    public func call<P: Encodable & Sendable, R: Decodable & Sendable>(
        _ method: String,
        _ params: P,
        as: R.Type = R.self,
        timeout: Duration? = nil
    ) async throws -> R {
        let frame = try await self.roundTrip(method, params, timeout: timeout)
        return try Self.decodeResult(frame, as: R.self, method: method)
    }

    /// Calls `method` and returns the bytes of the response's `result` as they came, without
    /// decoding them: for a caller that passes the JSON of a server it trusts on verbatim (the
    /// bytes are checked for their bracket structure only). Errors as ``call(_:_:as:timeout:)``.
    public func callReturningRawResult<P: Encodable & Sendable>(
        _ method: String,
        _ params: P,
        timeout: Duration? = nil
    ) async throws -> ByteBuffer {
        let frame = try await self.roundTrip(method, params, timeout: timeout)
        let members = JSONTopLevelScanner.values(of: ["result", "error"], in: frame)
        if let error = members?[1], error.readableBytesView.elementsEqual("null".utf8) {
            if let result = members?[0] { return result }
        } else {
            _ = try Self.decodeResult(frame, as: JSONValue.self, method: method)  // throws the remote error
        }
        throw JSONRPCClientError.invalidResponse("the response to \(method) has no result")
    }

    /// Sends one request and waits for the frame that answers it.
    private func roundTrip<P: Encodable & Sendable>(_ method: String, _ params: P, timeout: Duration?) async throws -> ByteBuffer {
        let encoder = JSONRPCMessages.makeEncoder()
        let methodJSON: Data
        let paramsJSON: Data
        do {
            // A method name such as "Board.List" needs no escaping and no JSONEncoder.
            methodJSON = JSONRPCMessages.isPlainName(method.utf8) ? Data(("\"" + method + "\"").utf8) : try encoder.encode(method)
            paramsJSON = try encoder.encode(params)
        } catch {
            throw JSONRPCClientError(code: .invalidRequest, detail: "cannot encode params of \(method): \(error)")
        }
        let timeout = TimeAmount(timeout ?? self.configuration.requestTimeout)

        for attempt in 1...2 {
            let channel = try await self.connection()
            let id = self.nextRequestID.wrappingAdd(1, ordering: .relaxed).oldValue
            let request = JSONRPCMessages.request(methodJSON: methodJSON, paramsJSON: paramsJSON, id: id)
            let frame: ByteBuffer
            do {
                frame = try await self.send(request, id: id, method: method, timeout: timeout, on: channel)
            } catch let error as NotSentError {
                self.configuration.logger.debug(
                    "request not sent, connection closed",
                    metadata: ["jsonrpc.method": "\(method)", "jsonrpc.attempt": "\(attempt)", "error": "\(error.underlying)"]
                )
                continue
            }
            return frame
        }
        throw JSONRPCClientError.unavailable("\(self.address): the connection closed before \(method) could be sent")
    }

    /// Closes every connection; calls in flight fail with ``JSONRPCClientError/Code/connectionClosed``
    /// and later calls with ``JSONRPCClientError/Code/unavailable``.
    public func shutdown() async {
        let channels = self.state.withLock { state -> [any Channel] in
            state.isShutdown = true
            let channels = state.slots.compactMap { slot -> (any Channel)? in
                if case .ready(_, let channel) = slot { return channel }
                return nil
            }
            state.slots = Array(repeating: .idle, count: state.slots.count)
            return channels
        }
        for channel in channels {
            channel.close(promise: nil)
            try? await channel.closeFuture.get()
        }
    }

    /// Waits for graceful shutdown (or cancellation), then calls ``shutdown()``.
    public func run() async throws {
        try? await gracefulShutdown()
        await self.shutdown()
    }

    var address: String {
        "\(self.configuration.host):\(self.configuration.port)"
    }

    private func send(
        _ request: ByteBuffer,
        id: UInt64,
        method: String,
        timeout: TimeAmount,
        on channel: any Channel
    ) async throws -> ByteBuffer {
        let response = channel.eventLoop.makePromise(of: ByteBuffer.self)
        let call = OutboundCall(id: id, method: method, request: request, timeout: timeout, response: response)
        channel.writeAndFlush(call).whenFailure { error in
            // Fails the call if the pipeline never saw it; otherwise the handler already completed it.
            response.fail(NotSentError(underlying: error))
        }
        return try await withTaskCancellationHandler {
            try await response.futureResult.get()
        } onCancel: {
            channel.triggerUserOutboundEvent(CancelCall(id: id), promise: nil)
            response.fail(CancellationError())
        }
    }

    private static func decodeResult<R: Decodable>(_ frame: ByteBuffer, as: R.Type, method: String) throws -> R {
        let body: JSONRPCMessages.ResponseBody<R>
        do {
            body = try JSONDecoder().decode(JSONRPCMessages.ResponseBody<R>.self, from: Data(frame.readableBytesView))
        } catch {
            throw JSONRPCClientError.invalidResponse(
                "cannot decode the response to \(method) as \(R.self): \(JSONRPCMessages.describe(error))"
            )
        }
        switch body.outcome {
        case .success(let result):
            return result
        case .failure(.string(let message)):
            let error = JSONRPCError(wireMessage: message)
            throw JSONRPCClientError(code: .remote(code: error.code, message: error.message), detail: method)
        case .failure(let other):
            let text = (try? JSONRPCMessages.makeEncoder().encode(other)).map { String(decoding: $0, as: UTF8.self) }
            throw JSONRPCClientError(code: .remote(code: "unknown", message: text ?? "error"), detail: method)
        }
    }
}
