import Logging
import NIOCore

/// Commands handed to a connection's pipeline by ``RedisClient``: sent together, answered together.
struct RedisRequest: Sendable {
    var commands: [RESPCommand]
    /// The command name, or "pipeline of N commands", for messages and logs.
    var name: String
    var timeout: TimeAmount
    /// Completed with one reply per command, in order, or failed with a ``RedisClientError``,
    /// a ``NotSentError`` or a `CancellationError`.
    var promise: EventLoopPromise<[RESPValue]>
}

/// The request never reached the socket, so the server cannot have run it: safe to retry.
struct NotSentError: Error {
    var underlying: any Error
}

/// The client side of one connection: writes requests, hands the replies (which Redis sends in
/// the order of the commands) to the requests in order, enforces each request's timeout, and fails
/// every request in flight at once when the connection goes away.
///
/// Lives on the channel's event loop, after the ``RESPReplyDecoder``. Because replies are matched
/// by position, a request that times out cannot be skipped: the connection is closed instead.
/// A request whose caller was cancelled keeps its place; its replies are dropped on arrival.
/// RESP3 push messages are not replies: they are dropped.
final class RedisConnectionHandler: ChannelDuplexHandler {
    typealias InboundIn = RESPValue
    typealias OutboundIn = RedisRequest
    typealias OutboundOut = ByteBuffer

    private struct Pending {
        var id: UInt64
        var name: String
        var remaining: Int
        var replies: [RESPValue]
        var promise: EventLoopPromise<[RESPValue]>
        var timer: Scheduled<Void>?
    }

    /// Requests sent and not fully answered, oldest first.
    private var pending = CircularBuffer<Pending>(initialCapacity: 16)
    private var nextID: UInt64 = 0
    /// Why the connection is closing, once the handler closed it or saw it close.
    private var failure: RedisClientError?
    private let address: String
    private let logger: Logger

    init(address: String, logger: Logger) {
        self.address = address
        self.logger = logger
    }

    func write(context: ChannelHandlerContext, data: NIOAny, promise: EventLoopPromise<Void>?) {
        let request = Self.unwrapOutboundIn(data)
        if let failure = self.failure {
            request.promise.fail(NotSentError(underlying: failure))
            promise?.fail(failure)
            return
        }
        guard !request.commands.isEmpty else {
            request.promise.succeed([])
            promise?.succeed()
            return
        }
        self.nextID += 1
        let id = self.nextID
        var buffer = context.channel.allocator.buffer(capacity: 64 * request.commands.count)
        for command in request.commands {
            RESPCommandEncoder.encode(command, into: &buffer)
        }
        let timer = context.eventLoop.assumeIsolated().scheduleTask(in: request.timeout) {
            self.timedOut(id, name: request.name, after: request.timeout, context: context)
        }
        var replies: [RESPValue] = []
        replies.reserveCapacity(request.commands.count)
        self.pending.append(
            Pending(id: id, name: request.name, remaining: request.commands.count, replies: replies, promise: request.promise, timer: timer)
        )

        let written = context.eventLoop.makePromise(of: Void.self)
        written.futureResult.assumeIsolated().whenComplete { result in
            if case .failure(let error) = result {
                // Some bytes may be on the wire: replies can no longer be matched, so close (first,
                // so that a retry does not pick this connection again).
                let entry = self.remove(id)
                self.close(context: context, because: .connectionFailed("cannot write to \(self.address): \(error)"))
                entry?.promise.fail(NotSentError(underlying: error))
            }
            promise?.completeWith(result)
        }
        context.writeAndFlush(Self.wrapOutboundOut(buffer), promise: written)
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        let value = Self.unwrapInboundIn(data)
        if case .push = value {
            self.logger.debug("dropping a RESP3 push message", metadata: ["redis.address": "\(self.address)"])
            return
        }
        guard !self.pending.isEmpty else {
            self.close(context: context, because: .protocolError("\(self.address) sent a reply with no command in flight"))
            return
        }
        let first = self.pending.startIndex
        self.pending[first].replies.append(value)
        self.pending[first].remaining -= 1
        if self.pending[first].remaining == 0 {
            let done = self.pending.removeFirst()
            done.timer?.cancel()
            done.promise.succeed(done.replies)
        }
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        if let error = error as? RESPDecodingError {
            self.close(context: context, because: .protocolError("\(error) from \(self.address)"))
        } else {
            self.close(context: context, because: .connectionFailed("connection to \(self.address) failed: \(error)"))
        }
    }

    func channelInactive(context: ChannelHandlerContext) {
        self.failAll(with: self.closedError())
        context.fireChannelInactive()
    }

    func handlerRemoved(context: ChannelHandlerContext) {
        self.failAll(with: self.closedError())
    }

    private func closedError() -> RedisClientError {
        if let failure = self.failure {
            return failure
        }
        let failure = RedisClientError.connectionFailed(
            "the connection to \(self.address) closed with the command in flight; it may or may not have run"
        )
        self.failure = failure
        return failure
    }

    private func timedOut(_ id: UInt64, name: String, after timeout: TimeAmount, context: ChannelHandlerContext) {
        guard self.pending.contains(where: { $0.id == id }) else {
            return
        }
        let milliseconds = timeout.nanoseconds / 1_000_000
        self.close(
            context: context,
            because: .timeout("no reply to \(name) from \(self.address) within \(milliseconds) ms; the connection was closed")
        )
    }

    /// Closes the connection and fails every request in flight with `failure`. The channel is
    /// closed first, so a caller that retries sees it inactive and opens a new one.
    private func close(context: ChannelHandlerContext, because failure: RedisClientError) {
        if self.failure == nil {
            self.failure = failure
            self.logger.debug("closing connection", metadata: ["redis.address": "\(self.address)", "redis.reason": "\(failure)"])
        }
        context.close(promise: nil)
        self.failAll(with: self.failure ?? failure)
    }

    private func remove(_ id: UInt64) -> Pending? {
        guard let index = self.pending.firstIndex(where: { $0.id == id }) else {
            return nil
        }
        let entry = self.pending.remove(at: index)
        entry.timer?.cancel()
        return entry
    }

    private func failAll(with error: RedisClientError) {
        let entries = self.pending
        self.pending.removeAll()
        for entry in entries {
            entry.timer?.cancel()
            entry.promise.fail(error)
        }
    }
}
