#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
import Logging
import Metrics
import NIOCore
import ServiceLifecycle

extension JSONRPCServer {
    /// A request frame, with its head when a scan could read it (``JSONRPCMessages/RequestHead/init(scanning:)``).
    struct Request: Sendable {
        var frame: ByteBuffer
        var head: JSONRPCMessages.RequestHead?
        /// The rest of the call, when an answer at once was tried and did not answer.
        var later: (@Sendable () async -> MethodHandler.Outcome)? = nil
    }

    /// What to do with one request frame.
    enum Disposition: Sendable {
        /// Write this response.
        case respond(ByteBuffer)
        /// The frame is not a request (not JSON, or no id to answer to): close the connection.
        case close(reason: String)
    }

    /// Serves one connection until the peer closes it, it misbehaves, it idles out, or the server
    /// shuts down. Never throws: a connection's failure is its own.
    func handleConnection(_ connection: NIOAsyncChannel<Request, ByteBuffer>) async {
        let channel = connection.channel
        var logger = self.logger
        logger[metadataKey: "jsonrpc.peer"] = "\(channel.remoteAddress?.description ?? "?")"
        logger.debug("connection opened")
        do {
            try await connection.executeThenClose { inbound, outbound in
                await withTaskCancellationHandler {
                    await withGracefulShutdownHandler {
                        await self.serveRequests(inbound: inbound, outbound: outbound, channel: channel, logger: logger)
                    } onGracefulShutdown: {
                        // Stop reading new requests; the calls in flight still get their responses.
                        channel.close(mode: .input, promise: nil)
                    }
                } onCancel: {
                    channel.close(promise: nil)
                }
            }
        } catch {
            logger.debug("connection closed with error", metadata: ["error": "\(error)"])
        }
        logger.debug("connection closed")
    }

    private func serveRequests(
        inbound: NIOAsyncChannelInboundStream<Request>,
        outbound: NIOAsyncChannelOutboundWriter<ByteBuffer>,
        channel: any Channel,
        logger: Logger
    ) async {
        let limiter = RequestLimiter(limit: self.configuration.maxConcurrentRequestsPerConnection)
        await withDiscardingTaskGroup { group in
            do {
                for try await request in inbound {
                    await limiter.acquire()
                    group.addTask {
                        defer { limiter.release() }
                        let disposition = await self.process(request, logger: logger)
                        if Task.isCancelled {
                            // The server is stopping abruptly: the connection is closing, no answer.
                            return
                        }
                        switch disposition {
                        case .respond(let response):
                            try? await outbound.write(response)
                        case .close(let reason):
                            logger.notice("closing connection", metadata: ["jsonrpc.reason": "\(reason)"])
                            channel.close(promise: nil)
                        }
                    }
                }
            } catch JSONRPCFrameError.truncatedFrame {
                // End of input in the middle of a message: answer the calls already in flight.
                logger.debug("input ended in the middle of a message")
            } catch {
                logger.notice("closing connection", metadata: ["jsonrpc.reason": "\(error)"])
                channel.close(promise: nil)
                group.cancelAll()
            }
        }
    }

    /// Decodes one request, runs its handler and encodes the response.
    func process(_ request: Request, logger: Logger) async -> Disposition {
        let start = ContinuousClock.now
        let head: JSONRPCMessages.RequestHead
        do {
            head = try request.head ?? JSONDecoder().decode(JSONRPCMessages.RequestHead.self, from: Data(request.frame.readableBytesView))
        } catch {
            self.record(method: "unknown", ok: false, since: start)
            return .close(reason: "message is not a JSON-RPC request object: \(JSONRPCMessages.describe(error))")
        }
        guard let id = head.id else {
            self.record(method: "unknown", ok: false, since: start)
            return .close(reason: "request has no id")
        }
        let encoder = JSONRPCMessages.makeEncoder()
        guard let method = head.method else {
            self.record(method: "unknown", ok: false, since: start)
            let error = JSONRPCError.invalidRequest(head.methodProblem)
            return .respond(JSONRPCMessages.errorResponse(id: id, error: error, encoder: encoder))
        }
        guard let handler = self.handlers.handler(for: method) else {
            self.record(method: "unknown", ok: false, since: start)
            logger.debug("unknown method", metadata: ["jsonrpc.method": "\(method)"])
            let error = JSONRPCError.methodNotFound(method)
            return .respond(JSONRPCMessages.errorResponse(id: id, error: error, encoder: encoder))
        }
        let outcome: MethodHandler.Outcome
        if let later = request.later {
            outcome = await later()
        } else {
            outcome = await handler.invoke(Data(request.frame.readableBytesView), id)
        }
        return .respond(self.response(to: outcome, id: id, method: method, since: start, logger: logger))
    }

