import Logging
import NIOCore

/// What a connection tells its session, on the connection's event loop.
protocol ConnectionDelegate: AnyObject, Sendable {
    /// A frame arrived; `zxid` is the zxid of a reply to a numbered request (not pings or notifications).
    func frameReceived(zxid: Int64?)
    /// A watch notification arrived.
    func notificationReceived(_ event: WatcherEvent)
    /// A request with a watch succeeded: the server now holds the watch.
    func register(_ watch: ZooKeeperWatch, nodeExists: Bool)
    /// The server said the session expired.
    func sessionExpiredByServer(_ detail: String)
    /// The watches to set again on a new connection, right after the handshake.
    func setWatchesRequest() -> ZooKeeperRequest?
}

/// A request handed to a connection's pipeline by ``ZooKeeperClient``.
struct ZooKeeperOutboundRequest: Sendable {
    var request: ZooKeeperRequest
    /// The watch to register when the request succeeds.
    var watch: ZooKeeperWatch?
    /// When to give up waiting for the reply (``ZooKeeperError/Code/operationTimeout``).
    var deadline: NIODeadline
    var reply: EventLoopPromise<ZooKeeperReply>
}

/// A reply to a numbered request: its header (with the error code) and its body.
struct ZooKeeperReply: Sendable {
    var header: ReplyHeader
    var body: ByteBuffer
}

/// The request never reached the server: safe to send again on another connection.
struct RequestNotSentError: Error {
    var reason: String
}

/// One connection to a ZooKeeper server, on its event loop, after a ``ZooKeeperFrameDecoder``.
///
/// Sends the `ConnectRequest` when the connection opens and completes the handshake promise with
/// the answer (failing it with ``ZooKeeperError/Code/sessionExpired`` when the server refuses the
/// session). Then numbers requests (xid), matches replies by xid, enforces each request's
/// deadline, registers watches when their request succeeds, passes notifications on, pings every
/// third of the negotiated session timeout, and closes the connection when nothing arrived for two
/// thirds of it. Every request in flight fails with ``ZooKeeperError/Code/connectionLoss`` when the
/// connection goes away.
final class ZooKeeperConnectionHandler: ChannelDuplexHandler {
    typealias InboundIn = ByteBuffer
    typealias OutboundIn = ZooKeeperOutboundRequest
    typealias OutboundOut = ByteBuffer

    /// The server refuses requests larger than its `jute.maxbuffer` (1 MiB - 1) by closing the connection.
    static let maximumRequestLength = 0xfffff

    private enum Phase {
        case waitingForActive
        case handshaking
        case connected(sessionTimeout: TimeAmount)
        case closed
    }

    private struct Pending {
        var request: ZooKeeperRequest
        var watch: ZooKeeperWatch?
        var reply: EventLoopPromise<ZooKeeperReply>
        var timer: Scheduled<Void>
    }

    private let connectRequest: ConnectRequest
    private let handshake: EventLoopPromise<ConnectResponse>
    private let handshakeDeadline: NIODeadline
    private let delegate: any ConnectionDelegate
    private let logger: Logger
    private var phase = Phase.waitingForActive
    private var pending: [Int32: Pending] = [:]
    private var nextXid: Int32 = 1
    private var lastHeard = NIODeadline.now()
    private var handshakeTimer: Scheduled<Void>?
    private var pingTimer: Scheduled<Void>?
    private var silenceTimer: Scheduled<Void>?
    /// Why the handler closed the connection.
    private var failure: ZooKeeperError?

    init(
        connectRequest: ConnectRequest,
        handshake: EventLoopPromise<ConnectResponse>,
        handshakeDeadline: NIODeadline,
        delegate: any ConnectionDelegate,
        logger: Logger
    ) {
        self.connectRequest = connectRequest
        self.handshake = handshake
        self.handshakeDeadline = handshakeDeadline
        self.delegate = delegate
        self.logger = logger
    }

    func handlerAdded(context: ChannelHandlerContext) {
        if context.channel.isActive {
            self.startHandshake(context: context)
        }
    }

    func channelActive(context: ChannelHandlerContext) {
        self.startHandshake(context: context)
        context.fireChannelActive()
    }

