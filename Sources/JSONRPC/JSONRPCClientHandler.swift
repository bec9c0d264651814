import Logging
import NIOCore

/// A call handed to a client connection's pipeline by ``JSONRPCClient``.
struct OutboundCall: Sendable {
    var id: UInt64
    var method: String
    var request: ByteBuffer
    var timeout: TimeAmount
    /// Completed with the response frame, or failed with a ``JSONRPCClientError``, a
    /// ``NotSentError`` or a `CancellationError`.
    var response: EventLoopPromise<ByteBuffer>
}

/// Sent through the pipeline when the calling task is cancelled: forget the call.
struct CancelCall: Sendable {
    var id: UInt64
}

/// The request never reached the socket, so the server cannot have run it: safe to retry.
struct NotSentError: Error {
    var underlying: any Error
}

/// The client side of one connection: writes calls, matches responses to calls by id, enforces
/// each call's timeout, and fails every call in flight at once when the connection goes away.
///
/// Lives on the channel's event loop, after the ``JSONValueFrameDecoder``.
final class JSONRPCClientHandler: ChannelDuplexHandler {
    typealias InboundIn = ByteBuffer
    typealias OutboundIn = OutboundCall
    typealias OutboundOut = ByteBuffer

    private struct Pending {
        var promise: EventLoopPromise<ByteBuffer>
        var timer: Scheduled<Void>
    }

    private var pending: [UInt64: Pending] = [:]
    /// Why the connection is closing, when the handler closed it.
    private var failure: JSONRPCClientError?
    private let logger: Logger
    private let idleTimeout: TimeAmount
    private var idleTimer: Scheduled<Void>?
    private var lastActivity = NIODeadline.now()

    init(logger: Logger, idleTimeout: TimeAmount) {
        self.logger = logger
        self.idleTimeout = idleTimeout
    }

    func handlerAdded(context: ChannelHandlerContext) {
        self.armIdleTimer(context: context, in: self.idleTimeout)
    }

    /// Closes the connection once it has had no call in flight for `idleTimeout`, before the
    /// server's own idle timeout can close it under a call being written. A call that races
    /// with this close fails to be written and is retried on a new connection.
    private func armIdleTimer(context: ChannelHandlerContext, in delay: TimeAmount) {
        self.idleTimer = context.eventLoop.assumeIsolated().scheduleTask(in: delay) {
            let quiet = NIODeadline.now() - self.lastActivity
            if self.pending.isEmpty && quiet >= self.idleTimeout {
                self.close(context: context, because: .connectionClosed("closed after being idle"))
            } else {
                self.armIdleTimer(context: context, in: self.pending.isEmpty ? self.idleTimeout - quiet : self.idleTimeout)
            }
        }
    }

    func write(context: ChannelHandlerContext, data: NIOAny, promise: EventLoopPromise<Void>?) {
        let call = Self.unwrapOutboundIn(data)
        self.lastActivity = .now()
        let id = call.id
        let timer = context.eventLoop.assumeIsolated().scheduleTask(in: call.timeout) {
            self.complete(id, with: .failure(JSONRPCClientError.timeout("no response to \(call.method) within \(call.timeout)")))
        }
        self.pending[id] = Pending(promise: call.response, timer: timer)

        let written = context.eventLoop.makePromise(of: Void.self)
        written.futureResult.assumeIsolated().whenComplete { result in
            if case .failure(let error) = result {
                self.complete(id, with: .failure(NotSentError(underlying: error)))
            }
            promise?.completeWith(result)
        }
        context.writeAndFlush(Self.wrapOutboundOut(call.request), promise: written)
    }

    func userOutboundEventTriggered(context: ChannelHandlerContext, event: Any, promise: EventLoopPromise<Void>?) {
        if let cancel = event as? CancelCall {
            self.complete(cancel.id, with: .failure(CancellationError()))
            promise?.succeed()
        } else {
            context.triggerUserOutboundEvent(event, promise: promise)
        }
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        let frame = Self.unwrapInboundIn(data)
        // Only the id is read here (servers write it first): the caller decodes the rest.
        guard let members = JSONTopLevelScanner.values(of: ["id"], in: frame) else {
            self.close(context: context, because: .invalidResponse("the server sent a message that is not a JSON-RPC response"))
            return
        }
        // `nil` when missing or not an unsigned integer: matches no call.
        let id = members[0].flatMap { UInt64(String(buffer: $0)) }
        guard let id, self.pending[id] != nil else {
            // Most likely the late reply to a call that timed out or was cancelled.
            self.logger.debug("dropping a response that matches no call in flight", metadata: ["jsonrpc.id": "\(id.map(String.init) ?? "none")"])
            return
        }
        self.complete(id, with: .success(frame))
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        if error is JSONRPCFrameError {
            self.close(context: context, because: .invalidResponse("\(error)"))
        } else {
            self.close(context: context, because: .connectionClosed("\(error)"))
        }
    }

    func channelInactive(context: ChannelHandlerContext) {
        self.failAll(with: self.failure ?? .connectionClosed("the connection was closed"))
        context.fireChannelInactive()
    }

    func handlerRemoved(context: ChannelHandlerContext) {
        self.idleTimer?.cancel()
        self.failAll(with: self.failure ?? .connectionClosed("the connection was closed"))
    }

    private func close(context: ChannelHandlerContext, because failure: JSONRPCClientError) {
        if self.failure == nil {
            self.failure = failure
            self.logger.debug("closing connection", metadata: ["jsonrpc.reason": "\(failure)"])
        }
        context.close(promise: nil)
    }

    private func complete(_ id: UInt64, with result: Result<ByteBuffer, any Error>) {
        guard let entry = self.pending.removeValue(forKey: id) else {
            return
        }
        self.lastActivity = .now()
        entry.timer.cancel()
        entry.promise.completeWith(result)
    }

    private func failAll(with error: JSONRPCClientError) {
        let entries = self.pending
        self.pending.removeAll()
        for entry in entries.values {
            entry.timer.cancel()
            entry.promise.fail(error)
        }
    }
}
