import Logging
import NIOCore

/// Closes a server connection that has nothing in flight and sent no complete message for
/// `timeout`.
///
/// Sits after the frame decoder, so it sees complete requests inbound and responses outbound. It
/// counts requests in flight (each request gets exactly one response): while any is in flight the
/// connection is busy, not idle, however long the handler takes. A client that sends half a request
/// and stalls sends no complete message, so it is closed once the timeout passes.
final class IdleConnectionHandler: ChannelDuplexHandler {
    typealias InboundIn = ByteBuffer
    typealias InboundOut = ByteBuffer
    typealias OutboundIn = ByteBuffer
    typealias OutboundOut = ByteBuffer

    private let timeout: TimeAmount
    private let logger: Logger
    private var inFlight = 0
    private var timer: Scheduled<Void>?

    init(timeout: TimeAmount, logger: Logger) {
        self.timeout = timeout
        self.logger = logger
    }

    func handlerAdded(context: ChannelHandlerContext) {
        if context.channel.isActive {
            self.arm(context: context)
        }
    }

    func handlerRemoved(context: ChannelHandlerContext) {
        self.disarm()
    }

    func channelActive(context: ChannelHandlerContext) {
        self.arm(context: context)
        context.fireChannelActive()
    }

    func channelInactive(context: ChannelHandlerContext) {
        self.disarm()
        context.fireChannelInactive()
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        self.inFlight += 1
        self.disarm()
        context.fireChannelRead(data)
    }

    func write(context: ChannelHandlerContext, data: NIOAny, promise: EventLoopPromise<Void>?) {
        self.inFlight = max(0, self.inFlight - 1)
        if self.inFlight == 0 {
            self.arm(context: context)
        }
        context.write(data, promise: promise)
    }

    private func arm(context: ChannelHandlerContext) {
        self.disarm()
        self.timer = context.eventLoop.assumeIsolated().scheduleTask(in: self.timeout) { [logger] in
            let peer = context.channel.remoteAddress?.description ?? "?"
            logger.debug("closing idle connection", metadata: ["jsonrpc.peer": "\(peer)"])
            context.close(promise: nil)
        }
    }

    private func disarm() {
        self.timer?.cancel()
        self.timer = nil
    }
}