    private func startHandshake(context: ChannelHandlerContext) {
        guard case .waitingForActive = self.phase else { return }
        self.phase = .handshaking
        self.lastHeard = context.eventLoop.now
        var frame = context.channel.allocator.buffer(capacity: 64)
        self.connectRequest.writeFrame(to: &frame)
        context.writeAndFlush(Self.wrapOutboundOut(frame), promise: nil)
        self.handshakeTimer = context.eventLoop.assumeIsolated().scheduleTask(deadline: self.handshakeDeadline) {
            self.close(context: context, because: .connectionLoss("the server did not answer the session handshake in time"))
        }
    }

    // MARK: - Reading

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        var frame = Self.unwrapInboundIn(data)
        self.lastHeard = context.eventLoop.now
        do {
            switch self.phase {
            case .handshaking:
                try self.readHandshake(context: context, frame: &frame)
            case .connected:
                try self.readReply(context: context, frame: &frame)
            case .waitingForActive, .closed:
                break
            }
        } catch let error as JuteDecodingError {
            self.close(context: context, because: ZooKeeperError(code: .marshallingError, detail: error.detail))
        } catch {
            self.close(context: context, because: ZooKeeperError(code: .marshallingError, detail: "\(error)"))
        }
    }

    private func readHandshake(context: ChannelHandlerContext, frame: inout ByteBuffer) throws {
        let response = try ConnectResponse.read(from: &frame)
        self.handshakeTimer?.cancel()
        self.handshakeTimer = nil
        guard response.timeoutMilliseconds > 0 else {
            let error = ZooKeeperError.sessionExpired("the server refused to resume the session")
            self.handshake.fail(error)
            self.close(context: context, because: error)
            return
        }
        let timeout = TimeAmount.milliseconds(Int64(response.timeoutMilliseconds))
        self.phase = .connected(sessionTimeout: timeout)
        self.delegate.frameReceived(zxid: nil)
        if let setWatches = self.delegate.setWatchesRequest() {
            self.writeFrame(context: context, request: setWatches, xid: ZooKeeperXid.setWatches)
        }
        self.schedulePing(context: context, interval: .nanoseconds(timeout.nanoseconds / 3))
        self.scheduleSilenceCheck(context: context, limit: .nanoseconds(timeout.nanoseconds * 2 / 3))
        self.handshake.succeed(response)
    }

    private func readReply(context: ChannelHandlerContext, frame: inout ByteBuffer) throws {
        let header = try ReplyHeader.read(from: &frame)
        switch header.xid {
        case ZooKeeperXid.notification:
            let event = try WatcherEvent.read(from: &frame)
            self.delegate.frameReceived(zxid: nil)
            self.delegate.notificationReceived(event)
        case ZooKeeperXid.ping:
            self.delegate.frameReceived(zxid: nil)
        case ZooKeeperXid.setWatches:
            self.delegate.frameReceived(zxid: nil)
            if header.error != 0 {
                self.logger.warning(
                    "the server refused to set the watches again",
                    metadata: ["zookeeper.error": "\(ZooKeeperError.Code(rawValue: header.error))"]
                )
            }
        default:
            self.delegate.frameReceived(zxid: header.zxid > 0 ? header.zxid : nil)
            guard let entry = self.pending.removeValue(forKey: header.xid) else {
                self.logger.debug("dropping a reply that matches no request in flight", metadata: ["zookeeper.xid": "\(header.xid)"])
                return
            }
            entry.timer.cancel()
            if let watch = entry.watch {
                let isNoNodeOnExists = header.error == ZooKeeperError.Code.noNode.rawValue && watch.kind == .exists
                if header.error == 0 || isNoNodeOnExists {
                    self.delegate.register(watch, nodeExists: header.error == 0)
                }
            }
            entry.reply.succeed(ZooKeeperReply(header: header, body: frame))
            if header.error == ZooKeeperError.Code.sessionExpired.rawValue {
                self.delegate.sessionExpiredByServer("the server answered a request with SESSIONEXPIRED")
            }
        }
    }

    // MARK: - Writing

    func write(context: ChannelHandlerContext, data: NIOAny, promise: EventLoopPromise<Void>?) {
        let outbound = Self.unwrapOutboundIn(data)
        guard case .connected = self.phase else {
            let error = RequestNotSentError(reason: "the connection is not ready")
            outbound.reply.fail(error)
            promise?.fail(error)
            return
        }
        let xid = self.nextXid
        self.nextXid = self.nextXid == Int32.max ? 1 : self.nextXid + 1
        var frame = context.channel.allocator.buffer(capacity: 64)
        outbound.request.writeFrame(xid: xid, to: &frame)
        guard frame.readableBytes - 4 <= Self.maximumRequestLength else {
            let error = ZooKeeperError(
                code: .badArguments,
                path: outbound.request.path,
                detail: "the request of \(frame.readableBytes) bytes is larger than the server accepts (\(Self.maximumRequestLength))"
            )
            outbound.reply.fail(error)
            promise?.fail(error)
            return
        }
        let timer = context.eventLoop.assumeIsolated().scheduleTask(deadline: outbound.deadline) {
            self.complete(xid, with: .failure(ZooKeeperError(
                code: .operationTimeout,
                path: outbound.request.path,
                detail: "no reply to \(outbound.request.opCode) within the request timeout"
            )))
        }
        self.pending[xid] = Pending(request: outbound.request, watch: outbound.watch, reply: outbound.reply, timer: timer)
        let written = context.eventLoop.makePromise(of: Void.self)
        written.futureResult.assumeIsolated().whenComplete { result in
            if case .failure(let error) = result {
                self.complete(xid, with: .failure(ZooKeeperError.connectionLoss("could not send the request: \(error)", path: outbound.request.path)))
            }
            promise?.completeWith(result)
        }
        context.writeAndFlush(Self.wrapOutboundOut(frame), promise: written)
    }

    private func writeFrame(context: ChannelHandlerContext, request: ZooKeeperRequest, xid: Int32) {
        var frame = context.channel.allocator.buffer(capacity: 16)
        request.writeFrame(xid: xid, to: &frame)
        context.writeAndFlush(Self.wrapOutboundOut(frame), promise: nil)
    }

    // MARK: - Timers

    private func schedulePing(context: ChannelHandlerContext, interval: TimeAmount) {
        self.pingTimer = context.eventLoop.assumeIsolated().scheduleTask(in: interval) {
            guard case .connected = self.phase else { return }
            self.writeFrame(context: context, request: .ping, xid: ZooKeeperXid.ping)
            self.schedulePing(context: context, interval: interval)
        }
    }

    /// Closes the connection when nothing arrived for `limit`, checking at the moment it would run out.
    private func scheduleSilenceCheck(context: ChannelHandlerContext, limit: TimeAmount) {
        self.silenceTimer = context.eventLoop.assumeIsolated().scheduleTask(deadline: self.lastHeard + limit) {
            guard case .connected = self.phase else { return }
            if self.lastHeard + limit <= context.eventLoop.now {
                self.close(context: context, because: .connectionLoss("no message from the server for \(limit.nanoseconds / 1_000_000) ms"))
            } else {
                self.scheduleSilenceCheck(context: context, limit: limit)
            }
        }
    }

    // MARK: - Closing

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        if let frameError = error as? ZooKeeperFrameError {
            self.close(context: context, because: ZooKeeperError(code: .marshallingError, detail: "\(frameError)"))
        } else {
            self.close(context: context, because: .connectionLoss("\(error)"))
        }
    }

    func channelInactive(context: ChannelHandlerContext) {
        self.shutDown(with: self.failure ?? .connectionLoss("the connection to the server was closed"))
        context.fireChannelInactive()
    }

    func handlerRemoved(context: ChannelHandlerContext) {
        self.shutDown(with: self.failure ?? .connectionLoss("the connection to the server was closed"))
    }

    private func close(context: ChannelHandlerContext, because failure: ZooKeeperError) {
        if self.failure == nil {
            self.failure = failure
            self.logger.debug("closing the connection", metadata: ["zookeeper.reason": "\(failure)"])
        }
        context.close(promise: nil)
    }

    private func complete(_ xid: Int32, with result: Result<ZooKeeperReply, any Error>) {
        guard let entry = self.pending.removeValue(forKey: xid) else { return }
        entry.timer.cancel()
        entry.reply.completeWith(result)
    }

    /// Fails the handshake and every request in flight, and stops the timers.
    private func shutDown(with error: ZooKeeperError) {
        self.phase = .closed
        self.handshakeTimer?.cancel()
        self.pingTimer?.cancel()
        self.silenceTimer?.cancel()
        self.handshake.fail(error)
        let entries = self.pending
        self.pending.removeAll()
        // The request may or may not have been applied, whatever closed the connection.
        let lost = error.code == .connectionLoss ? error : .connectionLoss("the connection closed: \(error)")
        for entry in entries.values {
            entry.timer.cancel()
            var error = lost
            error.path = entry.request.path
            entry.reply.fail(error)
        }
    }
}