    /// The response to a handler's outcome; records its metrics, and logs an internal error.
    func response(
        to outcome: MethodHandler.Outcome, id: JSONValue, method: String, since start: ContinuousClock.Instant, logger: Logger
    ) -> ByteBuffer {
        switch outcome {
        case .success(let response):
            self.record(method: method, ok: true, since: start)
            return response
        case .failure(let error, let underlying):
            self.record(method: method, ok: false, since: start)
            if let underlying {
                logger.error(
                    "handler failed",
                    // `description`, not `String(reflecting:)`: errors such as postgres-nio's keep
                    // bound values (which may be secrets) out of their description.
                    metadata: ["jsonrpc.method": "\(method)", "error": "\(type(of: underlying)): \(underlying)"]
                )
            }
            return JSONRPCMessages.errorResponse(id: id, error: error, encoder: JSONRPCMessages.makeEncoder())
        }
    }

    private func record(method: String, ok: Bool, since start: ContinuousClock.Instant) {
        let (timer, counter) = self.metrics.withLock { metrics in
            let key = MetricsKey(method: method, ok: ok)
            if let found = metrics[key] { return found }
            let dimensions = [("method", method), ("outcome", ok ? "ok" : "error")]
            let made = (
                Metrics.Timer(label: "jsonrpc_server_request_duration_seconds", dimensions: dimensions, preferredDisplayUnit: .seconds),
                Counter(label: "jsonrpc_server_requests_total", dimensions: dimensions)
            )
            metrics[key] = made
            return made
        }
        timer.record(duration: ContinuousClock.now - start)
        counter.increment()
    }

    /// A method and outcome: one timer and one counter each, made once (a lookup in the metrics
    /// factory's registry on every call was 1.5% of a request's CPU).
    struct MetricsKey: Hashable {
        var method: String
        var ok: Bool
    }
}

/// Reads each request's head, answers on the event loop the requests whose method can answer at
/// once (``JSONRPCHandlerRegistry/register(_:answeringAtOnce:_:)``: a cache hit, say), and passes
/// every other request on to the connection's task. An answer at once saves the hops to a task
/// and back. Only while the channel is writable: a client that does not read its answers gets
/// the rest through the task, whose writes wait for it, and which stops reading at the limit of
/// calls in flight.
final class AnswerAtOnceHandler: ChannelInboundHandler {
    typealias InboundIn = ByteBuffer
    typealias InboundOut = JSONRPCServer.Request
    typealias OutboundOut = ByteBuffer

    private let server: JSONRPCServer
    private var unflushed = false

    init(server: JSONRPCServer) {
        self.server = server
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        let start = ContinuousClock.now
        let frame = Self.unwrapInboundIn(data)
        let head = JSONRPCMessages.RequestHead(scanning: frame)
        guard context.channel.isWritable, let head, let id = head.id, let method = head.method,
            let answerAtOnce = self.server.handlers.handler(for: method)?.answerAtOnce
        else {
            context.fireChannelRead(Self.wrapInboundOut(JSONRPCServer.Request(frame: frame, head: head)))
            return
        }
        let outcome: MethodHandler.Outcome
        switch answerAtOnce(Data(frame.readableBytesView), id) {
        case .answered(let answer):
            outcome = answer
        case .later(let rest):
            context.fireChannelRead(Self.wrapInboundOut(JSONRPCServer.Request(frame: frame, head: head, later: rest)))
            return
        }
        let response = self.server.response(to: outcome, id: id, method: method, since: start, logger: self.server.logger)
        context.write(Self.wrapOutboundOut(response), promise: nil)
        self.unflushed = true
    }

    func channelReadComplete(context: ChannelHandlerContext) {
        if self.unflushed {
            self.unflushed = false
            context.flush()
        }
        context.fireChannelReadComplete()
    }
}
